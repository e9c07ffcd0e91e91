"""agentflow over MCP: workflows and tools as the tools of an MCP server (the `[mcp]` extra).

```python
from agentflow.mcp import WorkflowTool, serve

serve(WorkflowTool(ResearchFlow(), name="research"), transport="http", port=8000)
```

or from the command line: `agentflow mcp myapp:research_flow [--http --port 8000]`.

| module | holds |
|---|---|
| `agentflow.mcp.served` | a workflow (`WorkflowTool`) or a tool (`ServedTool`) as an MCP tool |
| `agentflow.mcp.server` | `mcp_server` (the SDK's server, our tools), `serve` (stdio or HTTP) |
"""

from agentflow.mcp.served import CallableTool, ServedTool, WorkflowTool
from agentflow.mcp.server import mcp_server, serve, serve_http, serve_stdio

__all__ = [
    "CallableTool",
    "ServedTool",
    "WorkflowTool",
    "mcp_server",
    "serve",
    "serve_http",
    "serve_stdio",
]
