"""Span export for the commands that run workflows (`run`, `serve`, `worker`)."""

from __future__ import annotations

from agentflow.cli.errors import CommandLineError


def export_spans_from_environment() -> None:
    """Send spans where the `OTEL_*` variables say (`agentflow.tracing_export`), unless the
    target, loaded first, set a tracer provider of its own; a value that cannot be used ends
    the command with an error line."""
    from agentflow.errors import TracingConfigurationError
    from agentflow.tracing_export import configure_from_environment

    try:
        configure_from_environment()
    except TracingConfigurationError as error:
        raise CommandLineError(str(error)) from error
