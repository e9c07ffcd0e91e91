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

The conversation lives in the context's typed state (`AgentState.memory`), so running again
with the same `ctx` continues it, and a saved context carries it. Tool failures and unknown
tool names are error results the LLM reads; the loop goes on, up to `max_iterations` LLM
calls (then `MaxIterationsError`, or with `answer_on_max_iterations` one last call without
tools). A call told to answer without tools (`tool_choice="none"`,
`AgentRunState.answer_without_tools`) whose reply asks for a tool anyway ends the run with
the limit's error. With `output_cls`, every call asks for it (the client's
`structured_kwargs`: OpenAI's strict `response_format`, Anthropic's output tool), so the
reply that ends the loop is the structured answer itself, not an extra call after it; a
reply that fails validation is sent back with the errors, while a refusal is
`LLMRefusalError` and an answer cut off at the token limit `LLMLengthError`, at once.

The `setup` and `finalize` steps, the run's state and the prompt window live in the base
class `AgentTurns` (`turns.py`), the `run_tool_call` and `aggregate_tool_results` steps and
the approval wait in `ToolCalling` (`tool_calls.py`); the LLM turn (`call_llm`,
`handle_reply`) is here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from agentflow import Context, step
from agentflow.context.compact_models import non_default_fields
from agents.agent.errors import AgentOptionError, EmptyReplyError
from agents.agent.events import (
    AgentFinish,
    AgentInput,
    AgentReply,
    AgentStream,
    ToolCall,
)
from agents.agent.run_state import AgentState, IterationLimitReached
from agents.agent.state_prompt import checked_template
from agents.agent.tool_calls import ToolCalling
from agents.agent.turns import ANSWER_RETRY_PROMPT
from agents.kit.agent_spans import AgentIdentity
from agents.kit.reply_failures import noted
from agents.llm.errors import LLMLengthError, LLMRefusalError, StructuredOutputError
from agents.llm.llama_index_llm import as_llm
from agents.llm.metered import MeteredLLM
from agents.llm.protocol import LLM
from agents.llm.spans import provider_of
from agents.llm.structured import json_text
from agents.llm.types import ChatMessage, FinishReason
from agents.memory import ChatMemory
from agents.streamed_text import ReplyText
from tools import ToolSet

if TYPE_CHECKING:
    from llama_index.core.llms import LLM as LlamaIndexLLMBase


class FunctionAgent(ToolCalling):
    """An agent for models with function calling. `await agent.run("question")` gives an
    `AgentOutput` (printed, its answer); `handler.stream_events()` shows every step."""

    max_structured_attempts = 3
    """Final answers that may fail `output_cls` validation before `StructuredOutputError`."""
    answer_on_max_iterations = False
    """True: once `max_iterations` calls are spent, make one more with `tool_choice="none"`
    so the model answers with what it has, instead of raising `MaxIterationsError` (raised
    still if that reply asks for a tool)."""

    def __init__(
        self,
        tools: Sequence[Any] | None = (),
        llm: LLM | LlamaIndexLLMBase | None = None,
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
        *,
        initial_state: Mapping[str, Any] | None = None,
        state_prompt: str | Any | None = None,
        structured_output_fn: Callable[[list[ChatMessage]], Any] | None = None,
        streaming: bool = True,
        early_stopping_method: Literal["force", "generate"] = "force",
        tool_retriever: Any = None,
        **workflow_kwargs: Any,
    ) -> None:
        """`tools` are callables, `tools.FunctionTool`s or LlamaIndex tools; `llm` one of
        ours or any `llama_index.core.llms.LLM` (wrapped in `LlamaIndexLLM`). `memory` seeds
        every context that has none yet, each with its own copy (an empty `ChatMemory` sized
        for `llm` when None); `max_iterations` bounds the LLM calls of one run, and
        `max_repeated_calls` how often the model may repeat one tool call (same tool, same
        arguments) in a run. `can_handoff_to` only matters in an `AgentWorkflow`. `timeout`
        is the whole run's.

        The keyword-only options are LlamaIndex's: `initial_state` seeds the context's
        shared `state` (an agent running on its own); `state_prompt` (with `{state}` and
        `{msg}`) puts a non-empty state into the run's user message; `structured_output_fn`
        makes `structured_response` from the conversation once the answer is in;
        `streaming=False` writes no `AgentStream` events; `early_stopping_method="generate"`
        is `answer_on_max_iterations`. `tool_retriever` is refused: pass `tools`."""
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
        if tool_retriever is not None:
            raise AgentOptionError(
                f"FunctionAgent '{name}': tool_retriever is not supported; pass the tools "
                "as tools=[...]"
            )
        if early_stopping_method not in ("force", "generate"):
            raise AgentOptionError(
                f"FunctionAgent '{name}': early_stopping_method must be 'force' or "
                f"'generate', got {early_stopping_method!r}"
            )
        self.toolset = ToolSet(tools or ())
        """The agent's tools by name."""
        self.llm = as_llm(llm)
        """The chat model (a LlamaIndex LLM given is wrapped in `LlamaIndexLLM`)."""
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
        self.initial_state = dict(initial_state or {})
        """The shared state (`state` in the context) a new context starts with."""
        self.state_prompt = (
            None
            if state_prompt is None
            else checked_template(
                f"FunctionAgent '{name}'", "state_prompt", state_prompt, ("state", "msg")
            )
        )
        """With `{state}` and `{msg}`: how a non-empty shared state goes into the run's user
        message; None leaves the message as the user wrote it."""
        self.structured_output_fn = structured_output_fn
        """Makes `structured_response` from the conversation's messages once the answer is
        in (sync or async); not used with `output_cls`."""
        self.streaming = streaming
        """False: no `AgentStream` events (the reply still arrives streamed)."""
        if early_stopping_method == "generate":
            self.answer_on_max_iterations = True

    def agent_identity(self) -> AgentIdentity:
        """This agent, for its runs' `invoke_agent` span: its name, model, provider and
        description."""
        return AgentIdentity(
            self.name, self.llm.metadata.model, provider_of(self.llm), self.description
        )

    # -- steps --------------------------------------------------------------------------

    @step
    async def call_llm(self, ctx: Context[AgentState], ev: AgentInput) -> AgentReply:
        """Stream one reply, writing each chunk's text as an `AgentStream`."""
        kwargs = self.llm_kwargs()
        tools = self.tools_for_llm()
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            limit = run.max_iterations or self.max_iterations
            if run.iterations >= limit:
                reached = IterationLimitReached(agent_name=self.name, max_iterations=limit)
                answer = self.answer_on_max_iterations
                if run.early_stopping_method is not None:
                    answer = run.early_stopping_method == "generate"
                # One call past the limit is owed when either option told the model to answer.
                owed = answer or run.answer_without_tools is not None
                if not owed or run.iterations > limit:
                    raise reached.error()
                if run.answer_without_tools is None:  # else a repeat limit told it already
                    run.answer_without_tools = reached  # one last call
            if run.answer_without_tools is not None and tools:
                # Told to answer with what it has. Only with tools: the API refuses a
                # tool_choice without them (a ReActAgent offers none).
                kwargs["tool_choice"] = "none"
            run.iterations += 1
        ctx.write_event_to_stream(ev)
        last = None
        text = ReplyText()
        llm = MeteredLLM(self.llm, ctx)  # the ledger books the call: the run's usage
        async for chunk in llm.astream_chat(ev.input, tools=tools, **kwargs):
            last = chunk
            if chunk.delta and self.streaming:
                streamed = AgentStream.added_to(text, chunk.delta, agent_name=self.name)
                ctx.write_event_to_stream(streamed)
        message = last.message if last is not None else ChatMessage.assistant("")
        self.check_reply(message, last.finish_reason if last is not None else None)
        return AgentReply(message=message, agent_name=self.name)

    @step
    async def handle_reply(
        self, ctx: Context[AgentState], ev: AgentReply
    ) -> ToolCall | AgentInput | AgentFinish | None:
        """Send one `ToolCall` per call in the reply, or settle the final answer."""
        async with ctx.store.edit_state() as state:
            self.conversation(state).put(ev.message)
        calls = ev.message.tool_calls
        if calls:
            await self.send_tool_calls(
                ctx,
                [
                    ToolCall(
                        **non_default_fields(
                            ToolCall,
                            call_id=call.id,
                            tool_name=call.name,
                            arguments=call.arguments,
                            raw_arguments=call.raw_arguments,
                            arguments_error=call.arguments_error,
                            index=index,
                            agent_name=self.name,
                        )
                    )
                    for index, call in enumerate(calls)
                ],
            )
            return None
        return await self.settle_answer(ctx, ev.message)

    # -- pieces the LLM turn uses; override to change one behaviour ----------------------

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
            raise noted(error, f"raised by agent '{self.name}'")  # its message names no agent

    async def settle_answer(
        self, ctx: Context[AgentState], message: ChatMessage
    ) -> AgentFinish | AgentInput:
        """End with `message`, validated as `output_cls` when there is one; a reply that
        fails validation is sent back with the errors (`AgentInput`), and once one passes,
        the failed replies and their re-asks leave the memory. (A refusal never gets here:
        `call_llm` raises it as `LLMRefusalError`.)"""
        if self.output_cls is None:
            return AgentFinish(response=message)
        try:
            structured = self.output_cls.model_validate_json(json_text(message.text))
        except ValidationError as error:
            return await self._ask_again(ctx, message.text, error)
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            memory = self.conversation(state)
            for position in reversed(run.rejected_answers):
                memory.delete(position, position + 2)
            run.rejected_answers.clear()
        return AgentFinish(response=message, structured_response=structured)

    def llm_kwargs(self) -> dict[str, Any]:
        """Extra request parameters: with `output_cls`, the client's `structured_kwargs` for
        it, so that the reply that ends the loop is the structured answer."""
        if self.output_cls is None:
            return {}
        return self.llm.structured_kwargs(self.output_cls)

    async def _ask_again(
        self, ctx: Context[AgentState], reply: str, error: ValidationError
    ) -> AgentInput:
        assert self.output_cls is not None
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            memory = self.conversation(state)
            run.structured_attempts += 1
            run.rejected_answers.append(len(memory.messages) - 1)  # the reply just put there
            if run.structured_attempts >= self.max_structured_attempts:
                failure = StructuredOutputError(
                    self.output_cls, run.structured_attempts, str(error), reply
                )
                raise noted(failure, f"raised by agent '{self.name}'")  # it names no agent
            memory.put(ChatMessage.user(ANSWER_RETRY_PROMPT.format(errors=error)), feedback=True)
            prompt = self.build_prompt(memory)
        return AgentInput(input=prompt, agent_name=self.name)
