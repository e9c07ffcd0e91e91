"""Exceptions the document pipeline raises; each message names the file or field concerned.

An unreadable file does not end a run: the workflow turns `UnreadableFileError` into a
`FileFailed` event and goes on with the other files. A chunk whose replies never fit the
schema becomes a warning. What is raised through is what no later step can repair: a
schema the pipeline cannot ask for (or none usable from a proposal), or a result that
still does not validate as the user's schema once every file was read and every review
answered.
"""

from __future__ import annotations

from typing import Any


class DocumentExtractionError(Exception):
    """Base class of the document pipeline's own errors."""


class UnreadableFileError(DocumentExtractionError):
    """A file could not be turned into text: missing, unsupported, corrupt, or empty."""

    def __init__(self, file: str, reason: str) -> None:
        self.file = file
        """The file as it was given."""
        self.reason = reason
        """What went wrong, for a person to read."""
        super().__init__(f"cannot read {file}: {reason}")


class UnsupportedFileTypeError(UnreadableFileError):
    """The file's extension is not one the pipeline has a reader for."""


class NoReadableInputError(DocumentExtractionError):
    """Not one input of the run could be read: there is nothing to extract from, so no
    result (a schema of optional fields would otherwise come back empty, as if the
    documents had said nothing)."""

    def __init__(self, failed_files: dict[str, str]) -> None:
        self.failed_files = failed_files
        """File to reason, for every input."""
        listed = "; ".join(f"{file}: {reason}" for file, reason in failed_files.items())
        super().__init__(f"none of the {len(failed_files)} inputs could be read: {listed}")


class ChunkExtractionError(DocumentExtractionError):
    """An LLM call failed in a way that would hit every chunk (authentication, a server
    down once the client's retries are spent): the run ends with it. The LLM client's own
    exception is the `__cause__`; this one says which chunk was being read, since the
    client's message cannot."""

    def __init__(self, file: str, chunk: int, count: int, error: BaseException) -> None:
        self.file = file
        """The chunk's file (or document name)."""
        self.chunk = chunk
        """The chunk's index in it, from 0."""
        super().__init__(
            f"{file}, chunk {chunk + 1} of {count}: the LLM call failed: "
            f"{type(error).__name__}: {error}"
        )


class SchemaNotSupportedError(DocumentExtractionError, TypeError):
    """The user's schema has a field the pipeline cannot ask an LLM for."""

    def __init__(self, schema: Any, field: str, reason: str) -> None:
        self.schema = schema
        """The user's model, or the title of a JSON schema."""
        self.field = field
        """The field at fault (a key path in a JSON schema)."""
        super().__init__(f"{schema_name(schema)}.{field}: {reason}")


class InvalidJsonSchemaError(DocumentExtractionError, ValueError):
    """A schema given as a dict is not a valid JSON Schema (Draft 2020-12)."""

    def __init__(self, schema: str, path: str, reason: str) -> None:
        self.schema = schema
        """The schema's title ("JSON schema" without one)."""
        self.path = path
        """Where in the schema it is wrong, as a key path ("properties.rent.type")."""
        self.reason = reason
        """The validator's message."""
        super().__init__(f"{schema} is not a valid JSON Schema: at {path}: {reason}")


class SchemaProposalError(DocumentExtractionError):
    """The LLM gave no usable schema in the attempts a proposal has (`SchemaProposalWorkflow`'s
    `max_proposal_attempts`): each reply was sent back with what was wrong with it."""

    def __init__(self, attempts: int, error: str, last_reply: str) -> None:
        self.attempts = attempts
        """Replies asked for."""
        self.error = error
        """What was wrong with the last one."""
        self.last_reply = last_reply
        """The last reply, as the LLM wrote it."""
        super().__init__(f"no usable schema in {attempts} attempts; the last one: {error}")


class SchemaMismatch(DocumentExtractionError):
    """The merged data does not validate: `problems` by key path ("parties.0.name").
    `finalize` turns it into `IncompleteExtractionError`."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        """Key path to what is wrong there (several problems at one path joined by "; "); a
        required field found nowhere is "not found in any document"."""
        super().__init__("; ".join(f"{path}: {problem}" for path, problem in problems.items()))


class ValueMismatchError(DocumentExtractionError, ValueError):
    """A value (a reply's, a reviewer's correction) breaks its field's JSON Schema; each
    problem with its path inside the value. A ValueError, so pydantic reports it as a
    validation error (and a reply is re-asked with its text)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        """(path inside the value, "" at its root; the validator's message), in path order."""
        super().__init__(
            "; ".join(f"{message} (at {path})" if path else message for path, message in problems)
        )


class RunStateError(DocumentExtractionError, RuntimeError):
    """A step found the run's state not as the workflow sets it up: a schema or a proposal
    missing (the run was not started by this workflow, or the state was edited)."""


class HookSignatureError(DocumentExtractionError, TypeError):
    """A subclass overrides a hook with a signature the workflow no longer calls it with:
    refused when the workflow is built, before any paid call, naming the new signature."""

    def __init__(self, workflow: str, hook: str, signature: str) -> None:
        self.hook = hook
        """The method's name."""
        super().__init__(
            f"{workflow}.{hook} cannot be called as {signature}: the signature changed "
            "(the run's schema is passed in, as each run may bring its own); update the "
            "override to take it"
        )


class ProposalBudgetError(DocumentExtractionError):
    """A schema proposal request does not fit `proposal_tokens` even with the shortest
    excerpt of the documents: its feedback and unusable replies take the room."""

    def __init__(self, budget: int, tokens: int, attempt: int, feedback: int) -> None:
        self.budget = budget
        """`proposal_tokens`."""
        self.tokens = tokens
        """The request's tokens with the shortest excerpt."""
        super().__init__(
            f"the schema proposal request (attempt {attempt}, {feedback} feedback item(s)) "
            f"takes {tokens} tokens with the shortest excerpt of the documents, over "
            f"proposal_tokens={budget}; raise it"
        )


class IncompleteExtractionError(DocumentExtractionError):
    """The merged (and reviewed) data does not validate as the user's schema, typically
    because a required field was found in no document.

    Raised rather than returning a half-filled model: `data` must be a valid instance. What
    was found is kept on the error (`partial`, `fields`) so nothing is lost.
    """

    def __init__(
        self,
        schema: Any,
        problems: dict[str, str],
        partial: dict[str, Any],
        fields: dict[str, Any],
        failed_files: dict[str, str],
        failed_chunks: dict[str, str] | None = None,
    ) -> None:
        self.schema = schema
        """The user's model, or the JSON schema (a dict)."""
        self.problems = problems
        """Field name (dotted for nested ones) to what is wrong with it."""
        self.partial = partial
        """The data that was extracted, as a dict."""
        self.fields = fields
        """The evidence per field (`FieldEvidence`), as extracted."""
        self.failed_files = failed_files
        """File to reason, for the files that could not be read."""
        self.failed_chunks = failed_chunks or {}
        """"file, chunk n" to reason, for the chunks no valid reply came for: a field "not
        found" may be in one of them."""
        listed = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        message = f"the extracted data is not a valid {schema_name(schema)}: {listed}"
        if failed_files:
            message += " (unreadable files: " + ", ".join(failed_files) + ")"
        if self.failed_chunks:
            message += " (no valid reply for: " + ", ".join(self.failed_chunks) + ")"
        super().__init__(message)


def schema_name(schema: Any) -> str:
    """A schema as messages name it: a model's class name, a JSON schema's title."""
    if isinstance(schema, type):
        return schema.__name__
    if isinstance(schema, dict):
        title = schema.get("title")
        return title if isinstance(title, str) and title else "JSON schema"
    return str(schema)
