"""The SDK's OTLP/HTTP exporter sending this process's spans to a Phoenix. (A module of its
own, not conftest: a test importing `conftest` gets whichever conftest was imported first.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

PROJECT_ATTRIBUTE = "openinference.project.name"
"""The resource attribute Phoenix files a span's project under ("default" without it)."""


@dataclass(frozen=True)
class OtlpExport:
    """Where spans go while it is open: to Phoenix over OTLP/HTTP, and to `sent`, so that a
    test knows which spans Phoenix must have."""

    processors: tuple[BatchSpanProcessor, ...]
    sent: InMemorySpanExporter
    project: str
    """The Phoenix project the spans are filed under."""

    def flush(self) -> None:
        """Return once every span ended so far has been exported."""
        for processor in self.processors:
            assert processor.force_flush(timeout_millis=30_000), "a span export timed out"


def sdk_provider() -> TracerProvider:
    """The process-wide SDK provider: OpenTelemetry sets it once per process, so another
    test module may have set it first; else one is set here."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "agentflow-tests", PROJECT_ATTRIBUTE: "agentflow"}
        )
    )
    trace.set_tracer_provider(provider)
    return provider


@contextmanager
def exporting_to(phoenix_url: str) -> Iterator[OtlpExport]:
    """Spans ended in the block are exported to the Phoenix at `phoenix_url` with the SDK's
    OTLPSpanExporter. The SDK cannot take a processor off a provider: shut down at the end,
    a batch processor drops what it is given, so spans after the block go nowhere new."""
    provider = sdk_provider()
    sent = InMemorySpanExporter()
    processors = (
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{phoenix_url}/v1/traces")),
        BatchSpanProcessor(sent),
    )
    for processor in processors:
        provider.add_span_processor(processor)
    try:
        yield OtlpExport(
            processors, sent, str(provider.resource.attributes.get(PROJECT_ATTRIBUTE, "default"))
        )
    finally:
        for processor in processors:
            processor.shutdown()
