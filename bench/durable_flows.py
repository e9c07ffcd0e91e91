"""The durable scenarios' workflows, written once for agentflow and once for LangGraph.

Both sides do the same work and carry the same state, so that neither stores less because
it was asked to do less:

- chain: a counter taken from 0 to N one step at a time, each step also replacing a
  64-character payload (agentflow: the `Count` event a step returns to the next;
  LangGraph: the graph's state, `n` and `payload`, written by a node that loops to itself);
- fan-out: one step sends N `Work` items, a step handles each (returning its number), and a
  last step gathers the N answers and sums them (agentflow: `send_event` and
  `collect_events(count=N)`; LangGraph: `Send` to a node, and an `operator.add` reducer
  that the gathering node reads).

Each builder returns a coroutine function that performs one run and returns its result,
which the caller checks, so a run that did less than its share cannot pass.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict

from agentflow import Context, Workflow, step
from agentflow.durable import Durability
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.stores.base import RunStore

FANOUT_WORKERS = 64
"""`num_workers` of agentflow's fan-out step, as in the in-memory bench (LangGraph runs a
super-step's tasks all at once)."""

RunOnce = Callable[[str], Awaitable[int]]
"""Starts one run with the given run (thread) id; awaiting it gives the run's result."""


def payload_for(n: int) -> str:
    """The 64-character payload step `n` leaves behind."""
    return f"step {n:>8}: ".ljust(64, "x")


def chain_result(steps: int) -> int:
    return steps


def fanout_result(width: int) -> int:
    return width * (width - 1) // 2


# agentflow


class Count(Event):
    n: int
    payload: str


class AgentflowChain(Workflow):
    """Counts to `steps`, one step execution per count."""

    def __init__(self, steps: int, **options: Any) -> None:
        super().__init__(**options)
        self.steps = steps

    @step
    async def begin(self, ev: StartEvent) -> Count:
        return Count(n=0, payload=payload_for(0))

    @step
    async def count(self, ev: Count) -> Count | StopEvent:
        n = ev.n + 1
        if n == self.steps:
            return StopEvent(result=n)
        return Count(n=n, payload=payload_for(n))


class Work(Event):
    i: int


class Done(Event):
    i: int


class AgentflowFanout(Workflow):
    """Sends `width` items, answers each, and sums the answers."""

    def __init__(self, width: int, **options: Any) -> None:
        super().__init__(**options)
        self.width = width

    @step
    async def scatter(self, ctx: Context, ev: StartEvent) -> Work | None:
        for i in range(self.width):
            ctx.send_event(Work(i=i))
        return None

    @step(num_workers=FANOUT_WORKERS)
    async def work(self, ev: Work) -> Done:
        return Done(i=ev.i)

    @step
    async def gather(self, ctx: Context, ev: Done) -> StopEvent | None:
        collected = ctx.collect_events(ev, Done, count=self.width)
        if collected is None:
            return None
        return StopEvent(result=sum(done.i for done in collected))


def agentflow_chain(store: RunStore, steps: int, durability: Durability = "sync") -> RunOnce:
    workflow = AgentflowChain(steps, store=store, timeout=None, durability=durability)

    async def run(run_id: str) -> int:
        result: int = await workflow.run(run_id=run_id)
        return result

    return run


def agentflow_fanout(store: RunStore, width: int, durability: Durability = "sync") -> RunOnce:
    workflow = AgentflowFanout(width, store=store, timeout=None, durability=durability)

    async def run(run_id: str) -> int:
        result: int = await workflow.run(run_id=run_id)
        return result

    return run


# LangGraph


class ChainState(TypedDict):
    n: int
    payload: str


class FanoutState(TypedDict):
    total: Annotated[int, operator.add]
    answered: Annotated[int, operator.add]
    result: int


class WorkItem(TypedDict):
    i: int


def langgraph_chain(checkpointer: Any, steps: int, durability: str) -> RunOnce:
    from langgraph.graph import END, START, StateGraph

    async def count(state: ChainState) -> dict[str, Any]:
        n = state["n"] + 1
        return {"n": n, "payload": payload_for(n)}

    def next_node(state: ChainState) -> str:
        return END if state["n"] == steps else "count"

    graph = StateGraph(ChainState)
    graph.add_node("count", count)
    graph.add_edge(START, "count")
    graph.add_conditional_edges("count", next_node, ["count", END])
    compiled = graph.compile(checkpointer=checkpointer)

    async def run(run_id: str) -> int:
        config = {"configurable": {"thread_id": run_id}, "recursion_limit": steps + 10}
        final = await compiled.ainvoke(
            {"n": 0, "payload": payload_for(0)}, config, durability=durability
        )
        return int(final["n"])

    return run


def langgraph_fanout(checkpointer: Any, width: int, durability: str) -> RunOnce:
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    async def scatter(state: FanoutState) -> dict[str, Any]:
        return {}

    def send_items(state: FanoutState) -> list[Any]:
        return [Send("work", {"i": i}) for i in range(width)]

    async def work(item: WorkItem) -> dict[str, Any]:
        return {"total": item["i"], "answered": 1}

    async def gather(state: FanoutState) -> dict[str, Any]:
        if state["answered"] != width:
            raise RuntimeError(f"gathered {state['answered']} of {width} answers")
        return {"result": state["total"]}

    graph = StateGraph(FanoutState)
    graph.add_node("scatter", scatter)
    graph.add_node("work", work)
    graph.add_node("gather", gather)
    graph.add_edge(START, "scatter")
    graph.add_conditional_edges("scatter", send_items, ["work"])
    graph.add_edge("work", "gather")
    graph.add_edge("gather", END)
    compiled = graph.compile(checkpointer=checkpointer)

    async def run(run_id: str) -> int:
        config = {"configurable": {"thread_id": run_id}}
        final = await compiled.ainvoke(
            {"total": 0, "answered": 0, "result": 0}, config, durability=durability
        )
        return int(final["result"])

    return run
