"""Everything a finished span would send, as one text: to check what it must not hold."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan


def recorded_text(span: ReadableSpan) -> str:
    """The span's attributes, status description and events' attributes, as text."""
    parts = [repr(dict(span.attributes or {})), span.status.description or ""]
    parts += [f"{event.name} {dict(event.attributes or {})!r}" for event in span.events]
    return "\n".join(parts)
