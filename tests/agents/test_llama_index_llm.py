"""LlamaIndexLLM over LlamaIndex's own mock LLMs: chat, tools, streams, structured output."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest
from llama_index.core.base.llms.types import TextBlock, ToolCallBlock
from llama_index.core.llms import ChatMessage as LlamaChatMessage
from llama_index.core.llms import MessageRole
from llama_index.core.llms.mock import MockFunctionCallingLLM, MockLLM
from pydantic import BaseModel

from agents.llm import LLM, ChatMessage, ImagePart, TextPart, ToolCallPart, ToolSchemaError
from agents.llm.llama_index_llm import LlamaIndexLLM
from tools import FunctionTool

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


class Recorder:
    """A response generator for MockFunctionCallingLLM that records what it was sent."""

    def __init__(self, *replies: LlamaChatMessage) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[list[LlamaChatMessage], dict[str, Any]]] = []

    def __call__(self, messages: Sequence[LlamaChatMessage], **kwargs: Any) -> LlamaChatMessage:
        self.calls.append((list(messages), kwargs))
        return self.replies.pop(0)


def test_is_an_llm_with_the_wrapped_metadata() -> None:
    llm = LlamaIndexLLM(MockFunctionCallingLLM())
    assert isinstance(llm, LLM)
    assert llm.metadata.is_function_calling_model
    assert llm.metadata.context_window > 0
    with pytest.raises(TypeError, match=r"wraps a llama_index\.core\.llms\.LLM, got str"):
        LlamaIndexLLM("gpt-4o")


async def test_chat_translates_messages_both_ways() -> None:
    recorder = Recorder(LlamaChatMessage(role="assistant", content="It rains."))
    llm = LlamaIndexLLM(MockFunctionCallingLLM(response_generator=recorder))
    history = [
        ChatMessage.system("Be brief."),
        ChatMessage.user([TextPart(text="Look:"), ImagePart(url="https://x.test/a.png")]),
        ChatMessage.assistant(None, [ToolCallPart.from_raw("c1", "weather", '{"city": "Oslo"}')]),
        ChatMessage.tool("rain", tool_call_id="c1"),
    ]

    reply = await llm.achat(history)

    assert reply.message.text == "It rains."
    assert reply.finish_reason == "stop"
    sent, _ = recorder.calls[0]
    assert [message.role for message in sent] == [
        MessageRole.SYSTEM,
        MessageRole.USER,
        MessageRole.ASSISTANT,
        MessageRole.TOOL,
    ]
    assert sent[1].blocks[0] == TextBlock(text="Look:")
    assert str(sent[1].blocks[1].url) == "https://x.test/a.png"  # type: ignore[union-attr]
    call = sent[2].blocks[0]
    assert isinstance(call, ToolCallBlock)
    assert (call.tool_call_id, call.tool_name, call.tool_kwargs) == (
        "c1",
        "weather",
        {"city": "Oslo"},
    )
    assert sent[3].additional_kwargs == {"tool_call_id": "c1"}


async def test_tool_calls_come_back_and_malformed_ones_are_flagged() -> None:
    recorder = Recorder(
        LlamaChatMessage(
            role="assistant",
            blocks=[
                ToolCallBlock(tool_call_id="a", tool_name="weather", tool_kwargs={"city": "Oslo"}),
                ToolCallBlock(tool_call_id="b", tool_name="weather", tool_kwargs='{"city": "Ber'),
            ],
        )
    )
    llm = LlamaIndexLLM(MockFunctionCallingLLM(response_generator=recorder))

    reply = await llm.achat([ChatMessage.user("weather?")], tools=[WEATHER])

    oslo, bergen = reply.message.tool_calls
    assert (oslo.id, oslo.name, oslo.arguments) == ("a", "weather", {"city": "Oslo"})
    assert bergen.malformed
    assert bergen.raw_arguments == '{"city": "Ber'
    assert reply.finish_reason == "tool_calls"
    _, kwargs = recorder.calls[0]
    (tool,) = kwargs["tools"]
    assert tool.metadata.to_openai_tool() == WEATHER
    with pytest.raises(ToolSchemaError):
        await llm.achat([ChatMessage.user("weather?")], tools=[object()])


async def test_our_tools_reach_the_llm_in_llamaindex_shape() -> None:
    recorder = Recorder(LlamaChatMessage(role="assistant", content="Sunny."))
    llm = LlamaIndexLLM(MockFunctionCallingLLM(response_generator=recorder))

    def weather(city: str) -> str:
        """Weather in a city."""
        return "sun"

    await llm.achat([ChatMessage.user("weather?")], tools=[FunctionTool.from_defaults(weather)])

    _, kwargs = recorder.calls[0]
    (sent,) = kwargs["tools"]
    spec = sent.metadata.to_openai_tool(skip_length_check=True)  # as LlamaIndex's OpenAI asks
    assert spec["function"]["name"] == "weather"
    assert sent.metadata.get_parameters_dict()["required"] == ["city"]


async def test_tools_need_a_function_calling_llm() -> None:
    with pytest.raises(TypeError, match="MockLLM is not a FunctionCallingLLM"):
        await LlamaIndexLLM(MockLLM()).achat([ChatMessage.user("hi")], tools=[WEATHER])


async def test_stream_deltas() -> None:
    llm = LlamaIndexLLM(MockLLM(max_tokens=3))

    steps = [step async for step in llm.astream_chat([ChatMessage.user("hi")])]

    assert [step.delta for step in steps] == ["text ", "text ", "text"]
    assert [step.finish_reason for step in steps] == [None, None, "stop"]


async def test_stream_tool_calls_arrive_on_the_last_item() -> None:
    async def replies(
        messages: Sequence[LlamaChatMessage], **kwargs: Any
    ) -> AsyncGenerator[LlamaChatMessage, None]:
        yield LlamaChatMessage(role="assistant", content="Checking")
        yield LlamaChatMessage(
            role="assistant",
            blocks=[
                TextBlock(text="Checking"),
                ToolCallBlock(tool_call_id="a", tool_name="weather", tool_kwargs={"city": "Oslo"}),
            ],
        )

    llm = LlamaIndexLLM(MockFunctionCallingLLM(response_generator=replies))

    steps = [step async for step in llm.astream_chat([ChatMessage.user("?")], tools=[WEATHER])]

    assert steps[-1].message.tool_calls[0].arguments == {"city": "Oslo"}
    assert steps[-1].message.text == "Checking"
    assert steps[-1].finish_reason == "tool_calls"


class Answer(BaseModel):
    value: int


async def test_structured_output_valid_on_the_second_try() -> None:
    recorder = Recorder(
        LlamaChatMessage(role="assistant", content='{"value": "seven"}'),
        LlamaChatMessage(role="assistant", content='{"value": 7}'),
    )
    llm = LlamaIndexLLM(MockFunctionCallingLLM(response_generator=recorder))

    answer = await llm.astructured_predict(Answer, [ChatMessage.user("3 + 4?")])

    assert answer == Answer(value=7)
    first, _ = recorder.calls[0]
    second, _ = recorder.calls[1]
    assert json.dumps(Answer.model_json_schema()) in (first[-1].content or "")
    assert "valid integer" in (second[-2].content or "")


def test_tool_call_blocks_without_ids_get_ids() -> None:
    from agents.llm.llama_index_llm import from_llama_message

    message = from_llama_message(
        LlamaChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=[
                ToolCallBlock(tool_name="weather", tool_kwargs={"city": "Oslo"}),
                ToolCallBlock(tool_name="weather", tool_kwargs={"city": "Bergen"}),
            ],
        )
    )

    assert [call.id for call in message.tool_calls] == ["call_0", "call_1"]
    assert message.tool_calls[1].arguments == {"city": "Bergen"}


async def test_metered_structured_output_books_each_attempt() -> None:
    # Structured output is part of the protocol: MeteredLLM asks through the adapter's
    # structured_kwargs attempt by attempt, booking each (it used to hand the whole call over
    # to the adapter, unbooked).
    from agentflow import Context, Workflow, step
    from agentflow.events import StartEvent, StopEvent
    from agents.llm import MeteredLLM, UsageLedger
    from agents.llm.metered import LEDGER_KEY

    class Idle(Workflow):
        @step
        async def noop(self, ev: StartEvent) -> StopEvent:
            return StopEvent()

    recorder = Recorder(
        LlamaChatMessage(role="assistant", content='{"value": "seven"}'),
        LlamaChatMessage(role="assistant", content='{"value": 7}'),
    )
    ctx: Context[Any] = Context(Idle())
    metered = MeteredLLM(LlamaIndexLLM(MockFunctionCallingLLM(response_generator=recorder)), ctx)

    answer = await metered.astructured_predict(Answer, [ChatMessage.user("3 + 4?")])

    assert answer == Answer(value=7)
    ledger = await ctx.store.get(LEDGER_KEY)
    assert isinstance(ledger, UsageLedger)
    assert ledger.total.calls == 2
    assert ledger.total.usage.completion_tokens > 0
