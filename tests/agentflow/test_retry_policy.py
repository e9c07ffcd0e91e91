"""Retries: composed policies (called the reference's way and tenacity's), the shorthands,
custom policies, step timeouts, `ctx.retry_info()` and @catch_error recovery. How they
decide next to LlamaIndex Workflows itself: test_retry_policy_compat.py."""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import tenacity
from tenacity import RetryCallState, RetryError, Retrying
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from agentflow import Context, Workflow, catch_error, step
from agentflow.errors import StepTimeoutError, WorkflowValidationError
from agentflow.events import Event, StartEvent, StepFailedEvent, StopEvent
from agentflow.retry_policy import (
    ConstantDelayRetryPolicy,
    ExponentialBackoffRetryPolicy,
    RetryInfo,
    RetryPolicy,
    retry_always,
    retry_if_exception_message,
    retry_if_exception_type,
    retry_never,
    retry_policy,
    stop_after_attempt,
    stop_after_delay,
    stop_before_delay,
    stop_never,
    wait_chain,
    wait_exponential,
    wait_exponential_jitter,
    wait_fixed,
    wait_full_jitter,
    wait_incrementing,
    wait_random,
    wait_random_exponential,
)
from agentflow.runtime import retries


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


def test_composed_policy_follows_tenacity_semantics() -> None:
    policy = retry_policy(
        retry=retry_if_exception_type(Flaky),
        wait=wait_fixed(0.25),
        stop=stop_after_attempt(3) | stop_after_delay(10),
    )
    assert policy.next(0.1, 1, Flaky()) == 0.25
    assert policy.next(0.1, 2, Flaky()) == 0.25
    assert policy.next(0.1, 3, Flaky()) is None  # three attempts made
    assert policy.next(10.5, 1, Flaky()) is None  # out of time
    assert policy.next(0.1, 1, Fatal()) is None  # not retried at all


def test_stop_before_delay_counts_the_coming_sleep() -> None:
    policy = retry_policy(wait=wait_fixed(0.5), stop=stop_before_delay(5))
    assert policy.next(4.4, 1, Flaky()) == 0.5  # the retry would start at 4.9 s
    assert policy.next(4.6, 1, Flaky()) is None  # it would start at 5.1 s, past the limit


def _tenacity_decision(
    stop: stop_base, wait: wait_base, elapsed: float, attempts: int, error: Exception
) -> float | None:
    """What tenacity's own retry loop decides after `attempts` failed attempts, the last one
    ending `elapsed` seconds after the first began: the sleep before the next, or None."""
    retrying = Retrying(stop=stop, wait=wait, retry=retry_if_exception_type(Flaky))
    retrying.begin()
    state = RetryCallState(retrying, fn=None, args=(), kwargs={})
    state.attempt_number = attempts
    state.set_exception((type(error), error, None))
    state.outcome_timestamp = state.start_time + elapsed
    try:
        action = retrying.iter(state)
    except RetryError:
        return None
    return float(action)


@pytest.mark.parametrize(
    ("stop", "wait"),
    [
        (stop_before_delay(5), wait_fixed(0.5)),
        (stop_before_delay(5), wait_exponential(multiplier=1, max=8)),
        (stop_after_delay(5), wait_fixed(0.5)),
        (stop_after_attempt(4) | stop_before_delay(5), wait_incrementing(start=1, increment=1)),
        (stop_after_attempt(3), wait_chain(wait_fixed(1), wait_fixed(2))),
    ],
)
@pytest.mark.parametrize("elapsed", [0.0, 4.4, 4.5, 4.6, 7.0])
@pytest.mark.parametrize("attempts", [1, 3])
def test_a_composed_policy_decides_as_tenacitys_own_loop(
    stop: stop_base, wait: wait_base, elapsed: float, attempts: int
) -> None:
    policy = retry_policy(retry=retry_if_exception_type(Flaky), wait=wait, stop=stop)
    expected = _tenacity_decision(stop, wait, elapsed, attempts, Flaky())
    assert policy.next(elapsed, attempts, Flaky()) == expected
    assert policy.next(elapsed, attempts, Fatal()) is None


def test_exponential_jitter_stays_within_its_cap() -> None:
    policy = retry_policy(
        wait=wait_exponential_jitter(initial=1, max=4), stop=stop_after_attempt(9)
    )
    delays = [policy.next(0, attempt, Flaky()) for attempt in range(1, 9)]
    assert all(delay is not None and 0 <= delay <= 4 for delay in delays)


def test_shorthand_policies_warn_and_keep_their_keywords() -> None:
    with pytest.warns(DeprecationWarning, match="ConstantDelayRetryPolicy is deprecated"):
        constant = ConstantDelayRetryPolicy(delay=2, maximum_attempts=2)
    assert constant.next(0, 1, Flaky()) == 2
    assert constant.next(0, 2, Flaky()) is None
    with pytest.warns(DeprecationWarning, match="ExponentialBackoffRetryPolicy is deprecated"):
        backoff = ExponentialBackoffRetryPolicy(
            initial_delay=1, multiplier=3, max_delay=5, maximum_attempts=4, jitter=False
        )
    assert [backoff.next(0, n, Flaky()) for n in (1, 2, 3, 4)] == [1, 3, 5, None]


def test_the_shorthands_warning_names_the_positional_order_that_changed() -> None:
    # agentflow's shorthands once took (delay, maximum_attempts); the reference's order
    # wins, so `ConstantDelayRetryPolicy(5, 3)` is 5 attempts 3 s apart, and says so.
    with pytest.warns(DeprecationWarning, match=re.escape("(maximum_attempts, delay)")) as one:
        constant = ConstantDelayRetryPolicy(5, 3)
    assert [constant.next(0, n, Flaky()) for n in (4, 5)] == [3, None]
    order = "(maximum_attempts, initial_delay, multiplier, max_delay, jitter)"
    with pytest.warns(DeprecationWarning, match=re.escape(order)) as other:
        ExponentialBackoffRetryPolicy(4, 1.0)
    assert [warning.filename for warning in [*one, *other]] == [__file__, __file__]


def test_retry_policy_waits_five_seconds_by_default_as_the_reference() -> None:
    assert retry_policy().next(0, 1, Flaky()) == 5.0
    assert retry_policy().next(0, 3, Flaky()) is None


def _state(attempt: int, elapsed: float, outcome: BaseException | str) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    if isinstance(outcome, BaseException):
        state.set_exception((type(outcome), outcome, None))
    else:
        state.set_result(outcome)
    state.outcome_timestamp = state.start_time + elapsed
    return state


def test_parts_answer_a_tenacity_call_state() -> None:
    failed = _state(3, 4.6, Flaky("rate limited"))
    returned = _state(3, 4.6, "a value")
    assert retry_if_exception_type(Flaky)(failed) is True
    assert retry_if_exception_type(Flaky)(returned) is False  # tenacity: values pass
    assert (retry_never() | retry_if_exception_message(match="rate"))(failed) is True
    assert retry_always()(returned) is True
    assert wait_exponential(multiplier=1, max=60)(failed) == 4  # the third attempt's wait
    assert (wait_fixed(1) + wait_fixed(2))(failed) == 3
    assert stop_after_attempt(3)(failed) is True
    assert stop_after_delay(5)(failed) is False
    failed.upcoming_sleep = 0.5
    assert stop_before_delay(5)(failed) is True
    assert stop_never()(failed) is False


def test_tenacitys_own_retry_loop_runs_on_our_parts() -> None:
    slept: list[float] = []
    calls: list[int] = []

    def fetch() -> str:
        calls.append(len(calls) + 1)
        if len(calls) < 3:
            raise Flaky("rate limited")
        return "ok"

    retrying = Retrying(
        retry=retry_if_exception_type(Flaky) & retry_if_exception_message(match="limited"),
        wait=wait_chain(wait_fixed(1), wait_fixed(2)),
        stop=stop_after_attempt(5) | stop_never(),
        sleep=slept.append,
    )
    assert retrying(fetch) == "ok"
    assert (calls, slept) == ([1, 2, 3], [1, 2])


def test_tenacitys_own_parts_still_compose_into_a_policy() -> None:
    policy = retry_policy(
        retry=tenacity.retry_if_exception_type(Flaky) | retry_if_exception_message(match="x"),
        wait=tenacity.wait_fixed(0.25) + wait_fixed(1),
        stop=tenacity.stop_after_attempt(3) | stop_after_delay(10),
    )
    assert policy.next(0.1, 1, Flaky()) == 1.25
    assert policy.next(0.1, 1, Fatal("x marks")) == 1.25
    assert policy.next(0.1, 3, Flaky()) is None
    assert policy.next(11, 1, Flaky()) is None
    assert policy.next(0.1, 1, Fatal()) is None


def test_the_old_uncalled_retry_always_warns_and_still_works() -> None:
    # Before, these were tenacity's instances; now they are the reference's classes.
    with pytest.warns(DeprecationWarning, match=re.escape("write retry_never()")):
        policy = retry_policy(retry=retry_never, wait=wait_fixed(0))  # type: ignore[arg-type]
    assert policy.next(0, 1, Flaky()) is None
    with pytest.warns(DeprecationWarning, match=re.escape("write stop_never()")):
        endless = retry_policy(retry=retry_always(), wait=wait_fixed(0), stop=stop_never)  # type: ignore[arg-type]
    assert endless.next(1e6, 10**6, Flaky()) == 0
    with pytest.warns(DeprecationWarning, match=re.escape("write retry_always()")) as caught:
        either = retry_always | retry_if_exception_type(Flaky)  # type: ignore[operator]
    assert either(Fatal()) is True
    assert caught[0].filename == __file__  # the user's line, not ours


@pytest.mark.parametrize(
    ("make", "order"),
    [
        (lambda: wait_exponential(1, 3, 10), "(multiplier, exp_base, max, min)"),
        (lambda: wait_random_exponential(1, 3, 10), "(multiplier, exp_base, max, min)"),
        (lambda: wait_full_jitter(1, 3, 10), "(multiplier, exp_base, max, min)"),
        (lambda: wait_exponential_jitter(1, 3, 10), "(initial, exp_base, max, jitter)"),
    ],
)
def test_waits_whose_positional_order_tenacity_reads_otherwise_say_so(
    make: Callable[[], Any], order: str
) -> None:
    # agentflow re-exported tenacity's waits, whose order is (multiplier, max, exp_base);
    # the reference's wins, and a call that depends on it is told.
    with pytest.warns(UserWarning, match=re.escape(order)) as caught:
        wait = make()
    assert caught[0].filename == __file__
    assert (wait.exp_base, wait.max) == (3, 10)


def test_waits_given_by_name_or_one_positional_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wait_exponential(2, max=10)
        wait_exponential_jitter(1, exp_base=3)
        wait_full_jitter(multiplier=2, max=5)


def test_tenacitys_extra_jitter_keywords_still_work() -> None:
    wait = wait_exponential_jitter(max=10, jitter=0, min=3, multiplier=2)
    assert [wait(n) for n in range(4)] == [3, 4, 8, 10]
    with pytest.raises(ValueError, match="'initial' or 'multiplier'"):
        wait_exponential_jitter(initial=2, multiplier=3)


def test_jitter_is_the_same_for_the_same_seed_and_varies_without_one() -> None:
    wait = wait_random(0, 1000)
    assert len({wait(0, seed=4) for _ in range(5)}) == 1
    assert len({wait(0) for _ in range(5)}) > 1
    policy = retry_policy(wait=wait_exponential_jitter(initial=1, jitter=5), stop=stop_never())
    assert policy.next(0, 2, Flaky(), seed=9) == policy.next(0, 2, Flaky(), seed=9)


def test_the_parts_reject_contradictory_arguments() -> None:
    with pytest.raises(TypeError, match="'message' or 'match'"):
        retry_if_exception_message()
    with pytest.raises(TypeError, match="not both"):
        retry_if_exception_message(message="a", match="b")
    with pytest.raises(ValueError, match="at least one"):
        wait_chain()
    with pytest.raises(TypeError, match="elapsed_time"):
        stop_after_delay(5)(1)


class CountingPolicy:
    """A hand-written policy: any object with next(elapsed_time, attempts, error)."""

    def __init__(self, tries: int) -> None:
        self.tries = tries
        self.seen: list[tuple[int, str]] = []

    def next(self, elapsed_time: float, attempts: int, error: Exception) -> float | None:
        self.seen.append((attempts, str(error)))
        return 0 if attempts < self.tries else None


def test_a_hand_written_policy_satisfies_the_protocol() -> None:
    assert isinstance(CountingPolicy(1), RetryPolicy)


class FlakyWorkflow(Workflow):
    def __init__(self, failures: int, policy: RetryPolicy | None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.failures = failures
        self.calls = 0

    @step(retry_policy=CountingPolicy(3))
    async def fetch(self, ev: StartEvent) -> StopEvent:
        self.calls += 1
        if self.calls <= self.failures:
            raise Flaky(f"attempt {self.calls}")
        return StopEvent(result=self.calls)


async def test_a_step_is_retried_until_it_succeeds() -> None:
    workflow = FlakyWorkflow(failures=2, policy=None)
    assert await workflow.run() == 3


async def test_the_run_fails_with_the_last_error_once_the_policy_gives_up() -> None:
    workflow = FlakyWorkflow(failures=5, policy=None)
    with pytest.raises(Flaky, match="attempt 3") as raised:
        await workflow.run()
    assert workflow.calls == 3
    assert "raised in step 'fetch' of workflow FlakyWorkflow" in raised.value.__notes__


class SteppedClock:
    """Stands in for the `time` module the retry loop reads: time moves only when a test
    step says so, so that a step can take seconds without a test waiting for them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class GiveUpAtOnce:
    """A hand-written policy that remembers the elapsed time it was shown."""

    def __init__(self) -> None:
        self.elapsed: list[float] = []

    def next(self, elapsed_time: float, attempts: int, error: Exception) -> float | None:
        self.elapsed.append(elapsed_time)
        return None


class SlowFailure(Workflow):
    """Its step takes `seconds` of the stepped clock, then fails."""

    def __init__(self, clock: SteppedClock, seconds: float) -> None:
        super().__init__()
        self.clock = clock
        self.seconds = seconds
        self.attempts = 0

    async def attempt(self) -> None:
        self.attempts += 1
        self.clock.now += self.seconds
        raise Flaky(f"attempt {self.attempts}")


class SlowFailureRecorded(SlowFailure):
    policy = GiveUpAtOnce()

    @step(retry_policy=policy)
    async def fetch(self, ev: StartEvent) -> StopEvent:
        await self.attempt()
        return StopEvent()

    @catch_error
    async def report(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent(result=ev.elapsed_seconds)


async def test_a_policy_sees_the_time_since_the_first_attempt_began(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    monkeypatch.setattr(retries, "time", clock)
    SlowFailureRecorded.policy.elapsed.clear()
    elapsed_when_given_up = await SlowFailureRecorded(clock, seconds=3.0).run()
    assert SlowFailureRecorded.policy.elapsed == [3.0]
    assert elapsed_when_given_up == 3.0


class SlowFailureWithinFiveSeconds(SlowFailure):
    @step(retry_policy=retry_policy(wait=wait_fixed(0.5), stop=stop_before_delay(5)))
    async def fetch(self, ev: StartEvent) -> StopEvent:
        await self.attempt()
        return StopEvent()


async def test_a_step_stops_retrying_when_the_coming_sleep_would_pass_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    monkeypatch.setattr(retries, "time", clock)
    workflow = SlowFailureWithinFiveSeconds(clock, seconds=4.6)
    with pytest.raises(Flaky, match="attempt 1"):
        await workflow.run()
    assert workflow.attempts == 1


class TypedRetryWorkflow(Workflow):
    calls = 0

    @step(
        retry_policy=retry_policy(
            retry=retry_if_exception_type(Flaky), wait=wait_fixed(0), stop=stop_after_attempt(5)
        )
    )
    async def fetch(self, ev: StartEvent) -> StopEvent:
        type(self).calls += 1
        raise Fatal("not worth retrying")


async def test_errors_the_policy_does_not_retry_fail_at_once() -> None:
    TypedRetryWorkflow.calls = 0
    with pytest.raises(Fatal):
        await TypedRetryWorkflow().run()
    assert TypedRetryWorkflow.calls == 1


class SlowStepWorkflow(Workflow):
    attempts = 0

    @step(timeout=0.05, retry_policy=retry_policy(wait=wait_fixed(0), stop=stop_after_attempt(2)))
    async def slow(self, ev: StartEvent) -> StopEvent:
        type(self).attempts += 1
        if type(self).attempts == 1:
            await asyncio.Event().wait()
        return StopEvent(result=f"attempt {type(self).attempts}")


async def test_a_step_timeout_stops_one_execution_and_the_retry_runs_again() -> None:
    SlowStepWorkflow.attempts = 0
    assert await SlowStepWorkflow().run() == "attempt 2"


class HangingStepWorkflow(Workflow):
    @step(timeout=0.05)
    async def hang(self, ev: StartEvent) -> StopEvent:
        await asyncio.Event().wait()
        return StopEvent()


async def test_a_step_timeout_without_retries_fails_the_run_naming_the_step() -> None:
    with pytest.raises(StepTimeoutError, match=re.escape("step 'hang' timed out after 0.05s")):
        await HangingStepWorkflow(timeout=10).run()


class OwnTimeoutErrorWorkflow(Workflow):
    @step(timeout=10)
    async def raises(self, ev: StartEvent) -> StopEvent:
        raise TimeoutError("the API timed out")


async def test_a_steps_own_timeout_error_is_not_mistaken_for_the_step_timeout() -> None:
    with pytest.raises(TimeoutError, match="the API timed out") as raised:
        await OwnTimeoutErrorWorkflow().run()
    assert not isinstance(raised.value, StepTimeoutError)


def test_step_options_are_checked_when_decorating() -> None:
    with pytest.raises(WorkflowValidationError, match="timeout"):
        step(timeout=0)(lambda ev: None)
    with pytest.raises(WorkflowValidationError, match="retry_policy"):
        step(retry_policy=object())(lambda ev: None)  # type: ignore[arg-type]
    with pytest.raises(WorkflowValidationError, match="max_recoveries"):
        catch_error(max_recoveries=0)(lambda ev: None)


class Fetched(Event):
    source: str


class RecoveringWorkflow(Workflow):
    @step
    async def start(self, ev: StartEvent) -> Fetched:
        return Fetched(source=ev.source)

    @step(retry_policy=retry_policy(wait=wait_fixed(0), stop=stop_after_attempt(2)))
    async def parse(self, ev: Fetched) -> StopEvent:
        raise Flaky(f"cannot parse {ev.source}")

    @catch_error
    async def recover(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent(
            result=(ev.step_name, ev.attempts, str(ev.exception), type(ev.input_event).__name__)
        )


async def test_catch_error_receives_the_failure_once_retries_run_out_and_recovers() -> None:
    assert await RecoveringWorkflow().run(source="a.pdf") == (
        "parse",
        2,
        "cannot parse a.pdf",
        "Fetched",
    )


class Job(Event):
    index: int


class BudgetWorkflow(Workflow):
    """Three jobs fail; the handler may recover only twice, then the run fails."""

    @step
    async def start(self, ctx: Context, ev: StartEvent) -> Job | None:
        for index in range(3):
            ctx.send_event(Job(index=index))
        return None

    @step(num_workers=1)
    async def work(self, ev: Job) -> StopEvent:
        raise Flaky(f"job {ev.index}")

    @catch_error(for_steps=["work"], max_recoveries=2)
    async def recover(self, ev: StepFailedEvent) -> None:
        return None


async def test_catch_error_recovers_at_most_max_recoveries_times() -> None:
    with pytest.raises(Flaky, match="job 2"):
        await BudgetWorkflow().run()


class FailingHandlerWorkflow(Workflow):
    @step
    async def start(self, ev: StartEvent) -> StopEvent:
        raise Flaky("first")

    @catch_error
    async def recover(self, ev: StepFailedEvent) -> StopEvent:
        raise Fatal(f"could not recover from {ev.exception}")


async def test_a_failing_catch_error_step_fails_the_run_with_its_own_error() -> None:
    with pytest.raises(Fatal, match="could not recover from first") as raised:
        await FailingHandlerWorkflow().run()
    assert "raised in step 'recover' of workflow FailingHandlerWorkflow" in raised.value.__notes__


def make_handlers_workflow(**handlers: object) -> type[Workflow]:
    class Handlers(Workflow):
        @step
        async def start(self, ev: StartEvent) -> StopEvent:
            return StopEvent()

    for name, handler in handlers.items():
        setattr(Handlers, name, handler)
    return Handlers


async def test_catch_error_configuration_errors_name_the_handler() -> None:
    async def handle(self: Workflow, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

    async def handle_other(self: Workflow, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

    two_wildcards = make_handlers_workflow(a=catch_error(handle), b=catch_error(handle_other))
    with pytest.raises(WorkflowValidationError, match="only one @catch_error"):
        two_wildcards().run()

    unknown = make_handlers_workflow(a=catch_error(for_steps=["nope"])(handle))
    with pytest.raises(WorkflowValidationError, match="'a' lists unknown step 'nope'"):
        unknown().run()

    async def wrong_event(self: Workflow, ev: StartEvent) -> StopEvent:
        return StopEvent()

    # Refused when decorated, as LlamaIndex Workflows does.
    with pytest.raises(WorkflowValidationError, match="'wrong_event' must take a StepFailedEvent"):
        catch_error(for_steps=["start"])(wrong_event)


class RetryInfoWorkflow(Workflow):
    seen: ClassVar[list[RetryInfo]] = []

    @step(retry_policy=retry_policy(wait=wait_fixed(0), stop=stop_after_attempt(3)))
    async def fetch(self, ctx: Context, ev: StartEvent) -> StopEvent:
        info = ctx.retry_info()
        type(self).seen.append(info)
        if info.retry_number < 2:
            raise Flaky(f"attempt {info.retry_number + 1}")
        return StopEvent(result=ctx.retry_info() == info or ctx.retry_info())


async def test_retry_info_describes_the_attempt_running_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    monkeypatch.setattr(retries, "time", clock)
    RetryInfoWorkflow.seen = []
    await RetryInfoWorkflow().run()
    first, second, third = RetryInfoWorkflow.seen
    assert first == RetryInfo(0, 0.0, None, None)
    assert (second.retry_number, str(second.last_exception)) == (1, "attempt 1")
    assert (third.retry_number, str(third.last_exception)) == (2, "attempt 2")
    assert second.last_failed_at is not None
    assert third.last_failed_at is not None
    assert second.last_failed_at <= third.last_failed_at
    assert second.last_failed_at.tzinfo is not None


async def test_retry_info_counts_time_from_the_first_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SteppedClock()
    monkeypatch.setattr(retries, "time", clock)
    elapsed: list[float] = []

    class Slow(Workflow):
        @step(retry_policy=retry_policy(wait=wait_fixed(0), stop=stop_after_attempt(3)))
        async def fetch(self, ctx: Context, ev: StartEvent) -> StopEvent:
            elapsed.append(ctx.retry_info().elapsed_seconds)
            clock.now += 2.0
            if len(elapsed) < 3:
                raise Flaky("slow")
            return StopEvent()

    await Slow().run()
    assert elapsed == [0.0, 2.0, 4.0]


async def test_retry_info_outside_a_step_names_where_it_was_called() -> None:
    from agentflow.errors import ContextStateError

    ctx = Context(RetryInfoWorkflow())
    with pytest.raises(ContextStateError, match=re.escape("ctx.retry_info() needs")):
        ctx.retry_info()


def test_no_warning_from_the_composed_policy() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        retry_policy(retry=retry_always(), wait=wait_fixed(1), stop=stop_after_attempt(2))
