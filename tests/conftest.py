"""Fixtures shared by every test folder."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@pytest.fixture
def uninstalled(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """`uninstalled("httpx", ...)` makes those packages unimportable until the test ends, as
    in an install without their extra: a `None` entry in `sys.modules` stops the import,
    and the package's loaded submodules are taken out so that none is found there."""

    def uninstall(*packages: str) -> None:
        for package in packages:
            for name in [name for name in sys.modules if name.startswith(f"{package}.")]:
                monkeypatch.delitem(sys.modules, name)
            monkeypatch.setitem(sys.modules, package, None)

    return uninstall


@pytest.fixture
def captured_spans() -> Iterator[InMemorySpanExporter]:
    """The spans finished during the test, from the process-wide SDK tracer provider, which
    is set on first use and kept (OpenTelemetry lets a process set it only once)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    global _captured
    if _captured is None:
        _captured = InMemorySpanExporter()
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(_captured))
    _captured.clear()
    yield _captured
    _captured.clear()


@pytest.fixture
def content_recorded() -> Iterator[None]:
    """GenAI spans record message contents, tool arguments and results during the test."""
    from agentflow.tracing import record_content

    record_content(True)
    yield
    record_content(None)


_captured: InMemorySpanExporter | None = None
