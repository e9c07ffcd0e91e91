"""LlamaIndex interop: its tools work wherever ours are accepted, and ours work in it.

`from_llama_index(tool)` wraps any LlamaIndex `BaseTool` (its `FunctionTool`, query-engine
tools, ...) as a `FunctionTool` validated against the tool's own `fn_schema`;
`to_llama_index(tool)` wraps ours as a LlamaIndex `AsyncBaseTool`. Converting back returns
the original object. llama_index is imported only inside these functions, when a
conversion is asked for.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any

from tools.function_tool import FunctionTool
from tools.output import ToolOutput

if TYPE_CHECKING:
    from llama_index.core.tools.types import AsyncBaseTool, BaseTool


def as_tool(obj: Any) -> FunctionTool:
    """A `FunctionTool` for anything accepted as a tool: a `FunctionTool` (returned as
    is), a LlamaIndex tool, or a plain function. Raises TypeError for anything else."""
    if isinstance(obj, FunctionTool):
        return obj
    if _is_llama_index_tool(obj):
        return from_llama_index(obj)
    if callable(obj):
        return FunctionTool.from_defaults(obj)
    raise TypeError(
        f"{obj!r} ({type(obj).__name__}) is not a tool: give a FunctionTool, a function or a "
        "LlamaIndex BaseTool"
    )


def from_llama_index(
    tool: BaseTool,
    timeout: float | None = None,
    side_effects: bool = False,
    allow_repeats: bool = False,
) -> FunctionTool:
    """Our `FunctionTool` for a LlamaIndex tool: same name, description and schema.

    Calls run the LlamaIndex tool's `acall` (sync tools in a thread, by LlamaIndex's own
    adapter) and keep its `is_error`; `timeout` bounds each call. `side_effects` and
    `allow_repeats`, which LlamaIndex tools do not have, are as in
    `FunctionTool.from_defaults`.
    """
    from agentflow.extras import extra_needed  # here: `import tools` loads no agentflow

    with extra_needed("llama-index", "from_llama_index"):
        from llama_index.core.tools.types import DefaultToolFnSchema

    if isinstance(tool, _adapter_class()):
        return tool.tool  # type: ignore[no-any-return]
    metadata = tool.metadata
    return FunctionTool.from_defaults(
        _LlamaIndexCall(tool),
        name=metadata.get_name(),
        description=metadata.description,
        return_direct=metadata.return_direct,
        timeout=timeout,
        fn_schema=metadata.fn_schema or DefaultToolFnSchema,
        side_effects=side_effects,
        allow_repeats=allow_repeats,
    )


def to_llama_index(tool: FunctionTool) -> AsyncBaseTool:
    """A LlamaIndex `AsyncBaseTool` that calls our tool (validation, timeout and error
    outputs included) and returns LlamaIndex `ToolOutput`s."""
    from agentflow.extras import extra_needed

    with extra_needed("llama-index", "to_llama_index"):
        from llama_index.core.tools.types import AsyncBaseTool

    if isinstance(tool.fn, _LlamaIndexCall) and isinstance(tool.fn.tool, AsyncBaseTool):
        return tool.fn.tool
    adapter: AsyncBaseTool = _adapter_class()(tool)
    return adapter


class _LlamaIndexCall:
    """The function of a `FunctionTool` made from a LlamaIndex tool."""

    def __init__(self, tool: BaseTool) -> None:
        self.tool = tool

    async def __call__(self, /, **kwargs: Any) -> ToolOutput:
        from llama_index.core.tools.types import adapt_to_async_tool

        output = await adapt_to_async_tool(self.tool).acall(**kwargs)
        return ToolOutput(
            tool_name=self.tool.metadata.get_name(),
            content=output.content,  # raw_input: FunctionTool fills in the caller's arguments
            raw_output=output.exception if output.is_error else output.raw_output,
            is_error=output.is_error,
        )


def _is_llama_index_tool(obj: Any) -> bool:
    # Only an object whose class is already loaded can be a LlamaIndex tool: no import.
    module = sys.modules.get("llama_index.core.tools.types")
    return module is not None and isinstance(obj, module.BaseTool)


@functools.cache
def _adapter_class() -> type[Any]:
    from llama_index.core.tools.types import AsyncBaseTool
    from llama_index.core.tools.types import ToolMetadata as LlamaToolMetadata
    from llama_index.core.tools.types import ToolOutput as LlamaToolOutput

    def convert(output: ToolOutput) -> LlamaToolOutput:
        return LlamaToolOutput(
            tool_name=output.tool_name,
            content=output.content,
            raw_input=output.raw_input,
            raw_output=output.raw_output,
            is_error=output.is_error,
            exception=output.exception if isinstance(output.exception, Exception) else None,
        )

    class AgentflowTool(AsyncBaseTool):
        """A `tools.FunctionTool` seen through LlamaIndex's tool interface."""

        def __init__(self, tool: FunctionTool) -> None:
            self.tool = tool
            self._metadata = LlamaToolMetadata(
                name=tool.metadata.name,
                description=tool.metadata.description,
                fn_schema=tool.metadata.fn_schema,
                return_direct=tool.metadata.return_direct,
            )

        @property
        def metadata(self) -> LlamaToolMetadata:
            return self._metadata

        def call(self, /, *args: Any, **kwargs: Any) -> LlamaToolOutput:
            return convert(self.tool.call(*args, **kwargs))

        async def acall(self, /, *args: Any, **kwargs: Any) -> LlamaToolOutput:
            return convert(await self.tool.acall(*args, **kwargs))

    return AgentflowTool
