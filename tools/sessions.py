"""Sessions held for a run: tools whose calls go through a session with a server.

The tools of one MCP server (`tools.mcp.MCPToolSet`) share a session with it, a process
or a connection. A call holds it only while the call lasts, so that nothing is left open
without an owner; but an agent run calls its tools over several LLM turns, and a session
closed between two turns would be opened again for the next (a new server process, its
state lost). So a run holds the sessions of its tools from its start to its end:

```python
let_go = hold_sessions(agent_tools)  # as the run starts: counts a holder, opens nothing
...                                  # the run's calls share one session each
await let_go()                       # as it ends: the last holder closes it
```

`agents.kit.PrebuiltWorkflow` does this for every run of a prebuilt workflow, through the
engine's `Workflow.hold_for_run`. A tool says it has a session by its `session` (None for
a plain function); any object with `hold()` and `release()` may be one, so the agents
need not know of MCP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tools.function_tool import FunctionTool


class RunSession(Protocol):
    """A session that tools share, held open by whoever holds it."""

    def hold(self) -> None:
        """Count one more holder: the session stays open until they have all released it.
        Opens nothing (the first call does) and must not fail."""

    async def release(self) -> None:
        """Let go of one `hold()`; the last holder closes the session before returning."""


def hold_sessions(tools: Iterable[FunctionTool]) -> Callable[[], Awaitable[None]] | None:
    """Hold the session of each tool that has one (each once, however many of its tools
    are given) and return how to release them all; None when no tool has a session."""
    sessions: dict[int, RunSession] = {}
    for tool in tools:
        if tool.session is not None:
            sessions.setdefault(id(tool.session), tool.session)
    if not sessions:
        return None
    held = list(sessions.values())
    for session in held:
        session.hold()

    async def release() -> None:
        # Together, so that one slow to close (a server process stopping) does not hold up
        # the others; gather waits for every release, a cancel of the caller included.
        results = await asyncio.gather(
            *(session.release() for session in held), return_exceptions=True
        )
        errors = [result for result in results if isinstance(result, BaseException)]
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise BaseExceptionGroup("releasing the run's tool sessions failed", errors)

    return release
