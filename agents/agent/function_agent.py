"""`FunctionAgent`: an LLM that calls tools in a loop, as an agentflow `Workflow`.

```
 AgentStart ──> setup ──> AgentInput ──> call_llm ──> AgentReply ──> handle_reply
                             ^                                         │  no calls: AgentFinish
                             │                     one ToolCall per call (ctx.send_event)
                             │                                         v
                   aggregate_tool_results <── ToolCallResult <── run_tool_call (num_workers at once)
                             │  a return_direct tool: AgentFinish
                             v
                          finalize ──> AgentOutput (the run's result)
```

Each box is a step a subclass may override on its own:

- `setup`: puts `chat_history` and `user_msg` in the memory (after an error result for each
  call an earlier, interrupted run left unanswered), resets the run's counters.
- `call_llm`: one streamed LLM call (`AgentStream` per chunk), booked in the ledger; a
  reply with no text and no tool call raises `EmptyReplyError`, a refusal `LLMRefusalError`
  (`check_reply`).
- `handle_reply`: fans the reply's tool calls out, or validates the final answer
  (re-asking when it does not match `output_cls`).
- `run_tool_call`: runs one call; the calls of one reply run concurrently. A call to a tool
  named in `approval` first emits `ToolApprovalRequired` and waits for the
  `ToolApprovalResponse` with its `call_id`; a denial is the result the LLM reads. A call
  the run has already answered (same tool, same arguments) is not run again: it gets the
  earlier answer behind a note (`agents.agent.repeated_calls`), and one repeated more than
  `max_repeated_calls` times ends the run with `RepeatedToolCallError` (in `handle_reply`),
  or with `answer_on_repeated_calls` has the next LLM call told to answer without tools.
- `aggregate_tool_results`: once every result is in, answers the calls that repeated another
  of the same reply with its result, puts them all in memory in the order the calls were
  made and starts the next LLM call (or ends the run for a `return_direct` tool).
- `finalize`: builds the `AgentOutput`, its `usage` what the ledger booked in the run.

The conversation lives in the context's state (`memory_key`), so running again with the same
`ctx` continues it, and a saved context carries it. Tool failures and unknown tool names are
error results the LLM reads; the loop goes on, up to `max_iterations` LLM calls (then
`MaxIterationsError`, or with `answer_on_max_iterations` one last call without tools). A call
told to answer without tools (`tool_choice="none"`, `AgentRunState.answer_without_tools`)
whose reply asks for a tool anyway ends the run with the limit's error. With
`output_cls`, every call sends its strict JSON schema as `response_format`, so the reply that
ends the loop is the structured answer itself, not an extra call after it; a reply that
fails validation is sent back with the errors, while a refusal is `LLMRefusalError` and an
answer cut off at the token limit `LLMLengthError`, at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from agentflow import Context, step
from agentflow.context import DictState
from agentflow.errors import WorkflowTimeoutError
from agents.agent.conversation import ConversationWorkflow
from agents.agent.errors import EmptyReplyError
from agents.agent.events import (
    AgentFinish,
    AgentInput,
    AgentOutput,
    AgentReply,
    AgentStart,
    AgentStream,
    ToolApprovalRequired,
    ToolApprovalResponse,
    ToolCall,
    ToolCallResult,
)
from agents.agent.run_state import AgentRunState, IterationLimitReached
from agents.llm.errors import LLMLengthError, LLMRefusalError, StructuredOutputError
from agents.llm.ledger import usage_since
from agents.llm.metered import MeteredLLM, ledger_total
from agents.llm.protocol import LLM
from agents.llm.structured import structured_request
from agents.llm.types import ChatMessage, FinishReason
from agents.memory import ChatMemory
from agents.streamed_text import ReplyText
from tools import ToolOutput, ToolSet

_RETRY_PROMPT = (
    "Your final answer did not match the required JSON schema. Validation errors:\n{errors}\n"
    "Reply again with only a JSON object that matches the schema."
)
_RETRY_PREFIX = _RETRY_PROMPT.partition("{")[0]


class FunctionAgent(ConversationWorkflow):
    """An agent for models with function calling. `await agent.run("question")` gives an
    `AgentOutput` (printed, its answer); `handler.stream_events()` shows every step."""

    memory_key = "memory"
    """The state key of the conversation (`ChatMemory`)."""
    run_state_key = "agent_run"
    """The state key of the current run's counters (`AgentRunState`)."""
    max_structured_attempts = 3
    """Final answers that may fail `output_cls` validation before `StructuredOutputError`."""
    answer_on_max_iterations = False
    """True: once `max_iterations` calls are spent, make one more with `tool_choice="none"`
    so the model answers with what it has, instead of raising `MaxIterationsError` (raised
    still if that reply asks for a tool)."""
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

    def __init__(
        self,
        tools: Sequence[Any] = (),
        llm: LLM | None = None,
        system_prompt: str | None = None,
        name: str = "agent",
        description: str | None = None,
        memory: ChatMemory | None = None,
        max_iterations: int = 20,
        output_cls: type[BaseModel] | None = None,
        approval: Iterable[str] | Callable[[ToolCall], bool] | None = None,
        can_handoff_to: Sequence[str] | None = None,
        timeout: float | None = 600.0,
        max_repeated_calls: int = 3,
        **workflow_kwargs: Any,
    ) -> None:
        """`tools` are callables, `tools.FunctionTool`s or LlamaIndex tools. `memory` seeds
        every context that has none yet, each with its own copy (an empty `ChatMemory` sized
        for `llm` when None); `max_iterations` bounds the LLM calls of one run, and
        `max_repeated_calls` how often the model may repeat one tool call (same tool, same
        arguments) in a run. `can_handoff_to` only matters in an `AgentWorkflow`. `timeout`
        is the whole run's."""
        super().__init__(timeout=timeout, **workflow_kwargs)
        if llm is None:
            raise TypeError(f"FunctionAgent '{name}' needs an llm, e.g. llm=OpenAI('gpt-4o-mini')")
        if max_iterations < 1:
            raise ValueError(
                f"FunctionAgent '{name}': max_iterations must be at least 1, got {max_iterations}"
            )
        if max_repeated_calls < 0:
            raise ValueError(
                f"FunctionAgent '{name}': max_repeated_calls must be 0 or more, got "
                f"{max_repeated_calls}"
            )
        self.toolset = ToolSet(tools)
        """The agent's tools by name."""
        self.llm = llm
        """The chat model."""
        self.system_prompt = system_prompt
        """Sent first in every call; not stored in memory."""
        self.name = name
        """Names the agent in events, errors and the output."""
        self.description = description
        """What the agent is for (read by multi-agent workflows)."""
        self.memory = memory
        """What each new context's memory starts as (copied); None for an empty one."""
        self.max_iterations = max_iterations
        """The most LLM calls one run may make."""
        self.max_repeated_calls = max_repeated_calls
        """How many times one run may repeat a tool call it has already answered (each
        repeat gets the earlier answer) before `RepeatedToolCallError`."""
        self.output_cls = output_cls
        """The model the final answer must validate as, or None for text."""
        self.approval = approval if approval is None or callable(approval) else set(approval)
        """Tool names (or a predicate over a `ToolCall`) that need a human yes to run."""
        self.can_handoff_to = None if can_handoff_to is None else list(can_handoff_to)
        """In an `AgentWorkflow`, the agents this one may hand off to; None for all others."""

    # -- steps --------------------------------------------------------------------------

    @step
    async def setup(self, ctx: Context[DictState], ev: AgentStart) -> AgentInput:
        """Add the new messages to the memory and start the run's counters afresh."""
        memory = await self.get_memory(ctx)
        if ev.chat_history is not None:
            memory.reset()
            memory.put_messages(ev.chat_history)
        memory.put_messages(_unfinished_call_results(memory.messages))
        if ev.user_msg is not None:
            message = ev.user_msg
            memory.put(ChatMessage.user(message) if isinstance(message, str) else message)
        await ctx.store.set(self.memory_key, memory)
        await ctx.store.set(self.run_state_key, AgentRunState(usage_before=await ledger_total(ctx)))
        return AgentInput(input=self.build_prompt(memory), agent_name=self.name)

    @step
    async def call_llm(self, ctx: Context[DictState], ev: AgentInput) -> AgentReply:
        """Stream one reply, writing each chunk's text as an `AgentStream`."""
        state = await self.get_run_state(ctx)
        kwargs = self.llm_kwargs()
        tools = self.tools_for_llm()
        if state.iterations >= self.max_iterations:
            reached = IterationLimitReached(
                agent_name=self.name, max_iterations=self.max_iterations
            )
            # One call past the limit is owed when either option told the model to answer.
            owed = self.answer_on_max_iterations or state.answer_without_tools is not None
            if not owed or state.iterations > self.max_iterations:
                raise reached.error()
            if state.answer_without_tools is None:  # else a repeat limit told it already
                state.answer_without_tools = reached  # one last call
        if state.answer_without_tools is not None and tools:
            # Told to answer with what it has. Only with tools: the API refuses a tool_choice
            # without them (a ReActAgent offers none).
            kwargs["tool_choice"] = "none"
        state.iterations += 1
        ctx.write_event_to_stream(ev)
        last = None
        text = ReplyText()
        llm = MeteredLLM(self.llm, ctx)  # the ledger books the call: the run's usage
        async for chunk in llm.astream_chat(ev.input, tools=tools, **kwargs):
            last = chunk
            if chunk.delta:
                streamed = AgentStream.added_to(text, chunk.delta, agent_name=self.name)
                ctx.write_event_to_stream(streamed)
        message = last.message if last is not None else ChatMessage.assistant("")
        await ctx.store.set(self.run_state_key, state)
        self.check_reply(message, last.finish_reason if last is not None else None)
        return AgentReply(message=message, agent_name=self.name)

    @step
    async def handle_reply(
        self, ctx: Context[DictState], ev: AgentReply
    ) -> ToolCall | AgentInput | AgentFinish | None:
        """Send one `ToolCall` per call in the reply, or settle the final answer."""
        memory = await self.get_memory(ctx)
        memory.put(ev.message)
        await ctx.store.set(self.memory_key, memory)
        calls = ev.message.tool_calls
        if calls:
            await self.send_tool_calls(
                ctx,
                [
                    ToolCall(
                        call_id=call.id,
                        tool_name=call.name,
                        arguments=call.arguments,
                        raw_arguments=call.raw_arguments,
                        index=index,
                        agent_name=self.name,
                    )
                    for index, call in enumerate(calls)
                ],
            )
            return None
        return await self.settle_answer(ctx, memory, ev.message)

    @step(num_workers=8)
    async def run_tool_call(self, ctx: Context[DictState], ev: ToolCall) -> ToolCallResult:
        """Run one call, after a human's yes when it needs one; an error, an unknown name or
        a denial is a result the LLM reads, and a repeat the earlier answer (not run, never
        asked about)."""
        denial = None
        if ev.repeat_of is not None:
            output = (await self.get_run_state(ctx)).call_record.answer(ev)
        else:
            denial = await self.ask_approval(ctx, ev) if self.needs_approval(ev) else None
            if denial is not None:
                output = ToolOutput(ev.tool_name, denial, dict(ev.arguments), is_error=True)
            else:
                arguments = ev.raw_arguments or json.dumps(ev.arguments)
                output = await self.toolset.acall_json(ev.tool_name, arguments, ctx=ctx)
        tool = self.toolset.get(ev.tool_name)
        result = ToolCallResult(
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
        ctx.write_event_to_stream(result)
        return result

    @step(num_workers=1)  # one collector: the results of a reply meet in one buffer
    async def aggregate_tool_results(
        self, ctx: Context[DictState], ev: ToolCallResult
    ) -> AgentInput | AgentFinish | None:
        """Once every call of the reply has a result, give them to the LLM in call order."""
        state = await self.get_run_state(ctx)
        results = ctx.collect_events(ev, ToolCallResult, count=state.pending_calls)
        if results is None:
            return None
        repeats = state.call_record.answer_waiting(results)
        for repeat in repeats:
            ctx.write_event_to_stream(repeat)
        results = sorted([*results, *repeats], key=lambda result: result.index)
        state.tool_results.extend(results)
        state.call_record.keep(results, self.toolset)
        state.pending_calls = 0
        await ctx.store.set(self.run_state_key, state)
        memory = await self.get_memory(ctx)
        memory.put_messages(self.tool_result_messages(results))
        direct = next((r for r in results if r.return_direct and not r.is_error), None)
        if direct is not None:
            answer = ChatMessage.assistant(direct.content)
            memory.put(answer)
            await ctx.store.set(self.memory_key, memory)
            return AgentFinish(response=answer)
        await ctx.store.set(self.memory_key, memory)
        return AgentInput(input=self.build_prompt(memory), agent_name=self.name)

    @step
    async def finalize(self, ctx: Context[DictState], ev: AgentFinish) -> AgentOutput:
        """The run's result: the answer, every tool result and the tokens used."""
        state = await self.get_run_state(ctx)
        return AgentOutput(
            response=ev.response,
            tool_calls=state.tool_results,
            structured_response=ev.structured_response,
            usage=usage_since(state.usage_before, await ledger_total(ctx)),
            agent_name=self.name,
        )

    # -- pieces the steps share; override to change one behaviour ------------------------

    def check_reply(self, message: ChatMessage, finish_reason: FinishReason | None) -> None:
        """Raise for a reply the loop cannot go on with: a refusal (`LLMRefusalError`), a
        reply with no text and no tool call (`EmptyReplyError`), and with `output_cls` an
        answer cut off at the token limit (`LLMLengthError`: asked again under the same
        limit, it would be cut off again). A text answer cut off is still the answer."""
        error: Exception | None = None
        if message.refusal is not None:
            error = LLMRefusalError(message.refusal)
        elif not message.text and not message.tool_calls:
            raise EmptyReplyError(self.name, self.llm.metadata.model, finish_reason)  # names us
        elif finish_reason == "length" and self.output_cls is not None and not message.tool_calls:
            error = LLMLengthError(message.text)
        if error is not None:
            error.add_note(f"raised by agent '{self.name}'")  # its message names no agent
            raise error

    def tools_for_llm(self) -> list[Any] | None:
        """The tools each LLM call offers (None for none): the whole toolset."""
        return list(self.toolset) or None

    def tool_result_messages(self, results: Sequence[ToolCallResult]) -> list[ChatMessage]:
        """How one reply's results (in call order) enter the memory: one `tool` message
        each, answering its call id."""
        return [ChatMessage.tool(r.content, tool_call_id=r.call_id) for r in results]

    async def send_tool_calls(self, ctx: Context[Any], calls: Sequence[ToolCall]) -> None:
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
        state = await self.get_run_state(ctx)
        told = state.answer_without_tools
        if told is not None:
            error = told.error()
            if self.tools_for_llm():
                error.add_note(
                    f"agent '{self.name}' told its model to answer with what it has "
                    "(tool_choice='none'), and the reply asked for tools anyway: the server "
                    "may ignore tool_choice"
                )
            raise error
        reached = state.call_record.over_limit(
            calls, self.toolset, self.name, self.max_repeated_calls
        )
        if reached is not None:
            if not self.answer_on_repeated_calls or not self.tools_for_llm():
                raise reached.error()
            state.answer_without_tools = reached
        to_run = state.call_record.sort_reply(calls, self.toolset)
        state.pending_calls = len(to_run)
        await ctx.store.set(self.run_state_key, state)
        for call in calls:
            ctx.write_event_to_stream(call)
        for call in to_run:
            ctx.send_event(call)

    async def settle_answer(
        self, ctx: Context[Any], memory: ChatMemory, message: ChatMessage
    ) -> AgentFinish | AgentInput:
        """End with `message`, validated as `output_cls` when there is one; a reply that
        fails validation is sent back with the errors (`AgentInput`), and once one passes,
        the failed replies and their re-asks leave the memory. (A refusal never gets here:
        `call_llm` raises it as `LLMRefusalError`.)"""
        if self.output_cls is None:
            return AgentFinish(response=message)
        try:
            structured = self.output_cls.model_validate_json(_without_code_fence(message.text))
        except ValidationError as error:
            return await self._ask_again(ctx, memory, message.text, error)
        state = await self.get_run_state(ctx)
        if state.rejected_answers:
            for position in reversed(state.rejected_answers):
                del memory.messages[position : position + 2]
            state.rejected_answers.clear()
            await ctx.store.set(self.memory_key, memory)
            await ctx.store.set(self.run_state_key, state)
        return AgentFinish(response=message, structured_response=structured)

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

    async def get_memory(self, ctx: Context[Any]) -> ChatMemory:
        """The context's conversation, made on first use."""
        memory = await ctx.store.get(self.memory_key, default=None)
        if memory is None:
            # A copy: contexts are separate conversations and must not write to one list.
            memory = (
                self.memory.model_copy(deep=True)
                if self.memory is not None
                else ChatMemory(llm=self.llm)
            )
        if not isinstance(memory, ChatMemory):
            raise TypeError(
                f"agent '{self.name}': state key '{self.memory_key}' holds a "
                f"{type(memory).__name__}, not a ChatMemory"
            )
        return memory

    async def get_run_state(self, ctx: Context[Any]) -> AgentRunState:
        """The current run's counters (a fresh set outside a run started by `setup`)."""
        state = await ctx.store.get(self.run_state_key, default=None)
        return state if isinstance(state, AgentRunState) else AgentRunState()

    def build_prompt(self, memory: ChatMemory) -> list[ChatMessage]:
        """The system prompt, then the newest turns of `memory` that fit beside it and the
        tool schemas."""
        from agents.llm.tokens import count_message, count_tools

        system = [ChatMessage.system(self.system_prompt)] if self.system_prompt else []
        reserve = sum(count_message(message, memory.model) for message in system)
        if len(self.toolset):
            reserve += count_tools(list(self.toolset), memory.model)
        return system + self.whole_turns(memory, memory.get(reserve_tokens=reserve))

    def is_feedback(self, messages: Sequence[ChatMessage], index: int) -> bool:
        """Whether the user message at `index` is the agent's own (a structured re-ask), which
        belongs to the turn of the reply it answers rather than starting one."""
        return messages[index].text.startswith(_RETRY_PREFIX)

    def whole_turns(self, memory: ChatMemory, window: list[ChatMessage]) -> list[ChatMessage]:
        """`window` (a `memory.get()`) reaching back to the user's own message that began its
        first turn. The memory starts a turn at every user message, feedback included, so
        under a tight token limit the window could begin at a re-ask (or, for a
        `ReActAgent`, an observation) and leave out the question; like the memory, this keeps
        the newest turn whole even when it is over the budget."""
        messages = memory.messages
        first = 0
        while first < len(messages) and messages[first].role in ("system", "developer"):
            first += 1
        start = len(messages) - (len(window) - first)
        while start > first and (
            messages[start].role != "user" or self.is_feedback(messages, start)
        ):
            start -= 1
        return window[:first] + messages[start:]

    def llm_kwargs(self) -> dict[str, Any]:
        """Extra request parameters: with `output_cls`, its schema as `response_format`, so
        that the reply that ends the loop is the structured answer."""
        if self.output_cls is None:
            return {}
        return structured_request(self.llm, self.output_cls)

    async def _ask_again(
        self, ctx: Context[Any], memory: ChatMemory, reply: str, error: ValidationError
    ) -> AgentInput:
        assert self.output_cls is not None
        state = await self.get_run_state(ctx)
        state.structured_attempts += 1
        state.rejected_answers.append(len(memory.messages) - 1)  # the reply just put there
        await ctx.store.set(self.run_state_key, state)
        if state.structured_attempts >= self.max_structured_attempts:
            failure = StructuredOutputError(
                self.output_cls, state.structured_attempts, str(error), reply
            )
            failure.add_note(f"raised by agent '{self.name}'")  # its message names no agent
            raise failure
        memory.put(ChatMessage.user(_RETRY_PROMPT.format(errors=error)))
        await ctx.store.set(self.memory_key, memory)
        return AgentInput(input=self.build_prompt(memory), agent_name=self.name)


def _unfinished_call_results(messages: list[ChatMessage]) -> list[ChatMessage]:
    """A result for each call of the last reply that has none: a run cancelled, failed or
    timed out while its calls ran or awaited approval leaves them unanswered, and the API
    refuses every later request whose calls lack results."""
    position = next(
        (i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "assistant"), None
    )
    if position is None or not messages[position].tool_calls:
        return []
    last = messages[position]
    answered = {m.tool_call_id for m in messages[position + 1 :] if m.role == "tool"}
    return [
        ChatMessage.tool(
            f"Error: no result from tool '{call.name}': the run ended before every call of "
            "this reply had finished",
            tool_call_id=call.id,
        )
        for call in last.tool_calls
        if call.id not in answered
    ]


def _without_code_fence(text: str) -> str:
    # Some OpenAI-compatible servers wrap JSON in ```json fences despite response_format.
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped.split("\n", 1)[-1].rsplit("```", 1)[0]
    return stripped
