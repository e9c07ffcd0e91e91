"""`ConversationWorkflow`: the `run()` that agents share, taking the user message first.

```python
output = await agent.run("What is 17.5% of 2340?")     # as LlamaIndex's agents take it
output = await agent.run(user_msg="...", ctx=ctx)      # by name
handler = agent.run(ctx)                               # as every Workflow takes it
```

A first argument that is a `Context` is the context, and the second then the start event,
so code written for any `Workflow` (which passes them positionally) runs an agent
unchanged; anything else first is the user message, and the second then the chat history
(see `agents.run_arguments`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

from agentflow import Context, Workflow
from agentflow.events import StartEvent
from agentflow.handler import WorkflowHandler
from agents.agent.events import AgentOutput, agent_start_kwargs
from agents.llm.types import ChatMessage
from agents.run_arguments import name_positional_arguments


class ConversationWorkflow(Workflow[AgentOutput]):
    """A workflow that answers a user message; `FunctionAgent` and `AgentWorkflow` are two.
    Awaiting its run gives the `AgentOutput` of the agent that answered."""

    @overload
    def run(
        self,
        ctx: Context[Any] | None = None,
        start_event: StartEvent | None = None,
        *,
        user_msg: str | ChatMessage | None = None,
        chat_history: Sequence[ChatMessage] | None = None,
        forward_events: bool = False,
        **kwargs: Any,
    ) -> WorkflowHandler[AgentOutput]: ...

    @overload
    def run(
        self,
        user_msg: str | ChatMessage,
        chat_history: Sequence[ChatMessage] | None = None,
        *,
        ctx: Context[Any] | None = None,
        start_event: StartEvent | None = None,
        forward_events: bool = False,
        **kwargs: Any,
    ) -> WorkflowHandler[AgentOutput]: ...

    def run(
        self, *args: Any, forward_events: bool = False, **kwargs: Any
    ) -> WorkflowHandler[AgentOutput]:
        """Answer `user_msg`. `chat_history` replaces the conversation held in `ctx`'s
        memory; without it, reusing `ctx` continues the conversation. With neither message
        nor history, a `ctx` holding an unfinished run resumes it."""
        caller = f"{type(self).__name__}.run"
        name_positional_arguments(caller, args, kwargs, ("user_msg", "chat_history"))
        ctx, start_event = kwargs.pop("ctx", None), kwargs.pop("start_event", None)
        message, history = kwargs.pop("user_msg", None), kwargs.pop("chat_history", None)
        kwargs.update(agent_start_kwargs(message, history))
        return super().run(ctx, start_event, forward_events=forward_events, **kwargs)
