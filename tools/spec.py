"""`ToolSpec`: a class whose public methods are tools sharing one client or configuration.

```python
class Weather(ToolSpec):
    def __init__(self, api_key: str) -> None:
        self.client = WeatherClient(api_key)

    async def forecast(self, city: str, days: int = 3) -> list[Day]:
        \"\"\"The forecast for a city.\"\"\"
        ...

tools = Weather("key").to_tool_list()  # [FunctionTool 'forecast']
```
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Sequence
from typing import Any, ClassVar

from tools.errors import ToolDefinitionError
from tools.function_tool import FunctionTool


class ToolSpec:
    """Base class: every public method a subclass defines becomes a tool."""

    spec_functions: ClassVar[Sequence[str] | None] = None
    """Names of the methods to expose, in order; None for every public method."""
    tool_timeouts: ClassVar[dict[str, float]] = {}
    """Per-method timeouts in seconds, by method name; methods not listed have none."""
    tool_side_effects: ClassVar[Collection[str]] = ()
    """Methods that change things outside the conversation: their tools get
    `side_effects=True` (an agent never runs one twice with the same arguments in a run)."""
    tool_allow_repeats: ClassVar[Collection[str]] = ()
    """Methods whose answer changes by itself: their tools get `allow_repeats=True` (an
    agent runs a repeated call again instead of answering it with the earlier result)."""

    def to_tool_list(self, spec_functions: Sequence[str] | None = None) -> list[FunctionTool]:
        """One `FunctionTool` per exposed method, bound to this instance.

        Raises `ToolDefinitionError` for a listed name that is not a method here.
        """
        for listing in ("tool_side_effects", "tool_allow_repeats"):
            for name in getattr(self, listing):
                self._method(name, listing)
        names = spec_functions or self.spec_functions or self._public_methods()
        return [
            FunctionTool.from_defaults(
                self._method(name, "spec_functions"),
                timeout=self.tool_timeouts.get(name),
                side_effects=name in self.tool_side_effects,
                allow_repeats=name in self.tool_allow_repeats,
            )
            for name in names
        ]

    def _method(self, name: str, listing: str) -> Callable[..., Any]:
        method: object = getattr(self, name, None)
        if not callable(method):
            raise ToolDefinitionError(
                f"{type(self).__name__}: '{name}' is listed in {listing} but is not a method "
                "of the spec"
            )
        return method

    @classmethod
    def _public_methods(cls) -> list[str]:
        names: list[str] = []
        for klass in reversed(cls.__mro__):  # base classes first, in definition order
            if not issubclass(klass, ToolSpec) or klass is ToolSpec:
                continue
            for name, member in vars(klass).items():
                if name.startswith("_") or name in names:
                    continue
                if inspect.isfunction(member) or isinstance(member, staticmethod | classmethod):
                    names.append(name)
        return names
