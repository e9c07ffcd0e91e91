"""The errors the server answers with: each carries its HTTP status and a message that names
what was wrong (the route's field, the event type, the run)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request the server refuses: answered as `{"detail": message}` (plus `errors`, the
    field errors of an invalid event, when there are some) with `status`."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON the client gets."""
        if self.errors is None:
            return {"detail": self.detail}
        return {"detail": self.detail, "errors": self.errors}


class ServerConfigurationError(ValueError):
    """A `WorkflowServer` set up wrongly: a workflow name taken twice, a workflow bound to
    another store, a bad option."""
