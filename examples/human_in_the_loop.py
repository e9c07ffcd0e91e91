"""Human in the loop, with a pause that survives the process.

    python examples/human_in_the_loop.py [--state trip.json]

Answer the questions on the terminal. To stop while a question waits, press Ctrl-D (end of
input) or Ctrl-C: the run is written to the state file, and running the script again picks
up where it stopped, even in another process or on another day. Answers can come from a
file too (`< answers.txt`); when its lines run out, or with `< /dev/null`, the run stops and
is saved just as at Ctrl-D.

The first question is asked from inside a step with `ctx.wait_for_event`; the second is an
`InputRequiredEvent` the step returns, answered by a `HumanResponseEvent` for another step.
A run saved while a step waits re-runs that step from its start when resumed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agentflow import Context, Workflow, step
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent


class Trip(BaseModel):
    destination: str = ""


class DestinationChosen(Event):
    destination: str


class TripPlanner(Workflow):
    @step
    async def choose_destination(self, ctx: Context[Trip], ev: StartEvent) -> DestinationChosen:
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="Where to? ")
        )
        async with ctx.store.edit_state() as trip:
            trip.destination = answer.response.strip()
        return DestinationChosen(destination=answer.response.strip())

    @step
    async def ask_nights(self, ev: DestinationChosen) -> InputRequiredEvent:
        return InputRequiredEvent(prefix=f"How many nights in {ev.destination}? ")

    @step
    async def book(self, ctx: Context[Trip], ev: HumanResponseEvent) -> StopEvent:
        trip = await ctx.store.get_state()
        return StopEvent(result=f"Booked {ev.response.strip()} nights in {trip.destination}.")


async def read_answer(prompt: str) -> str | None:
    """A line typed at the terminal, or None at end of input. Waits on the event loop (not
    in a thread), so Ctrl-C can stop it."""
    print(prompt, end="", flush=True)
    loop = asyncio.get_running_loop()
    readable = loop.create_future()
    descriptor = sys.stdin.fileno()
    try:
        loop.add_reader(descriptor, lambda: readable.done() or readable.set_result(None))
    except PermissionError:
        # Standard input is a file (`< answers.txt`, `< /dev/null`): the event loop cannot
        # watch one, and reading it never waits.
        readable.set_result(None)
    try:
        await readable
    finally:
        loop.remove_reader(descriptor)
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


async def main(state_file: Path, saved: dict[str, Any] | None) -> None:
    workflow = TripPlanner(timeout=None)
    if saved is not None:
        print("Resuming the saved trip.")
        handler = workflow.run(ctx=Context.from_dict(workflow, saved))
    else:
        handler = workflow.run()
    try:
        async for event in handler.stream_events():
            if isinstance(event, InputRequiredEvent):
                answer = await read_answer(event.prefix)
                if answer is None:
                    raise asyncio.CancelledError
                handler.ctx.send_event(HumanResponseEvent(response=answer))
    except asyncio.CancelledError:
        await asyncio.to_thread(state_file.write_text, json.dumps(handler.ctx.to_dict()))
        await handler.cancel_run()
        print(f"\nStopped. The trip is saved in {state_file}; run again to continue.")
        return
    print(await handler)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=Path("trip.json"))
    arguments = parser.parse_args()
    saved = None
    if arguments.state.exists():
        saved = json.loads(arguments.state.read_text())
        arguments.state.unlink()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C saves the run, then ends quietly
        asyncio.run(main(arguments.state, saved))
