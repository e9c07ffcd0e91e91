"""`WireOpenAI`: a LlamaIndex function-calling LLM speaking OpenAI's chat completions wire.

Programs written for LlamaIndex's agents pass a LlamaIndex LLM; the usual one is
llama-index-llms-openai's `OpenAI`, which holds the openai SDK below 3 (this project takes
2.x and 3.x, and tests on 3.x), so the project does not depend on it. This stands in for it:
a subclass of LlamaIndex's own `FunctionCallingLLM`, streaming through the openai SDK, so a
test mocks its HTTP at the wire like any other. Written by hand for that reason alone.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import openai
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    LLMMetadata,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.tools import ToolSelection


class WireOpenAI(FunctionCallingLLM):
    """Streams every reply; tool calls come back as `ToolCallBlock`s of the message."""

    model: str = "gpt-4o-mini"
    api_base: str
    api_key: str = "sk-test"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            model_name=self.model,
            is_chat_model=True,
            is_function_calling_model=True,
            context_window=128_000,
        )

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[Any],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        messages = list(chat_history or [])
        if user_msg is not None:
            messages.append(
                user_msg if isinstance(user_msg, ChatMessage) else ChatMessage(content=user_msg)
            )
        specs = [tool.metadata.to_openai_tool() for tool in tools]
        return {"messages": messages, "tools": specs or None, **kwargs}

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        calls = [
            ToolSelection(
                tool_id=block.tool_call_id or "",
                tool_name=block.tool_name,
                tool_kwargs=_arguments(block.tool_kwargs),
            )
            for block in response.message.blocks
            if isinstance(block, ToolCallBlock)
        ]
        if not calls and error_on_no_tool_call:
            raise ValueError("the reply has no tool call")
        return calls

    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [_wire_message(message) for message in messages],
            "stream": True,
        }
        if kwargs.get("tools"):
            request["tools"] = kwargs["tools"]
        if kwargs.get("stop"):
            request["stop"] = kwargs["stop"]
        client = openai.AsyncOpenAI(api_key=self.api_key, base_url=self.api_base, max_retries=0)
        stream = await client.chat.completions.create(**request)
        return _replies(stream)

    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        replies = [reply async for reply in await self.astream_chat(messages, **kwargs)]
        return replies[-1]

    # LlamaIndex's agents call only the async chat methods above.
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Any:
        raise NotImplementedError

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Any:
        raise NotImplementedError

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        raise NotImplementedError

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        raise NotImplementedError


async def _replies(stream: Any) -> AsyncGenerator[ChatResponse, None]:
    """One `ChatResponse` per chunk with choices: the text and the tool calls so far."""
    text = ""
    calls: dict[int, dict[str, str]] = {}
    async for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        for call in delta.tool_calls or []:
            entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] = call.id or entry["id"]
            if call.function is not None:
                entry["name"] += call.function.name or ""
                entry["arguments"] += call.function.arguments or ""
        piece = delta.content or ""
        text += piece
        blocks: list[Any] = [TextBlock(text=text)]
        blocks += [
            ToolCallBlock(tool_call_id=c["id"], tool_name=c["name"], tool_kwargs=c["arguments"])
            for c in calls.values()
        ]
        yield ChatResponse(message=ChatMessage(role="assistant", blocks=blocks), delta=piece)


def _arguments(raw: dict[str, Any] | str) -> dict[str, Any]:
    # Mid-stream, the arguments are a JSON prefix: nothing to read yet.
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _wire_message(message: ChatMessage) -> dict[str, Any]:
    """A LlamaIndex message as the chat completions API takes it."""
    role = message.role.value
    wire: dict[str, Any] = {"role": role, "content": message.content or ""}
    calls = [block for block in message.blocks if isinstance(block, ToolCallBlock)]
    if calls:
        wire["tool_calls"] = [
            {
                "id": block.tool_call_id,
                "type": "function",
                "function": {
                    "name": block.tool_name,
                    "arguments": block.tool_kwargs
                    if isinstance(block.tool_kwargs, str)
                    else json.dumps(block.tool_kwargs),
                },
            }
            for block in calls
        ]
    if role == "tool":
        wire["tool_call_id"] = message.additional_kwargs.get("tool_call_id")
    return wire
