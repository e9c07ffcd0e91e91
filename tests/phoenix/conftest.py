"""A real Phoenix for the session, and the SDK's OTLP/HTTP exporter sending it this process's
spans while a test module runs."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from otlp_export import OtlpExport, exporting_to
from phoenix_server import (
    EXECUTABLE_VARIABLE,
    INSTALL_HINT,
    REQUIRE_VARIABLE,
    PhoenixServer,
    find_executable,
    start,
)


@pytest.fixture(scope="session")
def phoenix() -> Iterator[PhoenixServer]:
    """Phoenix started once for the session (its start takes seconds), stopped at the end."""
    executable = find_executable()
    if executable is None:
        reason = f"Arize Phoenix is not installed: {INSTALL_HINT} (or set {EXECUTABLE_VARIABLE})"
        if os.environ.get(REQUIRE_VARIABLE):
            pytest.fail(f"{REQUIRE_VARIABLE} is set, and {reason}")
        pytest.skip(reason)
    server = start(executable)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def otlp_export(phoenix: PhoenixServer) -> Iterator[OtlpExport]:
    """The module's spans, exported to `phoenix` (see `exporting_to`)."""
    with exporting_to(phoenix.url) as export:
        yield export
