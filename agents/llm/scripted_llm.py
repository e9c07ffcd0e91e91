"""`ScriptedLLM`: a chat model for tests, answering from a script or from a function of the
request, with no server, network or API key.

```python
from agents.llm import ScriptedLLM, tool_call

llm = ScriptedLLM([tool_call("add", {"a": 2, "b": 3}), "2 + 3 is 5."])  # replies in order
agent = FunctionAgent(tools=[add], llm=llm)
output = await agent.run(user_msg="What is 2 + 3?")
assert output.response.text == "2 + 3 is 5."
assert llm.requests[1].messages[-1].text == "5"  # the tool's result went back to the model
```

A script is a list of replies, one per request, used in order; a request after the last
raises `ScriptExhaustedError`, which says how many were scripted. When requests run
concurrently (an extraction's chunks, a research run's reads) their order is not fixed:
pass a function instead, which gets each `ScriptedRequest` (messages, tools, tool choice,
output class, other parameters) and returns the reply, sync or async.

A reply is text, a tool call (`tool_call(...)`), a list of text and calls, a pydantic model
or dict (its JSON: a structured answer), a `ChatMessage`, a `ChatResponse` or an exception to
raise (see `agents.llm.scripted_replies`).

It behaves as an OpenAI-compatible server would, so every prebuilt workflow runs on it:

- streams send the text word by word (each `delta` one word with the spaces before it), then
  each tool call: its id and name first, its arguments in pieces (unparsed until the last
  item, which carries the finish reason and usage);
- a call without an id is given `call_<request>_<position>`; tool calls are refused
  (`ScriptedReplyError`) when the request offered no tools or `tool_choice="none"`;
- `stop` sequences cut the text where a server would;
- `structured_kwargs(output_cls)` and `astructured_predict` work like `OpenAI`'s, and the
  request shows the class asked for (`ScriptedRequest.output_cls`).

Usage is an estimate, reported unless `report_usage=False`: a token is a run of letters and
digits or any other single non-space character (`count_tokens`); the prompt counts every
message's text and tool calls and the tool schemas as JSON, the completion the reply's text,
refusal and tool calls. The workflows' own counts (memory, budgets, chunks, the ledger's
estimate of a reply without usage) ask the model (`count_prompt_tokens`,
`count_reply_tokens`), which counts the same way whatever its name: no tiktoken file and no
network.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from pydantic import BaseModel

from agentflow.context.compact_models import non_default_fields
from agents.llm.errors import ScriptedReplyError, ScriptExhaustedError
from agents.llm.openai.tool_specs import to_openai_tools
from agents.llm.protocol import LLMMetadata, OutputT, ToolChoice
from agents.llm.scripted_replies import Reply, reply_message
from agents.llm.types import ChatMessage, ChatResponse, ToolCallPart, Usage

_TOKEN = re.compile(r"\w+|[^\w\s]")
# Split before the whitespace that precedes a word: each piece is a word with the spaces
# before it, as a server's tokens mostly are, and the pieces join back to the text.
_WORD_BOUNDARY = re.compile(r"(?<=\S)(?=\s)")


@dataclass(frozen=True, slots=True)
class ScriptedRequest:
    """One request a `ScriptedLLM` received: what a server would have been sent."""

    index: int
    """0 for the model's first request, 1 for the next, and so on."""
    messages: list[ChatMessage]
    """The conversation sent."""
    tools: list[dict[str, Any]]
    """The tools offered, as OpenAI tool dicts; empty for none."""
    tool_choice: ToolChoice | None
    """"auto", "none", "required", a named function, or None when not sent."""
    output_cls: type[BaseModel] | None
    """The model a structured request asks for (`astructured_predict`, an agent's
    `output_cls`, an extraction's fields), or None."""
    response_format: dict[str, Any] | None
    """The `response_format` as OpenAI would be sent it (a strict JSON schema), or None."""
    stream: bool
    """Whether the reply was asked for as a stream (`astream_chat`)."""
    kwargs: dict[str, Any]
    """Every other parameter (`stop`, `temperature`, ...)."""

    @property
    def tool_names(self) -> list[str]:
        """The names of the tools offered, in order."""
        return [str(tool.get("function", {}).get("name", "")) for tool in self.tools]


ReplyFunction: TypeAlias = Callable[[ScriptedRequest], Reply | Awaitable[Reply]]
"""Computes the reply to a request; may be async."""


class ScriptedLLM:
    """A fake `LLM` whose replies come from a list (in order) or from a function of the
    request. Every request is kept in `requests`, for assertions."""

    def __init__(
        self,
        replies: Sequence[Reply] | ReplyFunction,
        *,
        model: str = "scripted",
        context_window: int = 128_000,
        is_function_calling_model: bool = True,
        max_output_tokens: int | None = None,
        report_usage: bool = True,
        structured_max_attempts: int = 3,
    ) -> None:
        """`replies` is the script or the reply function. `model` and `context_window` are
        what `metadata` reports (memory and token budgets read them); `report_usage=False`
        plays a server that sends no usage."""
        self._script: list[Reply] | None = None
        self._function: ReplyFunction | None = None
        if callable(replies):
            self._function = replies
        elif isinstance(replies, str | bytes) or not isinstance(replies, Sequence):
            hint = ": for one reply, pass a list of one" if isinstance(replies, str) else ""
            raise TypeError(
                "ScriptedLLM takes a list of replies or a function of the request, got a "
                f"{type(replies).__name__}{hint}"
            )
        else:
            self._script = list(replies)
        self.report_usage = report_usage
        """Whether replies carry a usage estimate (False: as a server that sends none)."""
        self.structured_max_attempts = structured_max_attempts
        """How many times `astructured_predict` asks before giving up."""
        self.requests: list[ScriptedRequest] = []
        """Every request received, in order."""
        self._metadata = LLMMetadata(
            model=model,
            context_window=context_window,
            is_function_calling_model=is_function_calling_model,
            max_output_tokens=max_output_tokens,
        )

    @property
    def metadata(self) -> LLMMetadata:
        """The model name, context window and function calling given to the constructor."""
        return self._metadata

    async def achat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> ChatResponse:
        """The reply to this request, whole."""
        request = self._record(messages, tools, tool_choice, kwargs, stream=False)
        return await self._respond(request)

    async def astream_chat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[ChatResponse, None]:
        """The reply as a stream: text word by word, then each tool call, name first and
        arguments in pieces; the last item has the parsed calls, finish reason and usage."""
        request = self._record(messages, tools, tool_choice, kwargs, stream=True)
        response = await self._respond(request)
        for item in _stream_items(response):
            yield item

    def structured_kwargs(self, output_cls: type[BaseModel]) -> dict[str, Any]:
        """The request parameters asking for `output_cls` (the class itself as
        `response_format`, which the request shows as `output_cls` and a strict schema)."""
        return {"response_format": output_cls}

    async def astructured_predict(
        self,
        output_cls: type[OutputT],
        messages: Sequence[ChatMessage],
        **kwargs: Any,
    ) -> OutputT:
        """An `output_cls` instance from the reply, re-asked with the validation errors up to
        `structured_max_attempts` times, as `OpenAI` does (then StructuredOutputError); a
        refusal raises LLMRefusalError and a `length` finish LLMLengthError."""
        # Imported here: it loads the tools package, which `import agents.llm` does not need.
        from agents.llm.structured import predict_with

        return await predict_with(self, output_cls, messages, kwargs)

    def count_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The prompt's tokens as usage reports them: every message's text, refusal and tool
        calls, and the tool schemas as JSON (see the module)."""
        return self._prompt_tokens(messages, to_openai_tools(tools or []))

    def count_reply_tokens(self, message: ChatMessage) -> int:
        """The reply's tokens as usage reports them: its text, refusal and tool calls."""
        return self._message_tokens(message)

    def count_tokens(self, text: str) -> int:
        """The estimate of tokens in `text` that usage is reported in: runs of letters and
        digits, and every other non-space character, count one each."""
        return _count_tokens(text)

    # -- private ----------------------------------------------------------------------------

    def _record(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None,
        tool_choice: ToolChoice | None,
        kwargs: dict[str, Any],
        stream: bool,
    ) -> ScriptedRequest:
        kwargs = dict(kwargs)
        response_format = kwargs.pop("response_format", None)
        output_cls = None
        if isinstance(response_format, type) and issubclass(response_format, BaseModel):
            from agents.llm.openai.strict_schema import response_format_for

            output_cls, response_format = response_format, response_format_for(response_format)
        request = ScriptedRequest(
            index=len(self.requests),
            messages=list(messages),
            tools=to_openai_tools(tools or []),
            tool_choice=tool_choice,
            output_cls=output_cls,
            response_format=response_format,
            stream=stream,
            kwargs=kwargs,
        )
        self.requests.append(request)
        return request

    async def _respond(self, request: ScriptedRequest) -> ChatResponse:
        reply = await self._reply_to(request)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, ChatResponse):  # as it is: its usage and finish reason too
            message = self._as_sent(reply.message, request)
            return ChatResponse(
                message=message,
                delta=message.text,
                usage=reply.usage,
                finish_reason=reply.finish_reason,
            )
        message = self._as_sent(reply_message(reply, request.index), request)
        return ChatResponse(
            message=message,
            delta=message.text,
            usage=self._usage(request, message) if self.report_usage else None,
            finish_reason="tool_calls" if message.tool_calls else "stop",
        )

    async def _reply_to(self, request: ScriptedRequest) -> Reply:
        if self._function is not None:
            reply = self._function(request)
            return await reply if inspect.isawaitable(reply) else reply
        assert self._script is not None
        if request.index >= len(self._script):
            raise ScriptExhaustedError(
                self.metadata.model, len(self._script), request.index, request.messages
            )
        return self._script[request.index]

    def _as_sent(self, message: ChatMessage, request: ScriptedRequest) -> ChatMessage:
        """`message` as a server would send it back: cut at a stop sequence, each call with
        an id and its arguments as JSON text."""
        if message.tool_calls and (not request.tools or request.tool_choice == "none"):
            why = "offered no tools" if not request.tools else 'set tool_choice="none"'
            raise ScriptedReplyError(
                f"reply {request.index + 1} calls tool '{message.tool_calls[0].name}', but "
                f"its request {why}; a model without tools (a ReActAgent's) writes "
                "'Action:' lines as text instead"
            )
        calls = [
            ToolCallPart.from_raw(
                call.id or f"call_{request.index}_{position}",
                call.name,
                call.raw_arguments or json.dumps(call.arguments),
            )
            for position, call in enumerate(message.tool_calls)
        ]
        content = message.content
        if isinstance(content, str):
            content = _cut_at_stop(content, request.kwargs.get("stop"))
        return message.model_copy(update={"content": content, "tool_calls": calls})

    def _usage(self, request: ScriptedRequest, message: ChatMessage) -> Usage:
        prompt = self._prompt_tokens(request.messages, request.tools)
        completion = self._message_tokens(message)
        return Usage(
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )

    def _prompt_tokens(self, messages: Sequence[ChatMessage], tools: list[dict[str, Any]]) -> int:
        prompt = sum(self._message_tokens(m) for m in messages)
        if tools:
            prompt += self.count_tokens(json.dumps(tools))
        return prompt

    def _message_tokens(self, message: ChatMessage) -> int:
        tokens = self.count_tokens(message.text) + self.count_tokens(message.refusal or "")
        for call in message.tool_calls:
            tokens += self.count_tokens(call.name) + self.count_tokens(call.raw_arguments)
        return tokens


def _count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def _cut_at_stop(text: str, stop: str | Sequence[str] | None) -> str:
    if not stop:
        return text
    sequences = [stop] if isinstance(stop, str) else list(stop)
    found = [text.find(sequence) for sequence in sequences if sequence in text]
    return text[: min(found)] if found else text


def _pieces(text: str) -> list[str]:
    return [piece for piece in _WORD_BOUNDARY.split(text) if piece]


def _stream_items(response: ChatResponse) -> Iterator[ChatResponse]:
    """`response` as a stream delivers it, piece by piece, ending with `response` itself."""
    message = response.message
    text = ""
    for piece in _pieces(message.text):
        text += piece
        yield ChatResponse(message=_partial(text, [], message.refusal), delta=piece)
    sent: list[ToolCallPart] = []
    for call in message.tool_calls:
        arguments = ""
        # The first fragment names the call; its arguments follow, still unparsed.
        for piece in ["", *_pieces(call.raw_arguments)]:
            arguments += piece
            partial = ToolCallPart(id=call.id, name=call.name, raw_arguments=arguments)
            yield ChatResponse(message=_partial(text, [*sent, partial], message.refusal))
        sent.append(partial)
    yield ChatResponse(
        message=message, delta="", usage=response.usage, finish_reason=response.finish_reason
    )


def _partial(text: str, calls: list[ToolCallPart], refusal: str | None) -> ChatMessage:
    return ChatMessage(
        **non_default_fields(
            ChatMessage,
            role="assistant",
            content=text if text or not calls else None,
            tool_calls=calls,
            refusal=refusal,
        )
    )
