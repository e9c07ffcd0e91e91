"""tools.spec: a ToolSpec's public methods become tools sharing its state."""

from __future__ import annotations

from typing import ClassVar

import pytest

from tools import ToolDefinitionError, ToolSpec


class Counter(ToolSpec):
    def __init__(self, start: int) -> None:
        self.value = start

    def increment(self, by: int = 1) -> int:
        """Add to the counter."""
        self.value += by
        return self.value

    async def read(self) -> int:
        """Read the counter."""
        return self.value

    def _private(self) -> None: ...


class LoudCounter(Counter):
    def shout(self) -> str:
        """Say the value loudly."""
        return f"{self.value}!"


class Picked(Counter):
    spec_functions: ClassVar[tuple[str, ...]] = ("read",)
    tool_timeouts: ClassVar[dict[str, float]] = {"read": 2.0}


def test_public_methods_become_tools_in_definition_order() -> None:
    tools = Counter(0).to_tool_list()
    assert [t.name for t in tools] == ["increment", "read"]
    assert tools[0].metadata.description == "Add to the counter."
    assert list(tools[0].metadata.get_parameters_dict()["properties"]) == ["by"]


async def test_tools_share_the_instance_state() -> None:
    increment, read = Counter(10).to_tool_list()
    await increment.acall(by=5)
    assert (await read.acall()).content == "15"


def test_subclass_methods_follow_inherited_ones() -> None:
    assert [t.name for t in LoudCounter(0).to_tool_list()] == ["increment", "read", "shout"]


def test_spec_functions_and_timeouts_select_and_configure() -> None:
    (read,) = Picked(3).to_tool_list()
    assert (read.name, read.timeout) == ("read", 2.0)
    assert [t.name for t in Counter(0).to_tool_list(["read"])] == ["read"]


def test_listing_a_name_that_is_not_a_method_is_refused() -> None:
    with pytest.raises(ToolDefinitionError, match="Counter: 'value' is listed"):
        Counter(0).to_tool_list(["value"])


class Shop(Counter):
    tool_side_effects: ClassVar[tuple[str, ...]] = ("increment",)
    tool_allow_repeats: ClassVar[tuple[str, ...]] = ("read",)


def test_side_effects_and_allow_repeats_mark_the_methods_named() -> None:
    increment, read = Shop(0).to_tool_list()
    assert (increment.metadata.side_effects, increment.metadata.allow_repeats) == (True, False)
    assert (read.metadata.side_effects, read.metadata.allow_repeats) == (False, True)
    plain = Counter(0).to_tool_list()[0].metadata
    assert (plain.side_effects, plain.allow_repeats) == (False, False)


def test_marking_a_name_that_is_not_a_method_is_refused() -> None:
    class Typo(Counter):
        tool_side_effects: ClassVar[tuple[str, ...]] = ("incremnt",)

    with pytest.raises(ToolDefinitionError, match="Typo: 'incremnt' is listed in tool_side"):
        Typo(0).to_tool_list()
