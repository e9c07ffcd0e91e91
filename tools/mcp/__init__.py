"""Tools from MCP servers, for any agent (the `[mcp]` extra, on the official `mcp` SDK).

```python
from tools.mcp import MCPToolSet

async with MCPToolSet.stdio("python", ["server.py"], prefix="notes_") as notes:
    agent = FunctionAgent(tools=notes.tools, llm=llm)
```

| module | holds |
|---|---|
| `tools.mcp.toolset` | `MCPToolSet`: the session, listing, calls, timeouts, reconnecting |
| `tools.mcp.tool` | `MCPTool`: one server tool as a `FunctionTool`, with the server's schema |
| `tools.mcp.results` | MCP tool results (text, structured, error) as `ToolOutput`s |
| `tools.mcp.connection` | `MCPConnection`: one session, held by a task of its own |
"""

from tools.mcp.tool import MCPTool, MCPToolMetadata
from tools.mcp.toolset import MCPToolSet

__all__ = ["MCPTool", "MCPToolMetadata", "MCPToolSet"]
