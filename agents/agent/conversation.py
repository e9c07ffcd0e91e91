"""`ConversationWorkflow`: the agents' inputs to the kit's one `run()`, user message first.

```python
output = await agent.run("What is 17.5% of 2340?")     # as LlamaIndex's agents take it
output = await agent.run(user_msg="...", ctx=ctx)      # by name
handler = agent.run(ctx)                               # as every Workflow takes it
handler = agent.run("...", memory=ChatMemoryBuffer.from_defaults())  # LlamaIndex's memory
```

A first argument that is a `Context` is the context, and the second then the start event,
so code written for any `Workflow` (which passes them positionally) runs an agent
unchanged; anything else first is the user message, then the chat history, the memory and
the context, in LlamaIndex's order (`agents.kit.workflow.PrebuiltWorkflow` reads them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

from agentflow import Context
from agentflow.events import StartEvent
from agentflow.handler import WorkflowHandler
from agents.agent.events import AgentOutput, agent_start_kwargs
from agents.kit.workflow import PrebuiltWorkflow
from agents.llm.types import ChatMessage
from agents.memory import ChatMemory


class ConversationWorkflow(PrebuiltWorkflow[AgentOutput]):
    """A workflow that answers a user message; `FunctionAgent` and `AgentWorkflow` are two.
    Awaiting its run gives the `AgentOutput` of the agent that answered."""

    run_inputs: ClassVar[tuple[str, ...]] = ("user_msg", "chat_history", "memory", "ctx")
    """`run()`'s positional arguments after a first one that is not a `Context`, in the
    order LlamaIndex's agents take them."""

    def start_fields(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """`run()`'s arguments as `AgentStart` fields: answer `user_msg`. `chat_history`
        replaces the conversation held in `ctx`'s memory; without it, reusing `ctx`
        continues the conversation. With neither message nor history, a `ctx` holding an
        unfinished run resumes it. `memory` (a `ChatMemory` or a LlamaIndex memory, whose
        messages are read) is the conversation a context holding none starts from;
        `max_iterations` and `early_stopping_method` override the agent's for this run.
        Messages may be LlamaIndex `ChatMessage`s."""
        message, history = arguments.pop("user_msg", None), arguments.pop("chat_history", None)
        memory = arguments.pop("memory", None)
        arguments.update(
            agent_start_kwargs(
                _ours(message) if message is not None else None,
                None if history is None else [_ours(item) for item in history],
                memory=None if memory is None else _chat_memory(memory),
                max_iterations=arguments.pop("max_iterations", None),
                early_stopping_method=arguments.pop("early_stopping_method", None),
            )
        )
        return arguments

    if TYPE_CHECKING:  # the kit's run(), typed for an agent

        @overload
        def run(
            self,
            ctx: Context[Any] | None = None,
            start_event: StartEvent | None = None,
            *,
            user_msg: str | ChatMessage | Any | None = None,
            chat_history: Sequence[ChatMessage | Any] | None = None,
            memory: ChatMemory | Any | None = None,
            max_iterations: int | None = None,
            early_stopping_method: Literal["force", "generate"] | None = None,
            forward_events: bool = False,
            **kwargs: Any,
        ) -> WorkflowHandler[AgentOutput]: ...

        @overload
        def run(
            self,
            user_msg: str | ChatMessage | Any,
            chat_history: Sequence[ChatMessage | Any] | None = None,
            memory: ChatMemory | Any | None = None,
            ctx: Context[Any] | None = None,
            *,
            start_event: StartEvent | None = None,
            max_iterations: int | None = None,
            early_stopping_method: Literal["force", "generate"] | None = None,
            forward_events: bool = False,
            **kwargs: Any,
        ) -> WorkflowHandler[AgentOutput]: ...

        def run(self, *args: Any, **kwargs: Any) -> WorkflowHandler[AgentOutput]: ...


def _ours(message: Any) -> Any:
    """A LlamaIndex `ChatMessage` as ours; anything else as it is (a string, one of ours,
    or something the start event then refuses, naming the field)."""
    if type(message).__module__.startswith("llama_index."):
        from agents.llm.llama_index_llm import from_llama_message

        return from_llama_message(message)
    return message


def _chat_memory(memory: Any) -> ChatMemory:
    """`memory` as a `ChatMemory`: ours as it is, a LlamaIndex memory (`ChatMemoryBuffer`,
    `Memory`, ...) read into one with its messages and token limit."""
    if isinstance(memory, ChatMemory):
        return memory
    token_limit = getattr(memory, "token_limit", None)
    if not hasattr(memory, "get_all") or not isinstance(token_limit, int):
        raise TypeError(
            "run(memory=...) takes a ChatMemory or a LlamaIndex memory with a token_limit, "
            f"got {type(memory).__name__}"
        )
    return ChatMemory(
        token_limit=token_limit, messages=[_ours(message) for message in memory.get_all()]
    )
