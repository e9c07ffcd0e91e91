"""Every exception the LLM layer raises, one class per way a call can fail.

Errors from the HTTP layer (rate limits once retries run out, 5xx, authentication) are the
provider SDK's own (`openai.RateLimitError`, `openai.InternalServerError`, ...), so callers can
catch them as documented by the SDK; a timeout is `LLMTimeoutError`, whose message says how to
allow more time (`OpenAI`'s is also the SDK's `openai.APITimeoutError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class LLMError(Exception):
    """Base class of the errors below."""


class LLMConfigurationError(LLMError):
    """The settings needed to reach a model are missing; the message says which to set."""


class ScriptExhaustedError(LLMError):
    """A `ScriptedLLM` got a request after the last reply of its script."""

    def __init__(self, model: str, scripted: int, index: int, messages: list[Any]) -> None:
        last = messages[-1] if messages else None
        ending = (
            f"; the request ended with a {last.role} message: {_shortened(last.text)!r}"
            if last is not None
            else ""
        )
        replies = "reply" if scripted == 1 else "replies"
        super().__init__(
            f"ScriptedLLM {model!r} was asked for reply {index + 1}, but its script holds "
            f"{scripted} {replies}{ending}"
        )
        self.model = model
        """The scripted model's name."""
        self.scripted = scripted
        """How many replies the script held."""
        self.index = index
        """The request's index (0 for the first)."""


class ScriptedReplyError(LLMError):
    """A `ScriptedLLM`'s reply is not one it can send: a type it does not know, a message
    that is not the assistant's, or a tool call to a request that offered no tools or said
    `tool_choice="none"`."""


def _shortened(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LLMRefusalError(LLMError):
    """The model declined to answer."""

    def __init__(self, refusal: str) -> None:
        super().__init__(f"the model refused: {refusal}")
        self.refusal = refusal
        """The model's own words."""


class LLMLengthError(LLMError):
    """The reply was cut off at the token limit (finish_reason "length")."""

    def __init__(self, partial_text: str) -> None:
        super().__init__(
            "the reply was cut off at the token limit (finish_reason 'length') after "
            f"{len(partial_text)} characters; raise max_tokens or shorten the prompt"
        )
        self.partial_text = partial_text
        """What the model wrote before it was cut off."""


class LLMTimeoutError(LLMError):
    """The model server did not answer within the client's timeout, on every attempt made.
    The message says the timeout, the attempts and how to allow more time (each client says
    how, in `allow_more`); for a client `without_concurrency_limit`, whose request may have
    waited in a busy server's queue, also how to make requests wait in this process instead.
    Each client raises a subclass that is also its SDK's timeout error
    (`openai.APITimeoutError`, `anthropic.APITimeoutError`), so code catching that still
    catches it (they live in the providers' folders: this module imports no SDK)."""

    def __init__(
        self,
        base_url: str,
        timeout: float | None,
        attempts: int,
        *,
        streaming: bool = False,
        without_concurrency_limit: bool = False,
        allow_more: str = "",
    ) -> None:
        limit = "its timeout" if timeout is None else f"{timeout:g} s"
        if streaming:
            what = f"stopped sending the streamed reply: no chunk within {limit}"
        elif attempts == 1:
            what = f"did not answer within {limit} (1 attempt)"
        else:
            what = f"did not answer within {limit} on each of {attempts} attempts"
        queue = (
            "; if it answers one request at a time, OPENAI_MAX_CONCURRENCY=1 (or "
            "max_concurrency=1) makes requests wait here, where no timeout runs, rather than "
            "in its queue"
            if without_concurrency_limit
            else ""
        )
        # Exception's own __init__, not super(): in a client's subclass the next class in
        # line is the SDK's error, whose __init__ takes a request.
        Exception.__init__(self, f"the server at {base_url} {what}. {allow_more}{queue}")
        self.base_url = base_url
        """The base URL the request went to."""
        self.timeout = timeout
        """The timeout in seconds (for a stream, between two chunks); None if unknown."""
        self.attempts = attempts
        """How many times the request was sent."""
        self.streaming = streaming
        """Whether the reply was being streamed when the time ran out."""


class StructuredOutputError(LLMError):
    """The model's replies did not validate against the output model, every time it was asked."""

    def __init__(self, output_cls: type[Any], attempts: int, errors: str, last_reply: str) -> None:
        super().__init__(
            f"no valid {output_cls.__name__} after {attempts} attempts; "
            f"last validation errors:\n{errors}"
        )
        self.output_cls = output_cls
        """The pydantic model the replies had to match."""
        self.attempts = attempts
        """How many times the model was asked."""
        self.errors = errors
        """The last reply's validation errors, as sent back to the model."""
        self.last_reply = last_reply
        """The last reply's text."""


class ToolSchemaError(LLMError, TypeError):
    """A tool is neither a tool dict nor an object with `.metadata` (its name, description
    and `get_parameters_dict()`)."""


@dataclass(frozen=True, slots=True)
class StrictSchemaProblem:
    """One place of a JSON schema that a provider's strict mode cannot express."""

    path: str
    """Where: a property's name, dotted into nested models (`Bag.extras`), `[]` for items."""
    keyword: str
    """The JSON Schema keyword at fault (`prefixItems`, `additionalProperties`, ...; `type`
    for a value with no type)."""
    reason: str
    """What it is and what to do instead."""


class StrictSchemaError(LLMError, ValueError):
    """A tool's arguments or a structured output class cannot follow OpenAI's strict mode.
    `problems` lists every place, each with its keyword and path; `keyword` and `path` are
    the first one's."""

    def __init__(self, subject: str, problems: list[StrictSchemaProblem]) -> None:
        listed = "; ".join(f"'{p.path}' {p.reason} ({p.keyword})" for p in problems)
        super().__init__(f"{subject} cannot use OpenAI strict mode: {listed}")
        self.subject = subject
        """What the schema is of: "tool 'search'" or "output class 'Invoice'"."""
        self.problems = problems
        """Every place strict mode cannot express, in schema order."""
        self.keyword = problems[0].keyword
        """The first problem's keyword."""
        self.path = problems[0].path
        """The first problem's path."""


class BudgetExceededError(LLMError):
    """An LLM call would take the run's usage past the ledger's budget; it was not made."""

    def __init__(
        self, step: str, model: str, spent: float, estimate: float, budget: float, unit: str
    ) -> None:
        super().__init__(
            f"step '{step}': a call to {model} estimated at {estimate:g} {unit} would take the "
            f"run from {spent:g} to {spent + estimate:g} {unit}, over its budget of "
            f"{budget:g} {unit}"
        )
        self.step = step
        """The step that made the call."""
        self.model = model
        """The model the call was for."""
        self.spent = spent
        """What the run had used before the call."""
        self.estimate = estimate
        """What the call was estimated to use (prompt, plus the reply limit when set)."""
        self.budget = budget
        """The ledger's budget."""
        self.unit = unit
        """"USD" or "tokens"."""


class EmptyResponseError(LLMError):
    """The server answered without any choice to read a reply from."""

    def __init__(self, model: str) -> None:
        super().__init__(f"the server returned no choices for model {model!r}")
        self.model = model
        """The model asked."""


def empty_stream_message(subject: str, finish_reason: str | None) -> str:
    """The message of an error raised for a streamed reply with nothing in it (the
    subclasses of `EmptyResponseError` that agents and workflows raise): `subject` says
    whose reply lacked what; then how the stream ended, and where to look."""
    ending = (
        f"finish_reason {finish_reason!r}"
        if finish_reason is not None
        else "the stream ended with no finish reason"
    )
    return f"{subject} ({ending}); check that the server streams chat completions for this model"


class UnexpectedResponseError(LLMError):
    """The server answered 200 with something that is not a chat completion: a web page,
    broken or empty JSON, an error object, or a whole body where a stream was asked for.
    Usually `base_url` points at the wrong server or path."""

    def __init__(self, base_url: str, reason: str, content_type: str, excerpt: str) -> None:
        shown = f"\nThe body began: {excerpt}" if excerpt else ""
        super().__init__(
            f"the server at {base_url} answered 200, but not with a chat completion: "
            f"{reason} (content-type {content_type or 'not given'}). Is base_url "
            f"(OPENAI_BASE_URL) pointing at an OpenAI-compatible /v1 endpoint?{shown}"
        )
        self.base_url = base_url
        """The base URL the request went to."""
        self.reason = reason
        """What is wrong with the reply."""
        self.content_type = content_type
        """The reply's content type ("" when it gave none)."""
        self.excerpt = excerpt
        """The start of the reply's body."""


class TokenEstimateWarning(UserWarning):
    """A tiktoken encoding could not be loaded (no network and no cached file): token counts
    fall back to another encoding or to an estimate. Warned once per encoding and process."""


def one_line_with_notes(error: BaseException) -> str:
    """`error`'s message and its notes, `"; "` between them, on one line: what a script
    prints on stderr when a run ends in an error. The notes (`add_note`) are where the agents
    and the engine say which agent and step raised it, and hints such as that a server may
    ignore `tool_choice`; line breaks (a structured reply's validation errors) become
    spaces."""
    parts = [str(error), *getattr(error, "__notes__", [])]
    return "; ".join(" ".join(part.split()) for part in parts)
