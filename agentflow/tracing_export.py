"""Exporting spans where OpenTelemetry's standard variables say, without code.

```bash
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:6006 OTEL_SERVICE_NAME=support-bot \\
    agentflow run myapp:Agent --arg user_msg="hi"
```

`configure_from_environment()` is what `agentflow run`, `serve` and `worker` call once the
target is loaded; a program of its own can call it too. It reads the process's environment,
which is what the SDK's exporter and resource read as well (so there is one source of
truth), and installs an SDK tracer provider, with a batching processor and an exporter,
when the environment asks for one:

- `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (the
  exporter reads them, with `OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`, `..._COMPRESSION`
  and their `TRACES_` forms), or `OTEL_TRACES_EXPORTER` names exporters: `otlp` (the
  default), `console`, or `none` (nothing is installed);
- `OTEL_EXPORTER_OTLP_PROTOCOL` (or `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`) is
  `http/protobuf` (the default; the `otel-export` extra) or `grpc` (which needs
  opentelemetry-exporter-otlp-proto-grpc installed);
- the resource comes from `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`, the service
  named "agentflow" when neither names it; `OTEL_BSP_*` tune the batching;
- `OTEL_SDK_DISABLED=true`, or a tracer provider already set by the program (at import,
  as `phoenix.otel.register()` does), and nothing is installed.

With none of these variables set nothing is imported. Variables set without the
`otel-export` extra installed log a warning naming the extra, and the command runs
untraced; a value this cannot use raises `TracingConfigurationError` naming the variable.
The SDK's provider shuts down when the process exits, sending the spans still batched; a
server that a signal ends without the interpreter's exit hooks (uvicorn raises SIGTERM
again once it has shut down) sends them first with `flush_exported_spans()`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentflow.errors import MissingExtraError, TracingConfigurationError
from agentflow.extras import extra_needed

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_PROTOCOLS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
_EXPORTERS = "OTEL_TRACES_EXPORTER"
_DEFAULT_SERVICE = "agentflow"

_log = logging.getLogger(__name__)

_installed: TracerProvider | None = None
"""The provider `configure_from_environment` installed, if it did."""


def configure_from_environment() -> bool:
    """Install a tracer provider exporting spans as the process's `OTEL_*` variables say
    (see the module's docstring); True when one was installed."""
    global _installed
    environ = os.environ
    names = _exporter_names(environ)
    if not names or environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    try:
        with extra_needed("otel-export", "exporting spans as the OTEL_* variables say"):
            from opentelemetry import trace
            from opentelemetry.sdk.resources import SERVICE_NAME, Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except MissingExtraError as error:
        _log.warning("agentflow: spans are not exported: %s", error)
        return False
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return False  # the program set its own: it decides where spans go
    exporters = [_exporter(name, environ) for name in names]
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: _DEFAULT_SERVICE}))
    provider = TracerProvider(resource=resource)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _installed = provider
    return True


def flush_exported_spans() -> None:
    """Send the spans still batched by the provider `configure_from_environment` installed
    (none installed: nothing to do)."""
    if _installed is not None:
        _installed.force_flush()


def _exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The exporters asked for, none when no variable asks for one."""
    listed = environ.get(_EXPORTERS, "").strip()
    if not listed:
        return ["otlp"] if any(environ.get(name, "").strip() for name in _ENDPOINTS) else []
    names = [name.strip().lower() for name in listed.split(",") if name.strip()]
    return [name for name in names if name != "none"]


def _exporter(name: str, environ: Mapping[str, str]) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name != "otlp":
        raise TracingConfigurationError(
            f"{_EXPORTERS}={environ[_EXPORTERS]!r}: unknown exporter {name!r}; "
            "use otlp, console or none"
        )
    variable = next((name for name in _PROTOCOLS if environ.get(name, "").strip()), _PROTOCOLS[1])
    protocol = environ.get(variable, "").strip().lower() or "http/protobuf"
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter as GrpcSpanExporter,
            )
        except ImportError as error:
            raise TracingConfigurationError(
                f"{variable}=grpc needs opentelemetry-exporter-otlp-proto-grpc, which is not "
                "installed (the otel-export extra sends http/protobuf)"
            ) from error
        return GrpcSpanExporter()
    raise TracingConfigurationError(
        f"{variable}={environ.get(variable)!r}: the OTLP protocol must be http/protobuf or grpc"
    )
