"""`ctx.once` and `ctx.idempotency_key` in memory: a retried step gets the result its
first attempt recorded and the same key; both are for steps only."""

from __future__ import annotations

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import ContextStateError
from agentflow.events import StartEvent, StopEvent
from agentflow.retry_policy import ConstantDelayRetryPolicy


class Charges(Workflow):
    """Charges a card once, then fails its first attempt after the charge."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.charged: list[int] = []
        self.keys: list[str] = []
        self.attempts = 0

    async def charge(self, amount: int) -> str:
        self.charged.append(amount)
        return f"receipt-{amount}"

    @step(retry_policy=ConstantDelayRetryPolicy(delay=0, maximum_attempts=2))
    async def pay(self, ctx: Context, ev: StartEvent) -> StopEvent:
        self.keys.append(ctx.idempotency_key("charge"))
        receipt = await ctx.once("charge", self.charge, 42)
        self.attempts += 1
        if self.attempts == 1:
            raise ConnectionError("the confirmation e-mail could not be sent")
        return StopEvent(result=receipt)


async def test_a_retried_step_gets_the_recorded_result_and_the_same_key() -> None:
    workflow = Charges()
    handler = workflow.run(run_id="order-7")
    assert await handler == "receipt-42"
    assert workflow.charged == [42]
    assert workflow.keys[0] == workflow.keys[1]
    assert workflow.keys[0].startswith("order-7:pay:")
    assert workflow.keys[0].endswith(":charge")


class Twice(Workflow):
    @step
    async def two_names(self, ctx: Context, ev: StartEvent) -> StopEvent:
        first = await ctx.once("a", lambda: 1)
        second = await ctx.once("b", lambda: 2)
        again = await ctx.once("a", lambda: 3)
        return StopEvent(result=(first, second, again))


async def test_each_name_is_recorded_on_its_own() -> None:
    assert await Twice().run() == (1, 2, 1)


async def test_once_and_the_key_are_for_steps_only() -> None:
    ctx = Context(Twice())
    with pytest.raises(ContextStateError, match=r"ctx\.once\(\).*inside a step"):
        await ctx.once("a", lambda: 1)
    with pytest.raises(ContextStateError, match=r"ctx\.idempotency_key\(\)"):
        ctx.idempotency_key("a")
