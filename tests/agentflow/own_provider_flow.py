"""A program that sets its own tracer provider as it is imported (as `phoenix.otel.register()`
does), exporting to the OTLP endpoint in OWN_OTLP_ENDPOINT as the service "own-provider":
`agentflow run own_provider_flow:Greeter` must keep it (tests/agentflow/test_tracing_export.py)."""

from __future__ import annotations

import os

from cli_workflows import Greeter
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

provider = TracerProvider(resource=Resource({SERVICE_NAME: "own-provider"}))
provider.add_span_processor(
    SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{os.environ['OWN_OTLP_ENDPOINT']}/v1/traces"))
)
trace.set_tracer_provider(provider)

__all__ = ["Greeter"]
