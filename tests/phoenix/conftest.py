"""A real Phoenix for a test module, and the SDK's OTLP/HTTP exporter sending it this
process's spans while the module runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from otlp_export import OtlpExport, exporting_to
from phoenix_server import PhoenixServer, executable_or_skip, start


@pytest.fixture(scope="module")
def phoenix() -> Iterator[PhoenixServer]:
    """Phoenix started once for the module's tests (its start takes seconds). Not kept for
    the session: it is this process's child, and later tests (tests/tools/mcp) check that
    the process they run in has no child left."""
    server = start(executable_or_skip())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def otlp_export(phoenix: PhoenixServer) -> Iterator[OtlpExport]:
    """The module's spans, exported to `phoenix` (see `exporting_to`)."""
    with exporting_to(phoenix.url) as export:
        yield export
