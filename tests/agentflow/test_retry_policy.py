"""Retries: tenacity-composed policies, the shorthands, custom policies, step timeouts,
and @catch_error recovery."""

from __future__ import annotations

import asyncio
import re

import pytest

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
    wait_exponential_jitter,
    wait_fixed,
)


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

    not_failed_event = make_handlers_workflow(a=catch_error(for_steps=["start"])(wrong_event))
    with pytest.raises(WorkflowValidationError, match="'a' must take a StepFailedEvent"):
        not_failed_event().run()
