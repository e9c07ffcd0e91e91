"""Which LLM failures a prebuilt workflow lives with, and which end its run.

A workflow that fans work out (a chunk per call in extraction, a source per call in
research) gives up on the one piece whose reply cannot be used, with a warning, and goes on:
`is_piece_failure`. Everything else (a bad key, a server still down once the client's
retries are spent, a spent budget) would fail every piece alike, so it ends the run. An
agent has no pieces: the reply is the run, so every failure ends it, with a note naming
the agent (`noted`).
"""

from __future__ import annotations

from typing import TypeVar

from agents.llm.errors import (
    EmptyResponseError,
    LLMLengthError,
    LLMRefusalError,
    StructuredOutputError,
)

ErrorT = TypeVar("ErrorT", bound=BaseException)

PIECE_FAILURES: tuple[type[Exception], ...] = (
    StructuredOutputError,
    LLMRefusalError,
    LLMLengthError,
    EmptyResponseError,
)
"""Failures of one reply: no answer fitting the schema, a refusal, an answer cut off at the
token limit, an empty reply. Another call, on other input, may well succeed."""


def is_piece_failure(error: BaseException) -> bool:
    """Whether `error` costs only the piece of work whose LLM call raised it."""
    return isinstance(error, PIECE_FAILURES)


def noted(error: ErrorT, note: str) -> ErrorT:
    """`error` with `note` added (what it came from, when its message does not say), for
    `raise noted(error, ...)`."""
    error.add_note(note)
    return error
