"""Repeated tool calls: a call the run has already answered is answered again, not re-run.

A model caught in a loop makes the same calls over and over (a small local model once
refunded one order six times, alternating the refund with a lookup). So the agent keeps, in
the run's state, a `CallRecord`: each distinct call of the run with its answer. A call is
its tool's name and its arguments as parsed JSON written with sorted keys, so
`{"a": 1, "b": 2}` and `{"b":2,"a":1}` are one call; arguments that are not a JSON object
are compared as written. Before a reply's calls run, `CallRecord.sort_reply` sorts them:

| the call | what happens |
|---|---|
| new in this run | the tool runs |
| to a tool with `allow_repeats` | the tool runs, every time; not counted as a repeat |
| made in an earlier reply | not run: the earlier result, behind a note saying so |
| ... which a human refused | not asked again: the refusal, behind the note |
| ... which failed, its tool without `side_effects` | the tool runs again (a failure may pass) |
| made earlier in the same reply | not run: once that call's result is in, the same result |

Every repeat but an `allow_repeats` one counts; a reply with one more than the agent's
`max_repeated_calls` (`CallRecord.over_limit`, asked first) raises `RepeatedToolCallError`,
or, for an agent with `answer_on_repeated_calls`, is sorted like any other while the run's
next LLM call is told to answer without tools (`FunctionAgent.send_tool_calls`). When a tool
with `side_effects` runs, the results kept for tools without them are forgotten: a lookup
after a refund must see the refund. The record lives in `AgentRunState`, so a saved context
carries it, a resumed run goes on with it and the next run's `setup` starts it afresh. In an
`AgentWorkflow` it is the run's, all agents together (a refund one agent made is not made
again by another; agents whose different tools share a name should rename one), and each
agent applies its own limit.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field

from agentflow.context.compact_models import non_default_fields
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


class RepeatLimitReached(BaseModel):
    """A call of a reply that repeats one of the run more than `max_repeated_calls` times:
    what `RepeatedToolCallError` says. An agent with `answer_on_repeated_calls` keeps it in
    `AgentRunState.answer_without_tools` while its model is told to answer instead."""

    agent_name: str
    """The agent whose model repeated the call."""
    tool_name: str
    """The tool called."""
    arguments: str
    """The arguments as canonical JSON (or as written, when they were not a JSON object)."""
    calls: int
    """How many times the run made the call, this one and the first included."""
    max_repeated_calls: int
    """The repeats that agent allows a call in one run."""

    def error(self) -> RepeatedToolCallError:
        """The error that ends the run for this call."""
        return RepeatedToolCallError(
            self.agent_name, self.tool_name, self.arguments, self.calls, self.max_repeated_calls
        )


class CallRecord(BaseModel):
    """The tool calls of one run and their answers, by `"tool(canonical arguments)"`."""

    calls: dict[str, RecordedCall] = Field(default_factory=dict)
    """Each distinct call of the run."""
    running: dict[int, str] = Field(default_factory=dict)
    """The key of each call of the current reply that runs, by its index in the reply:
    its answer is kept once the reply's results are in."""
    waiting: list[ToolCall] = Field(default_factory=list)
    """The calls of the current reply that repeat an earlier call of the same reply: not
    sent to `run_tool_call`, they get that call's result once it is in (`answer_waiting`)."""

    def over_limit(
        self,
        calls: Sequence[ToolCall],
        toolset: ToolSet,
        agent_name: str,
        max_repeated_calls: int,
    ) -> RepeatLimitReached | None:
        """The first call of one reply that repeats a call of the run more than
        `max_repeated_calls` times (the reply's own repeats counted); None when none does.
        It changes nothing: asked before `sort_reply`, a reply refused leaves the record as
        it was."""
        in_reply: Counter[str] = Counter()
        for call in calls:
            if _allows_repeats(call, toolset):
                continue
            key, arguments = _call_key(call)
            earlier = self.calls.get(key)
            in_reply[key] += 1
            repeats = in_reply[key] - 1 + (0 if earlier is None else earlier.repeats + 1)
            if repeats > max_repeated_calls:
                return RepeatLimitReached(
                    agent_name=agent_name,
                    tool_name=call.tool_name,
                    arguments=arguments,
                    calls=repeats + 1,
                    max_repeated_calls=max_repeated_calls,
                )
        return None

    def sort_reply(self, calls: Sequence[ToolCall], toolset: ToolSet) -> list[ToolCall]:
        """The calls of one reply to send to `run_tool_call`, in call order: `repeat_of`
        is set on each the record answers; a call repeating one of the same reply is kept
        back in `waiting` instead. Each repeat is counted; the limit is `over_limit`'s."""
        keyed = [(call, *_call_key(call)) for call in calls if not _allows_repeats(call, toolset)]
        held_back = set()
        for call, key, arguments in keyed:
            earlier = self.calls.get(key)
            if earlier is None:
                tool = toolset.get(call.tool_name)
                self.calls[key] = RecordedCall(
                    **non_default_fields(
                        RecordedCall,
                        tool_name=call.tool_name,
                        arguments=arguments,
                        call_id=call.call_id,
                        side_effects=tool is not None and tool.metadata.side_effects,
                    )
                )
                self.running[call.index] = key
                continue
            earlier.repeats += 1
            if earlier.content is None:  # that call is of this reply and still to run
                call.repeat_of = earlier.call_id
                self.waiting.append(call)
                held_back.add(call.index)
            elif earlier.is_error and not earlier.denied and not earlier.side_effects:
                earlier.call_id, earlier.content, earlier.is_error = call.call_id, None, False
                self.running[call.index] = key
            else:
                call.repeat_of = earlier.call_id
        return [call for call in calls if call.index not in held_back]

    def answer(self, call: ToolCall) -> ToolOutput:
        """What the model reads for `call`, which repeats a call of an earlier reply
        (`repeat_of` set by `sort_reply`): that call's answer behind a note."""
        earlier = self.calls[_call_key(call)[0]]
        made = f"call '{earlier.call_id}': '{call.tool_name}' with the same arguments"
        if earlier.denied:
            note = (
                f"Note: the user already refused this call in this run ({made}) and was not "
                "asked again. The answer it got then:"
            )
        elif earlier.side_effects:
            note = (
                f"Note: you already made this call in this run ({made}). '{call.tool_name}' "
                "changes things, so it was not run again: nothing was done this time. The "
                "result it got then:"
            )
        else:
            note = (
                f"Note: you already made this call in this run ({made}), so it was not run "
                "again. The result it got then:"
            )
        return ToolOutput(
            call.tool_name,
            f"{note}\n{earlier.content}",
            dict(call.arguments),
            is_error=earlier.is_error,
        )

    def answer_waiting(self, results: Sequence[ToolCallResult]) -> list[ToolCallResult]:
        """The results of the `waiting` calls (then emptied), from `results`, the current
        reply's: each gets the result of the call it repeats, behind a note."""
        by_call = {result.call_id: result for result in results}
        answers = []
        for call in self.waiting:
            assert call.repeat_of is not None  # set with every call put in `waiting`
            first = by_call[call.repeat_of]
            note = (
                f"Note: this call is the same as call '{first.call_id}' of this reply "
                f"('{call.tool_name}' with the same arguments), so it was made once for both. "
                f"The result of call '{first.call_id}':"
            )
            answers.append(
                ToolCallResult(
                    **non_default_fields(
                        ToolCallResult,
                        call_id=call.call_id,
                        tool_name=call.tool_name,
                        arguments=call.arguments,
                        content=f"{note}\n{first.content}",
                        is_error=first.is_error,
                        index=call.index,
                        agent_name=call.agent_name,
                        repeat_of=first.call_id,
                    )
                )
            )
        self.waiting.clear()
        return answers

    def keep(self, results: Sequence[ToolCallResult], toolset: ToolSet) -> None:
        """Keep the answer of each call of one reply that ran (`running`, then emptied).
        Once a tool with `side_effects` has run (`toolset` holds the reply's tools), forget
        the answers of the tools without, which may now read differently."""
        changed = False
        for result in results:
            key = self.running.get(result.index)
            if key is not None:
                earlier = self.calls[key]
                earlier.content, earlier.is_error = result.content, result.is_error
                earlier.denied = result.denied
            tool = toolset.get(result.tool_name)
            ran = result.repeat_of is None and not result.denied
            changed = changed or (ran and tool is not None and tool.metadata.side_effects)
        self.running.clear()
        if changed:
            for key in [key for key, earlier in self.calls.items() if not earlier.side_effects]:
                del self.calls[key]


def _allows_repeats(call: ToolCall, toolset: ToolSet) -> bool:
    tool = toolset.get(call.tool_name)
    return tool is not None and tool.metadata.allow_repeats


def _call_key(call: ToolCall) -> tuple[str, str]:
    """The record's key for `call`, and its arguments in canonical form."""
    arguments = _canonical_arguments(call)
    return f"{call.tool_name}({arguments})", arguments


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
"""`json.dumps(..., sort_keys=True, ensure_ascii=False)`'s encoder, made once: `dumps` with
options makes a new one each time, and every call of every reply is keyed (twice)."""


def _canonical_arguments(call: ToolCall) -> str:
    # Arguments that did not parse (`arguments_error`) are compared as written: their
    # `arguments` are empty, which must not make every malformed call look like a call
    # without arguments. The others were parsed once, by the client: no second parse here.
    if call.arguments_error is not None:
        return call.raw_arguments
    return _CANONICAL_JSON.encode(call.arguments)
