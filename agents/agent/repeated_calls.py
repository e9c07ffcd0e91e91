"""Repeated tool calls: a call the run has already answered is answered again, not re-run.

A model caught in a loop makes the same calls over and over (a small local model once
refunded one order six times, alternating the refund with a lookup). So the agent keeps, in
the run's state, each distinct call of the run with its answer. A call is its tool's name
and its arguments as parsed JSON written with sorted keys, so `{"a": 1, "b": 2}` and
`{"b":2,"a":1}` are one call. Before a reply's calls run, `mark_repeats` sorts them:

| the call | what happens |
|---|---|
| new in this run | the tool runs |
| to a tool with `allow_repeats` | the tool runs, every time; not counted as a repeat |
| made in an earlier reply | not run: the earlier result, behind a note saying so |
| ... which a human refused | not asked again: the refusal, behind the note |
| ... which failed, its tool without `side_effects` | the tool runs again (a failure may pass) |
| made earlier in the same reply | not run: a note pointing to that call's result |

Every repeat but an `allow_repeats` one counts; one more than the agent's
`max_repeated_calls` raises `RepeatedToolCallError`. When a tool with `side_effects` runs,
the results kept for tools without them are forgotten: a lookup after a refund must see the
refund. The record lives in `AgentRunState`, so a saved context carries it, a resumed run
goes on with it and the next run's `setup` starts it afresh. In an `AgentWorkflow` it is the
run's, all agents together (a refund one agent made is not made again by another; agents
whose different tools share a name should rename one), and each agent applies its own limit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from agents.agent.errors import RepeatedToolCallError
from agents.agent.events import ToolCall, ToolCallResult
from tools import ToolOutput, ToolSet


class RecordedCall(BaseModel):
    """One distinct call of the run, and the answer the model read for it."""

    tool_name: str
    """The tool called."""
    arguments: str
    """The arguments as canonical JSON (or as written, when they were not a JSON object)."""
    call_id: str
    """The call that ran: a repeat's note names it."""
    side_effects: bool = False
    """Whether the tool was marked `side_effects` (kept here: in an `AgentWorkflow` the
    record holds the calls of agents whose tools the current one does not have)."""
    content: str | None = None
    """The result the model read; None while the call runs."""
    is_error: bool = False
    """Whether that result was an error."""
    denied: bool = False
    """Whether a human refused the call (the tool did not run)."""
    repeats: int = 0
    """How many times the run repeated the call after the first."""


def mark_repeats(
    record: dict[str, RecordedCall],
    running: dict[int, str],
    calls: Sequence[ToolCall],
    toolset: ToolSet,
    agent_name: str,
    max_repeated_calls: int,
) -> None:
    """Sort the calls of one reply, in call order: set `repeat_of` on each that the run
    answers from `record`, add the new ones to it, and note in `running` (by the call's
    index) the record key of each call that runs and whose answer is to be kept.

    Raises `RepeatedToolCallError` for a call repeated more than `max_repeated_calls` times.
    """
    for call in calls:
        tool = toolset.get(call.tool_name)
        if tool is not None and tool.metadata.allow_repeats:
            continue
        key, arguments = _call_key(call)
        earlier = record.get(key)
        if earlier is None:
            side_effects = tool is not None and tool.metadata.side_effects
            record[key] = RecordedCall(
                tool_name=call.tool_name,
                arguments=arguments,
                call_id=call.call_id,
                side_effects=side_effects,
            )
            running[call.index] = key
            continue
        earlier.repeats += 1
        if earlier.repeats > max_repeated_calls:
            raise RepeatedToolCallError(
                agent_name, call.tool_name, arguments, earlier.repeats + 1, max_repeated_calls
            )
        if earlier.is_error and not earlier.denied and not earlier.side_effects:
            earlier.call_id, earlier.content, earlier.is_error = call.call_id, None, False
            running[call.index] = key
        else:
            call.repeat_of = earlier.call_id


def repeated_output(record: dict[str, RecordedCall], call: ToolCall) -> ToolOutput:
    """What the model reads for `call`, a repeat (`repeat_of` set): the earlier answer
    behind a note, or for a call repeated in its own reply, where that answer is."""
    earlier = record[_call_key(call)[0]]
    arguments = dict(call.arguments)
    if earlier.content is None:  # repeated within one reply: the result is not in yet
        note = (
            f"Note: this call repeats call '{earlier.call_id}' of this reply (same tool, same "
            f"arguments), so it was not made twice: the result of call '{earlier.call_id}' "
            "answers both."
        )
        return ToolOutput(call.tool_name, note, arguments)
    if earlier.denied:
        note = (
            f"Note: the user already refused this call in this run (call '{earlier.call_id}') "
            "and was not asked again. The answer then:"
        )
    elif earlier.side_effects:
        note = (
            f"Note: tool '{call.tool_name}' already ran with these arguments in this run "
            f"(call '{earlier.call_id}'). It changes things, so it was not run again: nothing "
            "was done this time. Its result then:"
        )
    else:
        note = (
            f"Note: you already called '{call.tool_name}' with these arguments in this run "
            f"(call '{earlier.call_id}'); it was not run again. Its result then:"
        )
    return ToolOutput(
        call.tool_name, f"{note}\n{earlier.content}", arguments, is_error=earlier.is_error
    )


def record_answers(
    record: dict[str, RecordedCall],
    running: dict[int, str],
    results: Sequence[ToolCallResult],
    toolset: ToolSet,
) -> None:
    """Keep the answer of each call of one reply that ran and is in `running` (then
    emptied). Once a tool with `side_effects` has run (`toolset` holds the reply's tools),
    forget the answers of the tools without, which may now read differently."""
    changed = False
    for result in results:
        key = running.get(result.index)
        if key is not None:
            earlier = record[key]
            earlier.content, earlier.is_error = result.content, result.is_error
            earlier.denied = result.denied
        tool = toolset.get(result.tool_name)
        ran = result.repeat_of is None and not result.denied
        changed = changed or (ran and tool is not None and tool.metadata.side_effects)
    running.clear()
    if changed:
        for key in [key for key, earlier in record.items() if not earlier.side_effects]:
            del record[key]


def _call_key(call: ToolCall) -> tuple[str, str]:
    """The record's key for `call`, and its arguments in canonical form."""
    arguments = _canonical_arguments(call.arguments, call.raw_arguments)
    return f"{call.tool_name}({arguments})", arguments


def _canonical_arguments(arguments: dict[str, Any], raw_arguments: str) -> str:
    # Parsed again from the raw text: `arguments` is empty for text that is not a JSON
    # object, which must not make every malformed call look like a call without arguments.
    if not raw_arguments.strip():
        return json.dumps(arguments, sort_keys=True, ensure_ascii=False)
    try:
        parsed = json.loads(raw_arguments)
    except (ValueError, RecursionError):
        return raw_arguments
    if not isinstance(parsed, dict):
        return raw_arguments
    return json.dumps(parsed, sort_keys=True, ensure_ascii=False)
