"""Checks that a 200 reply from an OpenAI-compatible server is a chat completion.

The SDK reads whatever a 200 carries: a web page comes back as a `str`, JSON of another
shape as a `ChatCompletion` whose fields are None (it validates only with
`_strict_response_validation`), broken JSON as a bare `JSONDecodeError`, and a whole body
where a stream was asked for as a stream without chunks. So `OpenAI` asks for the raw reply
(`with_raw_response`) and these checks look at its content type and body before the SDK
parses it; each of those cases is an `UnexpectedResponseError` showing what came back.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from agents.llm.errors import UnexpectedResponseError

if TYPE_CHECKING:
    from openai import AsyncStream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

_EXCERPT_CHARS = 200


def completion_from(raw: Any, base_url: str) -> ChatCompletion:
    """The SDK's `ChatCompletion` for a raw non-streamed reply, once its body is known to be
    a JSON object with a `choices` list whose first choice holds a `message` object (the
    parts `OpenAI.achat` reads)."""
    content_type = raw.http_response.headers.get("content-type", "")
    body: str = raw.http_response.text

    def unexpected(reason: str) -> UnexpectedResponseError:
        return UnexpectedResponseError(base_url, reason, content_type, excerpt(body))

    if not body.strip():
        raise unexpected("an empty body")
    try:
        data = json.loads(body)
    except ValueError as error:
        raise unexpected("not JSON") from error
    if isinstance(data, dict) and "error" in data and "choices" not in data:
        raise unexpected("an error object")
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list):
        raise unexpected("no 'choices' list")
    if choices and not (
        isinstance(choices[0], dict) and isinstance(choices[0].get("message"), dict)
    ):
        raise unexpected("its first choice has no 'message' object")
    return cast("ChatCompletion", raw.parse())


async def stream_from(raw: Any, base_url: str) -> AsyncStream[ChatCompletionChunk]:
    """The SDK's chunk stream for a raw streamed reply, once its content type says it is an
    event stream (a reply without one is let through: the chunk checks still apply)."""
    response = raw.http_response
    content_type: str = response.headers.get("content-type", "")
    if content_type and "event-stream" not in content_type:
        body = (await response.aread()).decode("utf-8", errors="replace")
        await response.aclose()
        raise UnexpectedResponseError(
            base_url,
            "a body, not the event stream asked for",
            content_type,
            excerpt(body),
        )
    return cast("AsyncStream[ChatCompletionChunk]", raw.parse())


def undecodable_event(
    error: json.JSONDecodeError, base_url: str, content_type: str
) -> UnexpectedResponseError:
    """The error for a stream event whose data is not JSON."""
    reason = "an event whose data is not JSON"
    return UnexpectedResponseError(base_url, reason, content_type, excerpt(error.doc))


def chunkless_stream(base_url: str, content_type: str) -> UnexpectedResponseError:
    """The error for an event stream that ended without one chat completion chunk."""
    reason = "an event stream with no chat completion chunk"
    return UnexpectedResponseError(base_url, reason, content_type, "")


def excerpt(body: str) -> str:
    """The start of `body`, whitespace runs folded, cut at 200 characters ("…" marks a cut)."""
    text = " ".join(body.split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"
