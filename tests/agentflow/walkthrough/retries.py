# From the reference's "Retry steps execution" page and its retry policy API reference:
# https://developers.llamaindex.ai/python/llamaagents/workflows/retry_steps/
# https://developers.llamaindex.ai/python/workflows-api-reference/retry_policy/
# The pages wait 5 s (ConstantDelayRetryPolicy, wait_fixed) and 1-2 s (the reference's
# quick example) between attempts; here they wait 0.01 s and 0.01-0.02 s, so that the test
# is quick. `flaky_call`, which the page leaves to the reader, raises what main() lines up.
from workflows import Context, Workflow, step
from workflows.events import StartEvent, StopEvent
from workflows.retry_policy import (
    ConstantDelayRetryPolicy,
    retry_if_exception_message,
    retry_if_exception_type,
    retry_policy,
    stop_after_attempt,
    stop_before_delay,
    wait_fixed,
    wait_random,
)

failures = []
calls = []


def flaky_call():
    calls.append(1)
    if failures:
        raise failures.pop(0)
    return "called"


class MyWorkflow(Workflow):
    # This policy will retry this step on failure every 5 seconds for at most 10 times
    @step(retry_policy=ConstantDelayRetryPolicy(delay=0.01, maximum_attempts=10))
    async def flaky_step(self, ctx: Context, ev: StartEvent) -> StopEvent:
        result = flaky_call()  # this might raise
        return StopEvent(result=result)


class BasicUsageWorkflow(Workflow):
    @step(
        retry_policy=retry_policy(
            wait=wait_fixed(0.01),
            stop=stop_after_attempt(10),
        )
    )
    async def flaky_step(self, ctx: Context, ev: StartEvent) -> StopEvent:
        result = flaky_call()  # this might raise
        return StopEvent(result=result)


policy = retry_policy(
    retry=retry_if_exception_type((TimeoutError, ConnectionError))
    | retry_if_exception_message(match="rate limit|temporarily unavailable"),
    wait=wait_fixed(0.01) + wait_random(0, 0.01),
    stop=stop_after_attempt(5) | stop_before_delay(30),
)


class QuickExampleWorkflow(Workflow):
    @step(retry_policy=policy)
    async def flaky_step(self, ctx: Context, ev: StartEvent) -> StopEvent:
        result = flaky_call()
        return StopEvent(result=result)


async def attempt(workflow, *errors):
    """Run `workflow` with flaky_call raising `errors` first; print how it ended."""
    failures[:] = list(errors)
    calls.clear()
    try:
        outcome = await workflow.run()
    except Exception as error:
        outcome = type(error).__name__
    print(type(workflow).__name__, len(calls), outcome)


async def main():
    await attempt(MyWorkflow(), TimeoutError(), ValueError())
    await attempt(MyWorkflow(), *[ConnectionError("down")] * 10)
    await attempt(BasicUsageWorkflow(), KeyError("a"))
    await attempt(BasicUsageWorkflow(), *[ConnectionError("down")] * 10)
    await attempt(QuickExampleWorkflow(), ConnectionError(), RuntimeError("rate limit hit"))
    await attempt(QuickExampleWorkflow(), ValueError("bad input"))
    await attempt(QuickExampleWorkflow(), *[TimeoutError("slow")] * 5)
