"""LLM-callable tools: Python functions with JSON schemas and safe execution.

```python
from tools import FunctionTool, ToolSet, tool


@tool
def add(a: int, b: int) -> int:
    \"\"\"Add two integers.\"\"\"
    return a + b


toolset = ToolSet([add])
output = await toolset.acall_json("add", '{"a": 2, "b": "3"}')  # content "5"
```

| module | holds |
|---|---|
| `tools.function_tool` | `FunctionTool`, `@tool`: calling, validation, timeouts, error outputs |
| `tools.threads`, `tools.tasks` | sync and async calls a caller can walk away from |
| `tools.schema` | signature, hints and docstring -> pydantic model of the arguments |
| `tools.metadata` | `ToolMetadata`: name, description, schema, `to_openai_tool()` |
| `agents.llm.openai.strict_schema` | OpenAI strict-mode rewriting of a schema |
| `tools.output` | `ToolOutput` and how results become text |
| `tools.spec` | `ToolSpec`: a class whose methods are tools |
| `tools.toolset` | `ToolSet`: tools by name |
| `tools.interop` | conversions to and from LlamaIndex tools |
| `tools.mcp` | `MCPToolSet`: the tools of an MCP server (the `mcp` extra; not loaded here) |
| `tools.sessions` | `hold_sessions`: an agent run holds its tools' sessions (an MCP server's) |
| `tools.builtin` | calculator, confined file reading, `http_get` |
| `tools.errors` | every exception the package raises |
"""

from tools.errors import (
    CalculatorError,
    DuplicateToolError,
    FetchError,
    PathOutsideRootError,
    ToolCancelledError,
    ToolDefinitionError,
    URLNotAllowedError,
)
from tools.function_tool import FunctionTool, tool
from tools.metadata import ToolMetadata
from tools.output import ToolOutput
from tools.spec import ToolSpec
from tools.toolset import ToolSet

__all__ = [
    "CalculatorError",
    "DuplicateToolError",
    "FetchError",
    "FunctionTool",
    "PathOutsideRootError",
    "ToolCancelledError",
    "ToolDefinitionError",
    "ToolMetadata",
    "ToolOutput",
    "ToolSet",
    "ToolSpec",
    "URLNotAllowedError",
    "tool",
]
