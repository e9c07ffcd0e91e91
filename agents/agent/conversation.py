"""`ConversationWorkflow`: the `run()` that agents share, taking the user message first.

```python
output = await agent.run("What is 17.5% of 2340?")     # as LlamaIndex's agents take it
output = await agent.run(user_msg="...", ctx=ctx)      # by name
handler = agent.run(ctx)                               # as every Workflow takes it
```

A first argument that is a `Context` is the context, and a second a `StartEvent` is the start
event, so code written for any `Workflow` (which passes them positionally) runs an agent
unchanged; anything else first is the user message, and anything else second is the chat
history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

from agentflow import Context, Workflow
from agentflow.events import StartEvent
from agentflow.handler import WorkflowHandler
from agents.agent.events import agent_start_kwargs
from agents.llm.types import ChatMessage


class ConversationWorkflow(Workflow):
    """A workflow that answers a user message; `FunctionAgent` and `AgentWorkflow` are two."""

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
    ) -> WorkflowHandler: ...

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
    ) -> WorkflowHandler: ...

    def run(self, *args: Any, forward_events: bool = False, **kwargs: Any) -> WorkflowHandler:
        """Answer `user_msg`. `chat_history` replaces the conversation held in `ctx`'s
        memory; without it, reusing `ctx` continues the conversation. With neither message
        nor history, a `ctx` holding an unfinished run resumes it."""
        if len(args) > 2:
            raise TypeError(
                f"{type(self).__name__}.run() takes at most 2 positional arguments (user_msg "
                f"and chat_history, or ctx and start_event), got {len(args)}"
            )
        first, second = (*args, None, None)[:2]
        if isinstance(first, Context):
            _given_once("ctx", first, kwargs)
        elif first is not None:
            _given_once("user_msg", first, kwargs)
        if isinstance(second, StartEvent):
            _given_once("start_event", second, kwargs)
        elif second is not None:
            _given_once("chat_history", second, kwargs)
        ctx = kwargs.pop("ctx", None)
        start_event = kwargs.pop("start_event", None)
        kwargs.update(
            agent_start_kwargs(kwargs.pop("user_msg", None), kwargs.pop("chat_history", None))
        )
        return super().run(ctx, start_event, forward_events=forward_events, **kwargs)


def _given_once(name: str, value: Any, kwargs: dict[str, Any]) -> None:
    if name in kwargs:
        raise TypeError(f"run() got {name} twice: positionally and as {name}=...")
    kwargs[name] = value
