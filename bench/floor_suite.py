"""The scenarios in bare asyncio: the floor no workflow engine can beat.

No framework: each step is an asyncio task that takes a pydantic event from its inbox
`asyncio.Queue`, builds the next event and puts it in the next step's inbox. Runs pay for
the same things an engine cannot avoid — one task per step, a queue hop per event, a pydantic
model per event — and nothing else (no validation, routing tables, state or instrumentation).
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from pydantic import BaseModel
from scenarios import FANOUT_WORKERS, FanIn, ParkedRun, RunOnce

Stage = Callable[[BaseModel], Awaitable[BaseModel]]
"""One step: takes the incoming event, returns the outgoing one."""


class StartEvent(BaseModel):
    """First event of every floor run."""


class StopEvent(BaseModel):
    """Last event of a floor run, carrying its result."""

    result: object = None
    """What the run returns."""


class Fetch(BaseModel):
    """Asks the sleeping step of the pipeline to run."""


class Fetched(BaseModel):
    """The sleeping step's reply."""


class Work(BaseModel):
    """One unit of fanned-out work."""

    i: int
    """Position of the unit in the fan-out."""


class Done(BaseModel):
    """A worker's reply to one `Work`."""

    i: int
    """Position of the unit it answers."""


class Tick(BaseModel):
    """An event written to the caller's stream."""

    i: int
    """Position in the stream."""


class InputRequired(BaseModel):
    """A run asking the caller for input."""

    prefix: str
    """The prompt shown to the human."""


class HumanResponse(BaseModel):
    """The caller's answer to an `InputRequired`."""

    response: str
    """What the human said."""


async def _serve_once(
    stage: Stage, inbox: asyncio.Queue[BaseModel], outbox: asyncio.Queue[BaseModel]
) -> None:
    outbox.put_nowait(await stage(await inbox.get()))


async def _run_stages(stages: Sequence[Stage]) -> BaseModel:
    """One run through `stages` in a line, each on its own task, linked by queues."""
    queues = [asyncio.Queue[BaseModel]() for _ in range(len(stages) + 1)]
    tasks = [
        asyncio.create_task(_serve_once(stage, queues[position], queues[position + 1]))
        for position, stage in enumerate(stages)
    ]
    queues[0].put_nowait(StartEvent())
    result = await queues[-1].get()
    await asyncio.gather(*tasks)
    return result


def _emitting(event_type: type[BaseModel]) -> Stage:
    async def emit(ev: BaseModel) -> BaseModel:
        return event_type()

    return emit


class _ParkedTask:
    """A run as one task: announce the question on the stream, then wait on the inbox."""

    def __init__(self) -> None:
        self._stream = asyncio.Queue[BaseModel]()
        self._inbox = asyncio.Queue[HumanResponse]()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> str:
        self._stream.put_nowait(InputRequired(prefix="?"))
        answer = await self._inbox.get()
        return answer.response

    async def wait_for_input_request(self) -> None:
        while not isinstance(await self._stream.get(), InputRequired):
            pass

    def answer(self, response: str) -> None:
        self._inbox.put_nowait(HumanResponse(response=response))

    async def result(self) -> object:
        return await self._task


class FloorSuite:
    """The `ScenarioSuite` of plain asyncio tasks and queues."""

    def chain(self, length: int) -> RunOnce:
        hops = [type(f"Hop{k}", (BaseModel,), {"__module__": __name__}) for k in range(1, length)]
        stages = [_emitting(event_type) for event_type in [*hops, StopEvent]]
        return lambda: _run_stages(stages)

    def sleeping_pipeline(self, sleep_seconds: float) -> RunOnce:
        async def fetch(ev: BaseModel) -> BaseModel:
            await asyncio.sleep(sleep_seconds)
            return Fetched()

        stages = [_emitting(Fetch), fetch, _emitting(StopEvent)]
        return lambda: _run_stages(stages)

    def fanout(self, width: int, fan_in: FanIn) -> RunOnce:
        # A counter needs no list of expected types, so `fan_in` changes nothing here.
        async def scatter(work: asyncio.Queue[Work]) -> None:
            for i in range(width):
                work.put_nowait(Work(i=i))

        async def serve(work: asyncio.Queue[Work], done: asyncio.Queue[Done]) -> None:
            while True:
                item = await work.get()
                done.put_nowait(Done(i=item.i))

        async def collect(done: asyncio.Queue[Done]) -> int:
            collected = 0
            while collected < width:
                await done.get()
                collected += 1
            return collected

        async def run_once() -> int:
            work = asyncio.Queue[Work]()
            done = asyncio.Queue[Done]()
            workers = [asyncio.create_task(serve(work, done)) for _ in range(FANOUT_WORKERS)]
            collector = asyncio.create_task(collect(done))
            await asyncio.create_task(scatter(work))
            collected = await collector
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            return collected

        return run_once

    def stream(self, ticks: int) -> RunOnce:
        async def produce(stream: asyncio.Queue[BaseModel]) -> None:
            for i in range(ticks):
                stream.put_nowait(Tick(i=i))
            stream.put_nowait(StopEvent(result=ticks))

        async def run_and_read_stream() -> int:
            stream = asyncio.Queue[BaseModel]()
            producer = asyncio.create_task(produce(stream))
            received = 0
            while not isinstance(await stream.get(), StopEvent):
                received += 1
            await producer
            return received

        return run_and_read_stream

    def parked_runs(self) -> Callable[[], ParkedRun]:
        return _ParkedTask
