"""`ToolCalling`: how a `FunctionAgent` runs the tool calls of one reply.

```
 handle_reply ─ send_tool_calls ─> one ToolCall per call (ctx.send_event; repeats sorted out)
                                          │
        run_tool_call (num_workers at once; approval: ToolApprovalRequired ⇄ ToolApprovalResponse)
                                          │ ToolCallResult
        aggregate_tool_results (all results in, call order) ─> AgentInput, or AgentFinish
                                                                 for a return_direct tool
```

A base class of `FunctionAgent`, as `AgentTurns` is, to keep each module to one concern:
the two tool-call steps, the fan-out `handle_reply` uses (`send_tool_calls`), the approval
wait, and how results enter the memory. Override any of them in a `FunctionAgent`
subclass as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from agentflow import Context, step
from agentflow.context.compact_models import non_default_fields
from agentflow.errors import WorkflowTimeoutError
from agents.agent.events import (
    AgentFinish,
    AgentInput,
    ToolApprovalRequired,
    ToolApprovalResponse,
    ToolCall,
    ToolCallResult,
)
from agents.agent.run_state import AgentState
from agents.agent.turns import AgentTurns
from agents.llm.types import ChatMessage
from tools import FunctionTool, ToolOutput


class ToolCalling(AgentTurns):
    """The run_tool_call and aggregate_tool_results steps of `FunctionAgent` (not run on
    its own)."""

    answer_on_repeated_calls = False
    """True: a reply that repeats a call more than `max_repeated_calls` times is handled like
    any repeat (answered from the record, behind the note), and the run's next LLM call
    is made with `tool_choice="none"`, so a model caught in a loop answers with what it
    has instead of the run raising `RepeatedToolCallError` (raised still if that reply
    asks for a tool, from a server that ignores `tool_choice`). Only for an agent that
    offers the API its tools: a `ReActAgent`, whose tools are in its prompt, cannot be
    told so and raises. Settable on an instance too."""
    approval_timeout: float | None = None
    """Seconds a call waits for its approval (then the step fails); None waits as long as the
    run may last."""
    max_repeated_calls: int
    """How many times one run may repeat a tool call it has already answered (set by
    `FunctionAgent.__init__`)."""
    approval: set[str] | Callable[[ToolCall], bool] | None
    """Tool names (or a predicate over a `ToolCall`) that need a human yes to run (set by
    `FunctionAgent.__init__`)."""

    # -- steps --------------------------------------------------------------------------

    @step(num_workers=8)
    async def run_tool_call(self, ctx: Context[AgentState], ev: ToolCall) -> ToolCallResult:
        """Run one call, after a human's yes when it needs one; an error, an unknown name or
        a denial is a result the LLM reads, and a repeat the earlier answer (not run, never
        asked about)."""
        denial = None
        if ev.repeat_of is not None:
            async with ctx.store.edit_state() as state:
                output = state.current_run().call_record.answer(ev)
        else:
            denial = await self.ask_approval(ctx, ev) if self.needs_approval(ev) else None
            if denial is not None:
                output = ToolOutput(ev.tool_name, denial, dict(ev.arguments), is_error=True)
            elif ev.arguments_error is not None:
                output = _malformed(ev.tool_name, ev.raw_arguments, ev.arguments_error)
            else:
                output = await self.toolset.acall(
                    ev.tool_name, ev.arguments, ctx=ctx, call_id=ev.call_id
                )
        tool = self.toolset.get(ev.tool_name)
        result = ToolCallResult(
            **non_default_fields(
                ToolCallResult,
                call_id=ev.call_id,
                tool_name=ev.tool_name,
                arguments=ev.arguments,
                content=output.content,
                is_error=output.is_error,
                return_direct=(
                    tool is not None
                    and tool.metadata.return_direct
                    and denial is None
                    and ev.repeat_of is None
                ),
                index=ev.index,
                agent_name=self.name,
                denied=denial is not None,
                repeat_of=ev.repeat_of,
                raw_output=output.raw_output,
            )
        )
        ctx.write_event_to_stream(result)
        return result

    @step(num_workers=1)  # one collector: the results of a reply meet in one buffer
    async def aggregate_tool_results(
        self, ctx: Context[AgentState], ev: ToolCallResult
    ) -> AgentInput | AgentFinish | None:
        """Once every call of the reply has a result, give them to the LLM in call order."""
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            results = ctx.collect_events(ev, ToolCallResult, count=run.pending_calls)
            if results is None:
                return None
            repeats = run.call_record.answer_waiting(results)
            for repeat in repeats:
                ctx.write_event_to_stream(repeat)
            results = sorted([*results, *repeats], key=lambda result: result.index)
            run.tool_results.extend(results)
            run.call_record.keep(results, self.toolset)
            run.pending_calls = 0
            memory = self.conversation(state)
            # Feedback: a ReAct agent's results are user messages, which must not start a turn.
            memory.put_messages(self.tool_result_messages(results), feedback=True)
            direct = next((r for r in results if r.return_direct and not r.is_error), None)
            if direct is not None:
                answer = ChatMessage.assistant(direct.content)
                memory.put(answer)
                return AgentFinish(response=answer)
            prompt = self.build_prompt(memory)
        return AgentInput(input=prompt, agent_name=self.name)

    # -- the pieces of a tool call; override to change one behaviour --------------------

    def run_tools(self) -> Iterable[FunctionTool]:
        """The agent's tools: a run holds their sessions (an MCP server's) for all its
        turns."""
        return self.toolset

    def tools_for_llm(self) -> list[Any] | None:
        """The tools each LLM call offers (None for none): the whole toolset."""
        return list(self.toolset) or None

    def tool_result_messages(self, results: Sequence[ToolCallResult]) -> list[ChatMessage]:
        """How one reply's results (in call order) enter the memory: one `tool` message
        each, answering its call id."""
        return [ChatMessage.tool(r.content, tool_call_id=r.call_id) for r in results]

    async def send_tool_calls(self, ctx: Context[AgentState], calls: Sequence[ToolCall]) -> None:
        """Start `calls` concurrently (one `run_tool_call` each), after sorting out the
        repeats among them (`CallRecord.sort_reply`) and telling `aggregate_tool_results`
        how many results to wait for. Every call is written to the stream; one repeating a
        call of the same reply is not sent: `aggregate_tool_results` answers it.

        A call repeated more than `max_repeated_calls` times raises `RepeatedToolCallError`
        before anything changes, unless the agent has `answer_on_repeated_calls` and offers
        the API tools: then the reply goes on like any other and the run's next LLM call is
        told to answer (`AgentRunState.answer_without_tools`). Calls in the reply to a call
        told so (a server that ignores `tool_choice`) raise the error of the limit that was
        reached, and none runs."""
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            told = run.answer_without_tools
            if told is not None:
                error = told.error()
                if self.tools_for_llm():
                    error.add_note(
                        f"agent '{self.name}' told its model to answer with what it has "
                        "(tool_choice='none'), and the reply asked for tools anyway: the "
                        "server may ignore tool_choice"
                    )
                raise error
            reached = run.call_record.over_limit(
                calls, self.toolset, self.name, self.max_repeated_calls
            )
            if reached is not None:
                if not self.answer_on_repeated_calls or not self.tools_for_llm():
                    raise reached.error()
                run.answer_without_tools = reached
            to_run = run.call_record.sort_reply(calls, self.toolset)
            run.pending_calls = len(to_run)
        for call in calls:
            ctx.write_event_to_stream(call)
        for call in to_run:
            ctx.send_event(call)

    def needs_approval(self, call: ToolCall) -> bool:
        """Whether `call` waits for a human yes (`approval`)."""
        if self.approval is None:
            return False
        if callable(self.approval):
            return self.approval(call)
        return call.tool_name in self.approval

    async def ask_approval(self, ctx: Context[Any], call: ToolCall) -> str | None:
        """Wait for the `ToolApprovalResponse` to `call`; None when approved, else the text
        the model gets instead of the tool's result.

        The wait is `ctx.wait_for_event`, so it is saved with the context: a run saved
        while waiting resumes here, and the calls that already ran are not run again."""
        try:
            answer = await ctx.wait_for_event(
                ToolApprovalResponse,
                waiter_event=ToolApprovalRequired(
                    call_id=call.call_id,
                    tool_name=call.tool_name,
                    arguments=call.arguments,
                    agent_name=self.name,
                    prefix=f"Run tool '{call.tool_name}' with {json.dumps(call.arguments)}? ",
                ),
                requirements={"call_id": call.call_id},
                timeout=self.approval_timeout,
            )
        except WorkflowTimeoutError as error:  # it names the step only, the same for all calls
            error.add_note(
                f"agent '{self.name}' waited for the approval of tool '{call.tool_name}' "
                f"(call_id '{call.call_id}')"
            )
            raise
        if answer.approved:
            return None
        reason = f": {answer.reason}" if answer.reason else ""
        return f"Error: the user did not approve running tool '{call.tool_name}'{reason}"


def _malformed(tool_name: str, raw_arguments: str, error: str) -> ToolOutput:
    """The result of a call whose arguments did not parse (the client said why)."""
    return ToolOutput(
        tool_name,
        f"Error: the {error} for tool '{tool_name}'; send one JSON object with the arguments "
        "as keys",
        {"arguments": raw_arguments},
        is_error=True,
    )
