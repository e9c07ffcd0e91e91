"""`AgentWorkflow`: several agents sharing one conversation, passing it on with `handoff`.

```
 AgentStart ──> setup ──> AgentInput(agent_name) ──> call_llm ──> handle_reply ──> ...
                                 ^                                              │
                                 └── aggregate_tool_results <── run_tool_call <─┘
                                       │ a `handoff` result: AgentHandoff, and the next
                                       │ AgentInput goes to the new agent
                                       v
                                    finalize ──> AgentOutput(agent_name=the last agent)
```

It is one workflow with the same steps as `FunctionAgent`; each step hands its event to the
agent the event names (`agent_name`), so every agent keeps its own prompt, tools, approval
rules, output class and overridden steps, and a `ReActAgent` can work beside a
`FunctionAgent`. Because it is one run with one context:

- every event on the one stream (token deltas included) says which agent wrote it;
- the conversation (memory), the run's counters and the shared `state` dict are the same
  for all agents: one `AgentState` in the context; a tool that takes `ctx` reads and
  edits `await ctx.store.get("state")`;
- a saved context resumes wherever the run was, whichever agent was active.

An agent may hand off to the agents in its `can_handoff_to` (all others when None) through a
`handoff(to_agent, reason)` tool; each agent runs as a copy, so the agents passed in are not
changed. A reply that calls `handoff` more than once hands off to the first call's agent.
The active agent after a run stays active for the next run on the same context; a handoff
in a reply that a `return_direct` tool ends lets the asking agent's answer stand and applies
from the next run.
`max_iterations` is checked by each agent against the run's LLM calls so far, all agents
together.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from agentflow import Context, step
from agents.agent.conversation import ConversationWorkflow
from agents.agent.errors import AgentOptionError, HandoffError
from agents.agent.events import (
    AgentFinish,
    AgentHandoff,
    AgentInput,
    AgentOutput,
    AgentReply,
    AgentStart,
    ToolCall,
    ToolCallResult,
)
from agents.agent.function_agent import FunctionAgent
from agents.agent.handoff import (
    HANDOFF_OUTPUT_PROMPT,
    HANDOFF_PROMPT,
    HANDOFF_TOOL_NAME,
    handoff_tool,
)
from agents.agent.run_state import AgentState
from agents.agent.state_prompt import checked_template
from agents.kit.agent_spans import AgentIdentity
from agents.llm.llama_index_llm import as_llm
from agents.llm.protocol import LLM
from agents.llm.types import ChatMessage
from tools import FunctionTool, ToolSet

if TYPE_CHECKING:
    from llama_index.core.llms import LLM as LlamaIndexLLMBase


class AgentWorkflow(ConversationWorkflow):
    """Agents that hand a conversation to each other. `await workflow.run("request")` gives
    the `AgentOutput` of the agent that answered."""

    def __init__(
        self,
        agents: Sequence[FunctionAgent],
        root_agent: str | None = None,
        initial_state: Mapping[str, Any] | None = None,
        timeout: float | None = 600.0,
        *,
        handoff_prompt: str | Any | None = None,
        handoff_output_prompt: str | Any | None = None,
        state_prompt: str | Any | None = None,
        output_cls: type[BaseModel] | None = None,
        structured_output_fn: Callable[[list[ChatMessage]], Any] | None = None,
        early_stopping_method: Literal["force", "generate"] | None = None,
        **workflow_kwargs: Any,
    ) -> None:
        """`agents` have unique names; `root_agent` (default: the first) answers first;
        `initial_state` is copied into each new context's shared `state`.

        The keyword-only options are LlamaIndex's: `handoff_prompt` (with `{agent_info}`)
        describes the `handoff` tool, `handoff_output_prompt` (with `{to_agent}` and
        `{reason}`) is its result; `state_prompt`, `output_cls`, `structured_output_fn` and
        `early_stopping_method`, when given, replace every agent's own."""
        super().__init__(timeout=timeout, **workflow_kwargs)
        if not agents:
            raise HandoffError("AgentWorkflow needs at least one agent")
        names = [agent.name for agent in agents]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise HandoffError(f"AgentWorkflow: two agents are named {duplicates[0]!r}")
        own_state = [agent.name for agent in agents if agent.initial_state]
        if own_state:
            raise HandoffError(
                f"AgentWorkflow: agent {own_state[0]!r} has an initial_state of its own; "
                "give AgentWorkflow(initial_state=...), which all its agents share"
            )
        shared: type[BaseModel] = Context(self).store.state_type
        for agent in agents:
            # The team shares this workflow's state; a step of an agent whose own state
            # adds fields would find none of them there, mid-run.
            state_type: type[BaseModel] = Context(agent).store.state_type
            if not issubclass(shared, state_type):
                raise HandoffError(
                    f"AgentWorkflow: agent {agent.name!r} keeps its state in a "
                    f"{state_type.__name__}, but its agents share the workflow's "
                    f"{shared.__name__}; keep the extra values under keys of their own "
                    "(ctx.store.set), or give a subclass of AgentWorkflow a step taking "
                    f"Context[{state_type.__name__}]"
                )
        self.root_agent = root_agent if root_agent is not None else names[0]
        """The agent that answers first in a new context."""
        if self.root_agent not in names:
            raise HandoffError(
                f"AgentWorkflow: root_agent {self.root_agent!r} is not one of {names}"
            )
        self.initial_state = dict(initial_state or {})
        """The shared state a new context starts with."""
        self.handoff_prompt = (
            HANDOFF_PROMPT
            if handoff_prompt is None
            else checked_template(
                "AgentWorkflow", "handoff_prompt", handoff_prompt, ("agent_info",)
            )
        )
        """The `handoff` tool's description; `{agent_info}` lists the agents."""
        self.handoff_output_prompt = (
            HANDOFF_OUTPUT_PROMPT
            if handoff_output_prompt is None
            else checked_template(
                "AgentWorkflow",
                "handoff_output_prompt",
                handoff_output_prompt,
                ("to_agent", "reason"),
            )
        )
        """The `handoff` tool's result; `{to_agent}` and `{reason}` are filled in."""
        overrides: dict[str, Any] = {}
        if state_prompt is not None:
            overrides["state_prompt"] = checked_template(
                "AgentWorkflow", "state_prompt", state_prompt, ("state", "msg")
            )
        if output_cls is not None:
            overrides["output_cls"] = output_cls
        if structured_output_fn is not None:
            overrides["structured_output_fn"] = structured_output_fn
        if early_stopping_method is not None:
            if early_stopping_method not in ("force", "generate"):
                raise AgentOptionError(
                    "AgentWorkflow: early_stopping_method must be 'force' or 'generate', got "
                    f"{early_stopping_method!r}"
                )
            overrides["answer_on_max_iterations"] = early_stopping_method == "generate"
        self.agents = {agent.name: self._member(agent, agents, overrides) for agent in agents}
        """The agents by name (copies), each with its `handoff` tool when it may hand off."""

    @classmethod
    def from_tools_or_functions(
        cls,
        tools_or_functions: Sequence[Any],
        llm: LLM | LlamaIndexLLMBase | None = None,
        system_prompt: str | None = None,
        state_prompt: str | Any | None = None,
        initial_state: Mapping[str, Any] | None = None,
        output_cls: type[BaseModel] | None = None,
        structured_output_fn: Callable[[list[ChatMessage]], Any] | None = None,
        timeout: float | None = 600.0,
        verbose: bool = False,
    ) -> AgentWorkflow:
        """A workflow of one agent named "Agent" with these tools (functions, our tools or
        LlamaIndex tools): a `FunctionAgent` when `llm` does function calling, else a
        `ReActAgent`, as LlamaIndex's `AgentWorkflow.from_tools_or_functions` makes."""
        from agents.agent.react_agent import ReActAgent

        if llm is None:
            raise TypeError(
                "AgentWorkflow.from_tools_or_functions needs an llm, e.g. llm=OpenAI('gpt-4o-mini')"
            )
        model = as_llm(llm)
        agent_cls = FunctionAgent if model.metadata.is_function_calling_model else ReActAgent
        agent = agent_cls(
            tools=tools_or_functions,
            llm=model,
            system_prompt=system_prompt,
            name="Agent",
            description="One agent with the tools given.",
        )
        return cls(
            agents=[agent],
            initial_state=initial_state,
            timeout=timeout,
            state_prompt=state_prompt,
            output_cls=output_cls,
            structured_output_fn=structured_output_fn,
            verbose=verbose,
        )

    def agent_identity(self) -> AgentIdentity:
        """The root agent (the one that answers first), for the runs' `invoke_agent` span."""
        return self.agents[self.root_agent].agent_identity()

    # -- steps: each runs the same step of the agent its event names ----------------------

    @step
    async def setup(self, ctx: Context[AgentState], ev: AgentStart) -> AgentInput:
        """Seed the shared state in a new context, then let the active agent set up."""
        async with ctx.store.edit_state() as state:
            if state.state is None:
                state.state = copy.deepcopy(self.initial_state)
            state.handoff_request = None
            agent = self.active_agent(state)
        with _naming_agent(agent.name):
            return await agent.setup(ctx, ev)

    @step
    async def call_llm(self, ctx: Context[AgentState], ev: AgentInput) -> AgentReply:
        """The named agent's LLM call, streamed."""
        with _naming_agent(ev.agent_name):
            return await self.agents[ev.agent_name].call_llm(ctx, ev)

    @step
    async def handle_reply(
        self, ctx: Context[AgentState], ev: AgentReply
    ) -> ToolCall | AgentInput | AgentFinish | None:
        """The named agent reads its reply."""
        with _naming_agent(ev.agent_name):
            return await self.agents[ev.agent_name].handle_reply(ctx, ev)

    @step(num_workers=8)
    async def run_tool_call(self, ctx: Context[AgentState], ev: ToolCall) -> ToolCallResult:
        """The named agent runs one call (`handoff` included)."""
        with _naming_agent(ev.agent_name):
            return await self.agents[ev.agent_name].run_tool_call(ctx, ev)

    @step(num_workers=1)
    async def aggregate_tool_results(
        self, ctx: Context[AgentState], ev: ToolCallResult
    ) -> AgentInput | AgentFinish | None:
        """Gather the reply's results; after a `handoff`, the next LLM call is the new
        agent's, with its own prompt over the same conversation."""
        with _naming_agent(ev.agent_name):
            outcome = await self.agents[ev.agent_name].aggregate_tool_results(ctx, ev)
        if not isinstance(outcome, AgentInput):
            return outcome
        async with ctx.store.edit_state() as state:
            successor = self._hand_off(ctx, state)
            if successor is None:
                return outcome
            prompt = successor.build_prompt(successor.conversation(state))
        return AgentInput(input=prompt, agent_name=successor.name)

    @step
    async def finalize(self, ctx: Context[AgentState], ev: AgentFinish) -> AgentOutput:
        """The active agent's output. A handoff asked for in the reply that a `return_direct`
        tool ended takes effect now, for the next run: the model was told it happened."""
        async with ctx.store.edit_state() as state:
            agent = self.active_agent(state)
        with _naming_agent(agent.name):
            output = await agent.finalize(ctx, ev)
        async with ctx.store.edit_state() as state:
            self._hand_off(ctx, state)
        return output

    # -- pieces ---------------------------------------------------------------------------

    def _hand_off(self, ctx: Context[AgentState], state: AgentState) -> FunctionAgent | None:
        """Carry out the pending handoff, if any: the new active agent, else None. Call it
        inside `ctx.store.edit_state()`."""
        request = state.handoff_request
        if request is None:
            return None
        state.handoff_request = None
        state.active_agent = request.to_agent
        ctx.write_event_to_stream(
            AgentHandoff(
                from_agent=request.from_agent,
                to_agent=request.to_agent,
                reason=request.reason,
                agent_name=request.from_agent,
            )
        )
        return self.agents[request.to_agent]

    def run_tools(self) -> Iterator[FunctionTool]:
        """Every agent's tools: a run holds their sessions (an MCP server's) for all its
        turns, whichever agent is talking."""
        for agent in self.agents.values():
            yield from agent.run_tools()

    def active_agent(self, state: AgentState) -> FunctionAgent:
        """The agent that is talking in the context whose state is `state` (the root agent
        in a new context)."""
        if state.active_agent not in self.agents:
            state.active_agent = self.root_agent
        return self.agents[state.active_agent]

    def _member(
        self,
        agent: FunctionAgent,
        team: Sequence[FunctionAgent],
        overrides: Mapping[str, Any],
    ) -> FunctionAgent:
        names = {member.name: member.description for member in team}
        allowed = agent.can_handoff_to
        if allowed is None:
            allowed = [name for name in names if name != agent.name]
        unknown = [name for name in allowed if name not in names or name == agent.name]
        if unknown:
            raise HandoffError(
                f"agent '{agent.name}' lists {unknown[0]!r} in can_handoff_to, which is "
                f"{'itself' if unknown[0] == agent.name else 'not an agent here'}; "
                f"the agents are {list(names)}"
            )
        member = copy.copy(agent)
        for attribute, value in overrides.items():
            setattr(member, attribute, value)
        if not allowed:
            return member
        if HANDOFF_TOOL_NAME in agent.toolset:
            raise HandoffError(
                f"agent '{agent.name}' has its own tool named '{HANDOFF_TOOL_NAME}', the name "
                "AgentWorkflow gives its handoff tool; rename that tool"
            )
        targets = {name: names[name] for name in allowed}
        member.toolset = ToolSet(
            [
                *agent.toolset,
                handoff_tool(agent.name, targets, self.handoff_prompt, self.handoff_output_prompt),
            ]
        )
        return member


@contextmanager
def _naming_agent(name: str) -> Iterator[None]:
    # The engine notes the step an error came from, which is the same for every agent;
    # this adds whose step it was (an LLM or tool error does not say).
    try:
        yield
    except Exception as error:
        error.add_note(f"in agent '{name}' of the AgentWorkflow")
        raise
