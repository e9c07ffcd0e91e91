"""`ReActAgent`: the agent loop for models without function calling.

The same workflow as `FunctionAgent` (same steps, events, approval, memory and output), with
the tools described in the system prompt instead of sent as schemas, and `handle_reply`
reading the reply as text (see `agents.agent.react_format`):

- `Action` + `Action Input` becomes one `ToolCall` (a ReAct reply asks for one tool at a time);
  its result goes back as a user message `Observation: <result>`, since such models have no
  tool role.
- `Answer` ends the run; with `output_cls`, the answer must be JSON matching its schema (the
  schema is in the prompt, as `response_format` would also constrain the actions).
- A reply in neither form is sent back with what was wrong, up to `max_format_errors` times
  (then `ReActFormatLimitError`).

Each call stops at `Observation:`, so the model cannot invent a tool's result. With no tools
offered to the API there is no `tool_choice` to send: `answer_on_max_iterations` makes its
last call as it is, and `answer_on_repeated_calls` does nothing, so a call repeated past
`max_repeated_calls` ends the run with `RepeatedToolCallError` (told nothing, a model
caught in a loop would only go round it once more).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from agentflow import Context, step
from agents.agent.errors import ReActFormatLimitError
from agents.agent.events import AgentFinish, AgentInput, AgentReply, ToolCall, ToolCallResult
from agents.agent.function_agent import FunctionAgent
from agents.agent.react_format import (
    OBSERVATION_STOP,
    ReActAction,
    ReActFormatError,
    parse_react_reply,
    react_instructions,
    without_invented_observation,
)
from agents.agent.run_state import AgentState
from agents.llm.token_counts import added_prompt_tokens
from agents.llm.types import ChatMessage, FinishReason
from agents.memory import ChatMemory

_FORMAT_REMINDER = (
    "Observation: Error: your reply could not be read: {error}. Reply with 'Thought:', "
    "'Action:' and 'Action Input:' lines to use a tool, or 'Thought:' and 'Answer:' lines to "
    "answer."
)


class ReActAgent(FunctionAgent):
    """An agent that reasons in Thought / Action / Observation / Answer text. Takes the
    same arguments as `FunctionAgent`."""

    max_format_errors = 3
    """Malformed replies a run tolerates before `ReActFormatLimitError`."""

    @step
    async def handle_reply(
        self, ctx: Context[AgentState], ev: AgentReply
    ) -> ToolCall | AgentInput | AgentFinish | None:
        """Run the reply's action, settle its answer, or send a malformed reply back."""
        text = without_invented_observation(ev.message.text)
        async with ctx.store.edit_state() as state:
            self.conversation(state).put(ChatMessage.assistant(text))
        try:
            parsed = parse_react_reply(text)
        except ReActFormatError as error:
            return await self._ask_for_format(ctx, text, str(error))
        if isinstance(parsed, ReActAction):
            call = ToolCall(
                # Unique in the whole conversation, not just this run: an approval meant for
                # an earlier run's call must never answer this one.
                call_id=f"react-{uuid.uuid4().hex[:16]}",
                tool_name=parsed.tool_name,
                arguments=parsed.arguments,
                raw_arguments=parsed.raw_arguments,
                index=0,
                agent_name=self.name,
            )
            await self.send_tool_calls(ctx, [call])
            return None
        return await self.settle_answer(ctx, ChatMessage.assistant(parsed.answer))

    def check_reply(self, message: ChatMessage, finish_reason: FinishReason | None) -> None:
        """As `FunctionAgent.check_reply`, except that an empty reply goes on to
        `handle_reply`, which sends it back as a format error: a model that begins its reply
        with `Observation:` is stopped there and sends nothing."""
        if message.text or message.refusal is not None:
            super().check_reply(message, finish_reason)

    def tools_for_llm(self) -> list[Any] | None:
        """None: the tools are described in the system prompt instead."""
        return None

    def tool_result_messages(self, results: Sequence[ToolCallResult]) -> list[ChatMessage]:
        """Each result as a user message `Observation: ...`."""
        return [ChatMessage.user(f"Observation: {result.content}") for result in results]

    def build_prompt(self, memory: ChatMemory) -> list[ChatMessage]:
        """The ReAct instructions (tools, format, answer schema), then the user's system
        prompt, then the newest turns that fit, counted by the agent's LLM."""
        schema = self.output_cls.model_json_schema() if self.output_cls else None
        instructions = react_instructions(list(self.toolset), schema)
        if self.system_prompt:
            instructions = f"{self.system_prompt}\n\n{instructions}"
        system = ChatMessage.system(instructions)
        reserve = added_prompt_tokens(self.llm, [system])
        window = memory.get(reserve_tokens=reserve, llm=self.llm)
        return [system, *window]

    def llm_kwargs(self) -> dict[str, Any]:
        """Stop at `Observation:`: the tool, not the model, writes what follows."""
        return {"stop": [OBSERVATION_STOP]}

    async def _ask_for_format(self, ctx: Context[AgentState], reply: str, error: str) -> AgentInput:
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            run.format_errors += 1
            if run.format_errors > self.max_format_errors:
                raise ReActFormatLimitError(self.name, run.format_errors, error, reply)
            memory = self.conversation(state)
            memory.put(ChatMessage.user(_FORMAT_REMINDER.format(error=error)), feedback=True)
            prompt = self.build_prompt(memory)
        return AgentInput(input=prompt, agent_name=self.name)
