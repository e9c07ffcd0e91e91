"""The error the `Anthropic` client raises for a timeout: ours and the SDK's at once."""

from __future__ import annotations

import anthropic

from agents.llm.errors import LLMTimeoutError

ALLOW_MORE = "Allow more time with ANTHROPIC_TIMEOUT=<seconds> or Anthropic(timeout=<seconds>)"


class AnthropicTimeoutError(LLMTimeoutError, anthropic.APITimeoutError):
    """`LLMTimeoutError` that is also the SDK's `anthropic.APITimeoutError`, so code written
    to catch the SDK's error keeps catching it. The timeout it names is the read timeout the
    request went out with; the attempts count the SDK's own retries."""

    def __init__(self, error: anthropic.APITimeoutError, base_url: str, streaming: bool) -> None:
        request = error.request
        timeout: float | None = (request.extensions.get("timeout") or {}).get("read")
        # The SDK numbers each try in a header.
        attempts = int(request.headers.get("x-stainless-retry-count", "0")) + 1
        LLMTimeoutError.__init__(
            self, base_url, timeout, attempts, streaming=streaming, allow_more=ALLOW_MORE
        )
        # The SDK error's fields (request, message, body) without its fixed message.
        anthropic.APIConnectionError.__init__(self, message=str(self), request=request)
