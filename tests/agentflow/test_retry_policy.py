"""Retries: tenacity-composed policies, the shorthands, custom policies, step timeouts,
and @catch_error recovery."""

from __future__ import annotations

import asyncio
import re

import pytest
from tenacity import RetryCallState, RetryError, Retrying
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from agentflow import Context, Workflow, catch_error, step
from agentflow.errors import StepTimeoutError, WorkflowValidationError
from agentflow.events import Event, StartEvent, StepFailedEvent, StopEvent
from agentflow.retry_policy import (
    ConstantDelayRetryPolicy,
    ExponentialBackoffRetryPolicy,
    RetryPolicy,
    retry_if_exception_type,
    retry_policy,
    stop_after_attempt,
    stop_after_delay,
    stop_before_delay,
    wait_chain,
    wait_exponential,
    wait_exponential_jitter,
    wait_fixed,
    wait_incrementing,
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


def test_shorthand_policies() -> None:
    constant = ConstantDelayRetryPolicy(delay=2, maximum_attempts=2)
    assert constant.next(0, 1, Flaky()) == 2
    assert constant.next(0, 2, Flaky()) is None
    backoff = ExponentialBackoffRetryPolicy(
        initial_delay=1, multiplier=3, max_delay=5, maximum_attempts=4, jitter=False
    )
    assert [backoff.next(0, n, Flaky()) for n in (1, 2, 3, 4)] == [1, 3, 5, None]


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

    @step(retry_policy=ConstantDelayRetryPolicy(delay=0, maximum_attempts=2))
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
