"""`ToolSet`: tools by name, for dispatching the calls an LLM makes.

A set accepts `FunctionTool`s, plain functions and LlamaIndex tools (converted by
`tools.interop.as_tool`). Duplicate names are refused when the set is built; a call to a
name the set does not hold is an error output listing the names it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from tools.errors import DuplicateToolError
from tools.function_tool import FunctionTool
from tools.interop import as_tool
from tools.output import ToolOutput
from tools.spans import traced_tool_call

if TYPE_CHECKING:
    from agentflow.context import Context


class ToolSet:
    """An immutable collection of tools with unique names."""

    def __init__(self, tools: Iterable[Any]) -> None:
        by_name: dict[str, FunctionTool] = {}
        for item in tools:
            converted = as_tool(item)
            if converted.name in by_name:
                raise DuplicateToolError(
                    f"two tools are named '{converted.name}': {by_name[converted.name]!r} and "
                    f"{converted!r}; give one of them another name"
                )
            by_name[converted.name] = converted
        self._tools = by_name

    @property
    def names(self) -> list[str]:
        """The tools' names, in the order they were given."""
        return list(self._tools)

    def get(self, name: str) -> FunctionTool | None:
        """The tool called `name`, or None."""
        return self._tools.get(name)

    def __getitem__(self, name: str) -> FunctionTool:
        try:
            return self._tools[name]
        except KeyError:
            raise KeyError(f"no tool named '{name}'; available: {self._available()}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[FunctionTool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __repr__(self) -> str:
        return f"ToolSet({self.names!r})"

    async def acall(
        self,
        name: str,
        arguments: dict[str, Any],
        ctx: Context[Any] | None = None,
        *,
        call_id: str | None = None,
    ) -> ToolOutput:
        """Call the tool `name` with keyword arguments, as the call `call_id` of a model's
        reply; `ctx` reaches tools that take it. Traced as `FunctionTool.execute` is, a
        name the set does not hold too."""
        tool = self._tools.get(name)
        if tool is None:
            return await self._unknown(name, arguments, call_id)
        # Arguments come from the LLM; only the caller supplies the Context.
        return await tool.execute((), tool.keywords_for(arguments, ctx), call_id=call_id)

    async def acall_json(
        self,
        name: str,
        arguments: str,
        ctx: Context[Any] | None = None,
        *,
        call_id: str | None = None,
    ) -> ToolOutput:
        """Call the tool `name` with an LLM's JSON arguments string."""
        tool = self._tools.get(name)
        if tool is None:
            return await self._unknown(name, {"arguments": arguments}, call_id)
        return await tool.acall_json(arguments, ctx=ctx, call_id=call_id)

    def _available(self) -> str:
        return ", ".join(self._tools) or "(none)"

    async def _unknown(
        self, name: str, raw_input: dict[str, Any], call_id: str | None
    ) -> ToolOutput:
        async def answer() -> ToolOutput:
            return ToolOutput(
                tool_name=name,
                content=f"Error: there is no tool named '{name}'. Available tools: "
                f"{self._available()}",
                raw_input=raw_input,
                is_error=True,
            )

        return await traced_tool_call(name, None, call_id, answer)
