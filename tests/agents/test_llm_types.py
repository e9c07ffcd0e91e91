"""The message types: tool-call argument parsing, text of parts, usage sums, saving."""

from __future__ import annotations

import pytest

from agentflow.context.serializers import JsonSerializer
from agents.llm import (
    ChatMessage,
    ChatResponse,
    ContentPart,
    ImagePart,
    TextPart,
    ToolCallPart,
    Usage,
)


def test_tool_call_parses_or_flags_its_arguments() -> None:
    assert ToolCallPart.from_raw("1", "f", '{"a": 1}').arguments == {"a": 1}
    empty = ToolCallPart.from_raw("1", "f", "")
    assert empty.arguments == {}
    assert not empty.malformed
    broken = ToolCallPart.from_raw("1", "f", '{"a": ')
    assert broken.malformed
    assert broken.raw_arguments == '{"a": '
    scalar = ToolCallPart.from_raw("1", "f", "42")
    assert scalar.arguments_error == "arguments are a JSON int, expected an object"


def test_the_message_part_and_the_agent_event_have_distinct_names() -> None:
    import agents
    import agents.llm
    from agents.agent.events import ToolCall

    # `from agents import *` next to `from agents.llm import *` must not shadow either.
    assert ToolCallPart.__name__ != ToolCall.__name__
    assert "ToolCall" not in agents.llm.__all__
    assert not hasattr(agents.llm, "ToolCall")
    assert agents.ToolCall is ToolCall


def test_text_joins_text_parts_only() -> None:
    parts: list[ContentPart] = [TextPart(text="a "), ImagePart(url="https://x"), TextPart(text="b")]
    message = ChatMessage.user(parts)
    assert message.text == "a b"
    assert ChatMessage.assistant(None).text == ""


def test_usage_adds_up() -> None:
    total = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5, cached_tokens=1) + Usage(
        prompt_tokens=10, completion_tokens=1, total_tokens=11, reasoning_tokens=1
    )
    assert total == Usage(
        prompt_tokens=13, completion_tokens=3, total_tokens=16, cached_tokens=1, reasoning_tokens=1
    )


def test_a_usage_sum_and_a_parsed_call_are_given_only_the_fields_they_set() -> None:
    """pydantic keeps the names a model was given in a set of its own: 216 bytes for up to
    four, 728 from five on. A ledger holds three usage sums per run and a reply one part per
    call, so those leave their defaults ungiven (`model_fields_set`, `exclude_unset`)."""
    total = Usage(prompt_tokens=3, total_tokens=3) + Usage(completion_tokens=1, total_tokens=1)
    assert total.model_fields_set == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert total == Usage(prompt_tokens=3, completion_tokens=1, total_tokens=4)
    call = ToolCallPart.from_raw("1", "f", '{"a": 1}')
    assert call.model_fields_set == {"id", "name", "arguments", "raw_arguments"}
    assert ToolCallPart.from_raw("1", "f", "42").model_fields_set == {
        "id",
        "name",
        "arguments",
        "raw_arguments",
        "arguments_error",
    }


def test_messages_and_responses_survive_the_context_serializer() -> None:
    serializer = JsonSerializer()
    response = ChatResponse(
        message=ChatMessage.assistant(None, [ToolCallPart.from_raw("c1", "f", '{"x": [1]}')]),
        usage=Usage(prompt_tokens=1, total_tokens=1),
        finish_reason="tool_calls",
        raw=object(),  # the SDK object is not saved
    )
    history = [
        ChatMessage.system("s"),
        ChatMessage.user([TextPart(text="look"), ImagePart(url="data:image/png;base64,AA")]),
        ChatMessage.tool("42", tool_call_id="c1"),
    ]

    restored_response = serializer.deserialize(serializer.serialize(response))
    restored_history = serializer.deserialize(serializer.serialize(history))

    assert restored_response.raw is None
    assert restored_response.model_dump() == response.model_dump()
    assert restored_history == history


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"a": ' + "1" * 5000 + "}", "integer string conversion"),
        ('{"a": ' + "[" * 100_000 + "}", "recursion"),
    ],
)
def test_hostile_arguments_are_flagged_not_raised(raw: str, reason: str) -> None:
    call = ToolCallPart.from_raw("1", "f", raw)
    assert call.malformed
    assert call.arguments == {}
    assert call.arguments_error is not None
    assert call.arguments_error.startswith("arguments are not valid JSON")
    assert reason in call.arguments_error
