"""Token counts for prompts, with tiktoken, following OpenAI's counting rules.

Messages are counted as OpenAI's cookbook counts them for chat models: 3 tokens per message,
the encoded role, content and name (a name costs 1 more), and 3 tokens priming the reply.
Tool schemas are counted with the cookbook's per-function, per-property and per-enum
constants. The encoding is `tiktoken.encoding_for_model(model)`, else `o200k_base`.

Offline: tiktoken downloads an encoding's file on first use. llama-index-core (the
`documents` extra) ships the `cl100k_base` and `o200k_base` files; when neither
`TIKTOKEN_CACHE_DIR` nor `DATA_GYM_CACHE_DIR` is set, `TIKTOKEN_CACHE_DIR` is pointed at
that copy (found on disk, without importing llama_index) before the first encoding loads.
An encoding that cannot be had (no network, no cached file) never fails a count: the model
falls back to `o200k_base`, and without that too, counts are an estimate of one token per
4 bytes of UTF-8 text (`EstimatedEncoding`, the provider-neutral estimate of
`agents.llm.token_counts`). Each encoding that cannot be loaded is warned about once per
process (`TokenEstimateWarning`) and not tried again.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.llm.errors import TokenEstimateWarning
from agents.llm.openai.tool_specs import to_openai_tool
from agents.llm.token_counts import BYTES_PER_TOKEN, estimate_text
from agents.llm.types import ChatMessage, TextPart

if TYPE_CHECKING:
    import tiktoken

FALLBACK_ENCODING = "o200k_base"
"""The encoding for models tiktoken does not know."""

_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_REPLY_PRIMING = 3

# The cookbook's constants for tool schemas: o200k models (gpt-4o and later) open each
# function with 7 tokens, cl100k models (gpt-4, gpt-3.5) with 10.
_FUNC_INIT = {"o200k_base": 7}
_FUNC_INIT_DEFAULT = 10
_PROP_INIT = 3
_PROP_KEY = 3
_ENUM_INIT = -3
_ENUM_ITEM = 3
_FUNC_END = 12


def bundled_tiktoken_cache() -> Path | None:
    """The tiktoken cache directory that llama-index-core ships, or None without it.

    Looks on disk through the `llama_index` namespace package's search path, so llama_index
    (and everything it imports) is not loaded.
    """
    spec = importlib.util.find_spec("llama_index")  # top-level: finds, does not import
    if spec is None or spec.submodule_search_locations is None:
        return None
    for location in spec.submodule_search_locations:
        cache = Path(location) / "core" / "_static" / "tiktoken_cache"
        if cache.is_dir():
            return cache
    return None


def use_bundled_tiktoken_cache() -> Path | None:
    """Point `TIKTOKEN_CACHE_DIR` at llama-index-core's copy unless the user chose a cache.

    Returns the cache directory tiktoken will use, or None for tiktoken's default.
    """
    for variable in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if variable in os.environ:
            return Path(os.environ[variable])
    cache = bundled_tiktoken_cache()
    if cache is not None:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return cache


class EstimatedEncoding:
    """Stands in for a tiktoken `Encoding` when none can be loaded: one token per
    `token_counts.BYTES_PER_TOKEN` bytes of UTF-8 text, rounded up.

    The "tokens" it returns are placeholders (zeros): only how many there are means anything,
    which is all a count or a chunk budget needs.
    """

    name = "estimate"
    """What the estimate is called (tiktoken's encodings have a name too)."""

    def encode(self, text: str, *, disallowed_special: Any = ()) -> list[int]:
        """One placeholder per estimated token of `text`."""
        return [0] * estimate_text(text)

    def encode_ordinary(self, text: str) -> list[int]:
        """As `encode`."""
        return self.encode(text)

    def encode_ordinary_batch(self, text: Sequence[str]) -> list[list[int]]:
        """`encode` of each text."""
        return [self.encode(item) for item in text]


@lru_cache(maxsize=64)
def tiktoken_encoding_name(model: str) -> str | None:
    """The name of the encoding tiktoken maps `model` to, or None for a model it does not
    know (counted with `o200k_base`)."""
    from tiktoken.model import encoding_name_for_model

    try:
        return encoding_name_for_model(model)
    except KeyError:
        return None


@lru_cache(maxsize=32)
def encoding_for(model: str) -> tiktoken.Encoding | EstimatedEncoding:
    """The tiktoken encoding `model` uses: tiktoken's mapping, else `o200k_base`.

    Also `o200k_base` when the model's own encoding cannot be loaded (offline, only the
    encodings in the cache are at hand: not `p50k_base` or `gpt2`, which older or local
    models map to), and an `EstimatedEncoding` when that cannot be loaded either: a token
    count is an estimate worth having, never a reason to fail a run.
    """
    use_bundled_tiktoken_cache()
    name = tiktoken_encoding_name(model) or FALLBACK_ENCODING
    for candidate in (name, FALLBACK_ENCODING):
        encoding = _loaded(candidate)
        if encoding is not None:
            return encoding
    return EstimatedEncoding()


@cache
def _loaded(name: str) -> tiktoken.Encoding | None:
    """tiktoken's `name` encoding, or None (with one warning) when it cannot be had; a
    failure is kept, so that counting does not try the network again on every call."""
    import tiktoken

    try:
        return tiktoken.get_encoding(name)
    # Whatever fetching the file raised: a connection or proxy error, an HTTP status, a
    # hash mismatch, a cache directory that cannot be written.
    except Exception as error:
        instead = f"an estimate of one token per {BYTES_PER_TOKEN} bytes of UTF-8 text"
        if name != FALLBACK_ENCODING:
            instead = f"{FALLBACK_ENCODING} instead (or, if that cannot be loaded, {instead})"
        reason = str(error)
        if len(reason) > 160:
            reason = reason[:160] + "…"
        warnings.warn(
            f"tiktoken could not load its '{name}' encoding ({type(error).__name__}: "
            f"{reason}); token counts that need it use {instead} for the rest of this "
            "process. To count exactly without network, put the encoding files in the "
            "directory TIKTOKEN_CACHE_DIR names (llama-index-core ships cl100k_base and "
            "o200k_base).",
            TokenEstimateWarning,
            stacklevel=2,
        )
        return None


def count_text(text: str, model: str) -> int:
    """Tokens in `text` for `model`."""
    return len(encoding_for(model).encode(text, disallowed_special=()))


def count_message(message: ChatMessage, model: str) -> int:
    """Tokens one message adds to a prompt (its 3 framing tokens included).

    Text parts are counted; image parts are not (their cost depends on size and detail).
    Tool calls count their name and arguments as written, an estimate: OpenAI does not
    publish how it renders them.
    """
    encoding = encoding_for(model)

    def encode(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    tokens = _TOKENS_PER_MESSAGE + _name_tokens(encoding, message.role)
    if isinstance(message.content, str):
        tokens += encode(message.content)
    elif message.content is not None:
        tokens += sum(encode(part.text) for part in message.content if isinstance(part, TextPart))
    if message.name is not None:
        tokens += _name_tokens(encoding, message.name) + _TOKENS_PER_NAME
    for call in message.tool_calls:
        tokens += _name_tokens(encoding, call.name) + encode(call.raw_arguments)
    return tokens


@lru_cache(maxsize=1024)
def _name_tokens(encoding: tiktoken.Encoding | EstimatedEncoding, name: str) -> int:
    """Tokens of a role, an author's or a tool's name, kept: a few names, encoded again in
    every message of every prompt (six of the eleven encodings of the bench agent's turn).
    Keyed by the encoding object and the text, the only things a count depends on."""
    return len(encoding.encode(name, disallowed_special=()))


def count_messages(messages: Sequence[ChatMessage], model: str) -> int:
    """Prompt tokens for `messages`, the 3 tokens priming the reply included."""
    return sum(count_message(message, model) for message in messages) + _REPLY_PRIMING


def count_tools(tools: Sequence[Any], model: str) -> int:
    """Prompt tokens the tool schemas add (any tool `agents.llm.tool_schema` reads)."""
    if not tools:
        return 0
    encoding = encoding_for(model)
    func_init = _FUNC_INIT.get(encoding.name, _FUNC_INIT_DEFAULT)
    return sum(_tool_tokens(tool, encoding, func_init) for tool in tools) + _FUNC_END


_TOOL_TOKENS: dict[tuple[Any, ...], int] = {}
"""Counts of described tools (`_described_tool_key`), kept: an agent counts its tools on
every LLM call, and turning a tool into its OpenAI dict and encoding it took a tenth of a
turn."""
_TOOL_TOKENS_KEPT = 1024


def _described_tool_key(tool: Any, encoding: Any) -> tuple[Any, ...] | None:
    """What a tool's count depends on, for a tool whose metadata has `name`,
    `description` and `fn_schema` (as `tools.ToolMetadata` and LlamaIndex's have); None for
    any other (a dict, or metadata of another shape), which is counted every time."""
    metadata = getattr(tool, "metadata", None)
    if isinstance(tool, Mapping) or metadata is None:
        return None
    try:
        key = (encoding, type(metadata), metadata.name, metadata.description, metadata.fn_schema)
        hash(key)
    except (AttributeError, TypeError):
        return None
    return key


def _tool_tokens(tool: Any, encoding: Any, func_init: int) -> int:
    key = _described_tool_key(tool, encoding)
    if key is not None and key in _TOOL_TOKENS:
        return _TOOL_TOKENS[key]

    def encode(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    function = to_openai_tool(tool).get("function", {})
    tokens = func_init
    description = str(function.get("description", "")).removesuffix(".")
    tokens += encode(f"{function.get('name', '')}:{description}")
    properties = (function.get("parameters") or {}).get("properties") or {}
    if properties:
        tokens += _PROP_INIT
        for name, schema in properties.items():
            tokens += _PROP_KEY
            if "enum" in schema:
                tokens += _ENUM_INIT
                for item in schema["enum"]:
                    tokens += _ENUM_ITEM + encode(str(item))
            kind = schema.get("type", "")
            detail = str(schema.get("description", "")).removesuffix(".")
            tokens += encode(f"{name}:{kind}:{detail}")
    if key is not None:
        if len(_TOOL_TOKENS) >= _TOOL_TOKENS_KEPT:
            _TOOL_TOKENS.clear()
        _TOOL_TOKENS[key] = tokens
    return tokens


def count_prompt(
    messages: Sequence[ChatMessage], model: str, tools: Sequence[Any] | None = None
) -> int:
    """Prompt tokens for a request: messages, reply priming and tool schemas."""
    if not messages and not tools:  # an agent asks for the empty prompt's cost every turn
        return _REPLY_PRIMING
    return count_messages(messages, model) + count_tools(tools or [], model)


def count_reply(message: ChatMessage, model: str) -> int:
    """Tokens the model wrote for `message`: its text, and each tool call's name and
    arguments as written."""
    written = [message.text, *(call.name + call.raw_arguments for call in message.tool_calls)]
    return sum(count_text(text, model) for text in written if text)
