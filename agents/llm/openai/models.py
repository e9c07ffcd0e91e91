"""What the client knows of OpenAI's models by name: context windows, and which are
reasoning models (they take `max_completion_tokens` and `reasoning_effort`, not
`temperature`)."""

from __future__ import annotations

# Longest prefix first: "gpt-4o" must win over "gpt-4".
_CONTEXT_WINDOWS: tuple[tuple[str, int], ...] = (
    ("gpt-4.1", 1_047_576),
    ("gpt-4o", 128_000),
    ("gpt-4-turbo", 128_000),
    ("gpt-4-32k", 32_768),
    ("gpt-4", 8_192),
    ("gpt-3.5-turbo", 16_385),
    ("gpt-5", 400_000),
    ("o1-mini", 128_000),
    ("o1", 200_000),
    ("o3", 200_000),
    ("o4", 200_000),
)
DEFAULT_CONTEXT_WINDOW = 8_192
"""The context window of a model this does not know."""
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def is_reasoning_model(model: str) -> bool:
    """Whether `model` is an OpenAI reasoning model: it takes `max_completion_tokens` and
    `reasoning_effort`, and refuses `temperature`."""
    name = model.rsplit("/", 1)[-1]
    return name.startswith(_REASONING_PREFIXES) and not name.startswith("gpt-5-chat")


def known_context_window(model: str) -> int | None:
    """The context window of a known OpenAI model, else None."""
    name = model.rsplit("/", 1)[-1]
    for prefix, window in _CONTEXT_WINDOWS:
        if name.startswith(prefix):
            return window
    return None
