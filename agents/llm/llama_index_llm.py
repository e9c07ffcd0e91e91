"""`LlamaIndexLLM`: any `llama_index.core.llms.LLM` as an `LLM` here.

Messages are translated both ways (text and image parts, tool calls as `ToolCallBlock`s, tool
results with their `tool_call_id`); tools go to a function-calling LLM through
`achat_with_tools`, in the shape LlamaIndex's integrations read. Structured output
(`structured_kwargs`) puts the class's JSON schema in the prompt, and `astructured_predict`
re-asks with the validation errors, like `OpenAI`. Tokens are counted with LlamaIndex's own
tokenizer (`llama_index.core.utils.get_tokenizer`). llama_index is imported when an adapter
is made.

`as_llm(llm)` is how the agents take their `llm`: one of ours as it is, a LlamaIndex LLM
wrapped here, so code written for LlamaIndex's agents passes its LLM unchanged.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from agentflow.extras import extra_needed
from agents.llm.protocol import LLM, LLMMetadata, OutputT, ToolChoice
from agents.llm.spans import ChatSpan, chat_span
from agents.llm.structured import predict_with
from agents.llm.tool_schema import tool_schema
from agents.llm.types import ChatMessage, ChatResponse, ImagePart, TextPart, ToolCallPart, Usage

_JSON_PROMPT = (
    "Reply with only a JSON object, no prose and no code fence, that matches this JSON "
    "schema:\n{schema}"
)


def as_llm(llm: Any) -> LLM:
    """`llm` as an `LLM` here: a `llama_index.core.llms.LLM` wrapped in a `LlamaIndexLLM`,
    anything else that is an `LLM` as it is. Raises TypeError, naming what was given, for
    anything else."""
    if _is_llama_index_llm(llm):
        return LlamaIndexLLM(llm)
    if isinstance(llm, LLM):
        return llm
    raise TypeError(
        f"{llm!r} ({type(llm).__name__}) is not an LLM: give an agents.llm client such as "
        "OpenAI('gpt-4o-mini') or a llama_index.core.llms.LLM"
    )


def _is_llama_index_llm(obj: Any) -> bool:
    # Only an object whose class is loaded can be a LlamaIndex LLM: no import here. Checked
    # before our protocol, which a LlamaIndex LLM's method names would also satisfy.
    module = sys.modules.get("llama_index.core.llms.llm")
    return module is not None and isinstance(obj, module.LLM)


_WELL_KNOWN_PROVIDERS = {
    "anthropic": "anthropic",
    "azure_inference": "azure.ai.inference",
    "azure_openai": "azure.ai.openai",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "gemini": "gcp.gemini",
    "google_genai": "gcp.gen_ai",
    "groq": "groq",
    "ibm": "ibm.watsonx.ai",
    "mistralai": "mistral_ai",
    "openai": "openai",
    "perplexity": "perplexity",
    "vertex": "gcp.vertex_ai",
    "xai": "x_ai",
}
"""A LlamaIndex integration's package (`llama_index.llms.<package>`) -> the provider's
well-known `gen_ai.provider.name` value in OpenTelemetry's GenAI conventions."""


class LlamaIndexLLM:
    """Wraps a LlamaIndex LLM; tool calls work when it is a `FunctionCallingLLM`."""

    def __init__(self, llm: Any, structured_max_attempts: int = 3) -> None:
        """`llm` is any `llama_index.core.llms.LLM`."""
        with extra_needed("llama-index", "LlamaIndexLLM"):
            from llama_index.core.llms import LLM as LlamaLLM

        if not isinstance(llm, LlamaLLM):
            raise TypeError(
                f"LlamaIndexLLM wraps a llama_index.core.llms.LLM, got {type(llm).__name__}"
            )
        self.llm = llm
        """The wrapped LlamaIndex LLM."""
        self.structured_max_attempts = structured_max_attempts
        """How many times `astructured_predict` asks before giving up."""

    @property
    def metadata(self) -> LLMMetadata:
        """The wrapped LLM's model name, context window and function-calling support."""
        meta = self.llm.metadata
        return LLMMetadata(
            model=meta.model_name,
            context_window=meta.context_window,
            is_function_calling_model=meta.is_function_calling_model,
            max_output_tokens=meta.num_output,
        )

    async def achat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> ChatResponse:
        """The wrapped LLM's reply, with its tool calls."""
        history = _history(messages, kwargs)
        with self._span(messages, kwargs) as span, span.sending():
            if tools:
                response = await self._function_calling().achat_with_tools(
                    _llama_tools(tools),
                    chat_history=history,
                    allow_parallel_tool_calls=True,
                    tool_required=tool_choice == "required",
                    **kwargs,
                )
            else:
                response = await self.llm.achat(history, **kwargs)
            reply = self._response(response, delta=None, final=True)
            span.record(reply, _raw_field(response, "id"), _raw_field(response, "model"))
        return reply

    async def astream_chat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[ChatResponse, None]:
        """The wrapped LLM's stream; tool calls are read from its last item."""
        history = _history(messages, kwargs)
        with self._span(messages, kwargs) as span:
            with span.sending():
                if tools:
                    stream = await self._function_calling().astream_chat_with_tools(
                        _llama_tools(tools),
                        chat_history=history,
                        allow_parallel_tool_calls=True,
                        tool_required=tool_choice == "required",
                        **kwargs,
                    )
                else:
                    stream = await self.llm.astream_chat(history, **kwargs)
            last: Any = None
            async for item in stream:
                if last is not None:
                    yield self._response(last, delta=last.delta or "", final=False)
                last = item
            if last is not None:
                reply = self._response(last, delta=last.delta or "", final=True)
                span.record(reply, _raw_field(last, "id"), _raw_field(last, "model"))
                yield reply

    async def astructured_predict(
        self, output_cls: type[OutputT], messages: Sequence[ChatMessage], **kwargs: Any
    ) -> OutputT:
        """An `output_cls` instance: the schema is put in the prompt, a reply that fails
        validation is sent back with the errors (up to `structured_max_attempts`)."""
        return await predict_with(self, output_cls, messages, kwargs)

    def structured_kwargs(self, output_cls: type[BaseModel]) -> dict[str, Any]:
        """`output_cls` as the parameter that puts its JSON schema in the prompt (a system
        message after the conversation); LlamaIndex has no one way to ask for JSON."""
        return {_OUTPUT_CLS: output_cls}

    def count_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The messages' text and tool calls and the tools' schemas, by LlamaIndex's
        tokenizer."""
        schemas = [json.dumps(tool_schema(tool).parameters) for tool in tools or ()]
        return sum(map(self.count_reply_tokens, messages)) + sum(map(_count_text, schemas))

    def count_reply_tokens(self, message: ChatMessage) -> int:
        """The message's text and tool calls, by LlamaIndex's tokenizer."""
        written = [message.text, *(call.name + call.raw_arguments for call in message.tool_calls)]
        return sum(_count_text(text) for text in written if text)

    @property
    def provider_name(self) -> str:
        """`gen_ai.provider.name` on the spans: the GenAI conventions' name for the
        LlamaIndex integration's provider (`llama_index.llms.mistralai` gives "mistral_ai"),
        the integration's package for a provider they do not name ("ollama"), else
        "llama_index"."""
        package = type(self.llm).__module__.split(".")
        if package[:2] != ["llama_index", "llms"] or len(package) < 3:
            return "llama_index"
        return _WELL_KNOWN_PROVIDERS.get(package[2], package[2])

    def _span(self, messages: Sequence[ChatMessage], kwargs: Mapping[str, Any]) -> ChatSpan:
        """The call's `chat` span, with the wrapped LLM's parameters and the call's."""
        settings = {name: getattr(self.llm, name, None) for name in ("temperature", "max_tokens")}
        return chat_span(self.provider_name, self.metadata.model, {**settings, **kwargs}, messages)

    def _function_calling(self) -> Any:
        from llama_index.core.llms.function_calling import FunctionCallingLLM

        if not isinstance(self.llm, FunctionCallingLLM):
            raise TypeError(
                f"{type(self.llm).__name__} is not a FunctionCallingLLM: it cannot take tools"
            )
        return self.llm

    def _response(self, response: Any, delta: str | None, final: bool) -> ChatResponse:
        message = from_llama_message(response.message)
        if final and not message.tool_calls:
            message.tool_calls = self._tool_calls_from(response)
        return ChatResponse(
            message=message,
            delta=message.text if delta is None else delta,
            usage=_usage(response),
            finish_reason=("tool_calls" if message.tool_calls else "stop") if final else None,
            raw=response,
        )

    def _tool_calls_from(self, response: Any) -> list[ToolCallPart]:
        # Integrations that keep tool calls outside the message blocks expose them here.
        from llama_index.core.llms.function_calling import FunctionCallingLLM

        if not isinstance(self.llm, FunctionCallingLLM):
            return []
        try:
            selections = self.llm.get_tool_calls_from_response(
                response, error_on_no_tool_call=False
            )
        except NotImplementedError:
            return []
        return [
            ToolCallPart(
                id=selection.tool_id or f"call_{index}",
                name=selection.tool_name,
                arguments=dict(selection.tool_kwargs),
                raw_arguments=json.dumps(selection.tool_kwargs),
            )
            for index, selection in enumerate(selections)
        ]


_OUTPUT_CLS = "output_cls"


def _history(messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> list[Any]:
    """`messages` for the wrapped LLM; an `output_cls` among `kwargs` (taken out) adds the
    instruction to answer with its JSON schema."""
    history = [to_llama_message(message) for message in messages]
    output_cls: type[BaseModel] | None = kwargs.pop(_OUTPUT_CLS, None)
    if output_cls is not None:
        schema = json.dumps(output_cls.model_json_schema())
        history.append(to_llama_message(ChatMessage.system(_JSON_PROMPT.format(schema=schema))))
    return history


def _count_text(text: str) -> int:
    from llama_index.core.utils import get_tokenizer

    return len(get_tokenizer()(text))


def to_llama_message(message: ChatMessage) -> Any:
    """Our message as a `llama_index.core.llms.ChatMessage`."""
    from llama_index.core.base.llms.types import ImageBlock, TextBlock, ToolCallBlock
    from llama_index.core.llms import ChatMessage as LlamaChatMessage

    blocks: list[Any] = []
    if isinstance(message.content, str):
        blocks.append(TextBlock(text=message.content))
    elif message.content is not None:
        for part in message.content:
            if isinstance(part, TextPart):
                blocks.append(TextBlock(text=part.text))
            elif isinstance(part, ImagePart):
                blocks.append(ImageBlock(url=part.url, detail=part.detail))
    blocks += [
        ToolCallBlock(
            tool_call_id=call.id,
            tool_name=call.name,
            tool_kwargs=call.raw_arguments if call.malformed else call.arguments,
        )
        for call in message.tool_calls
    ]
    extra: dict[str, Any] = {}
    if message.tool_call_id is not None:
        extra["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        extra["name"] = message.name
    return LlamaChatMessage(role=message.role, blocks=blocks, additional_kwargs=extra)


def from_llama_message(message: Any) -> ChatMessage:
    """A `llama_index.core.llms.ChatMessage` as our message."""
    from llama_index.core.base.llms.types import ImageBlock, TextBlock, ToolCallBlock

    parts: list[TextPart | ImagePart] = []
    calls: list[ToolCallPart] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            parts.append(TextPart(text=block.text))
        elif isinstance(block, ImageBlock) and block.url is not None:
            parts.append(ImagePart(url=str(block.url)))
        elif isinstance(block, ToolCallBlock):
            raw = block.tool_kwargs
            text = raw if isinstance(raw, str) else json.dumps(raw)
            # An integration may leave the id out: give the call one its result can quote.
            call_id = block.tool_call_id or f"call_{len(calls)}"
            calls.append(ToolCallPart.from_raw(call_id, block.tool_name, text))
    content: str | list[TextPart | ImagePart] | None
    if all(isinstance(part, TextPart) for part in parts):
        text = "".join(part.text for part in parts if isinstance(part, TextPart))
        content = text if text or not calls else None
    else:
        content = parts
    role = message.role.value if hasattr(message.role, "value") else str(message.role)
    if role not in ("system", "developer", "user", "assistant", "tool"):
        role = "assistant"
    extra = message.additional_kwargs
    return ChatMessage(
        role=role,
        content=content,
        tool_calls=calls,
        tool_call_id=extra.get("tool_call_id"),
        name=extra.get("name"),
    )


def _raw_field(response: Any, name: str) -> str | None:
    """A field of the provider's reply under a LlamaIndex response (`id`, `model`), if any."""
    raw = response.raw
    value = raw.get(name) if isinstance(raw, Mapping) else getattr(raw, name, None)
    return value if isinstance(value, str) else None


def _usage(response: Any) -> Usage | None:
    # LlamaIndex has no usage field: integrations put counts in additional_kwargs, or leave
    # them in the provider's raw response.
    counts: Any = response.additional_kwargs
    if "prompt_tokens" not in counts:
        raw = response.raw
        counts = raw.get("usage") if isinstance(raw, Mapping) else getattr(raw, "usage", None)
        if counts is not None and not isinstance(counts, Mapping):
            counts = {
                key: getattr(counts, key, 0)
                for key in ("prompt_tokens", "completion_tokens", "total_tokens")
            }
    if not isinstance(counts, Mapping) or "prompt_tokens" not in counts:
        return None
    prompt = int(counts.get("prompt_tokens") or 0)
    completion = int(counts.get("completion_tokens") or 0)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=int(counts.get("total_tokens") or prompt + completion),
    )


class _DictToolMetadata:
    def __init__(self, tool: Any) -> None:
        schema = tool_schema(tool)  # raises ToolSchemaError for a bad one
        self.parameters = schema.parameters
        self.spec: dict[str, Any] = {
            "type": "function",
            "function": {
                "name": schema.name,
                "description": schema.description,
                "parameters": schema.parameters,
            },
        }
        self.name = schema.name
        self.description = schema.description

    def to_openai_tool(self, skip_length_check: bool = False) -> dict[str, Any]:
        return self.spec

    def get_parameters_dict(self) -> dict[str, Any]:
        return self.parameters


class _DictTool:
    """A tool in the shape LlamaIndex integrations read (`tool.metadata`, whose
    `to_openai_tool()` is LlamaIndex's name for its tool format)."""

    def __init__(self, tool: Any) -> None:
        self.metadata = _DictToolMetadata(tool)


def _llama_tools(tools: Sequence[Any]) -> list[Any]:
    # A LlamaIndex tool goes as it is; any other (our FunctionTool, a tool dict) as its
    # schema, in the shape integrations read: their `to_openai_tool(skip_length_check=...)`
    # and `get_parameters_dict()` are LlamaIndex's, not ours.
    from llama_index.core.tools.types import BaseTool

    return [tool if isinstance(tool, BaseTool) else _DictTool(tool) for tool in tools]
