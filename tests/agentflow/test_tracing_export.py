"""Span export from the standard OTEL_* variables (agentflow.tracing_export), through the
real `agentflow run` and `agentflow serve` processes to a real OTLP/HTTP receiver on
127.0.0.1 that decodes what arrives with the protocol's own message classes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentflow.tracing_export import configure_from_environment

HERE = Path(__file__).resolve().parent


class Receiver:
    """An OTLP/HTTP traces endpoint: every request's path, and its spans by service."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.headers: list[str | None] = []  # each request's x-team header
        self.spans: list[tuple[str, str, str]] = []  # (service.name, span name, parent?)
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                received.record(self.path, request)
                received.headers.append(self.headers.get("x-team"))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever)
        self.thread.start()

    def record(self, path: str, request: ExportTraceServiceRequest) -> None:
        self.paths.append(path)
        for resource_spans in request.resource_spans:
            service = next(
                attribute.value.string_value
                for attribute in resource_spans.resource.attributes
                if attribute.key == "service.name"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append((service, span.name, span.parent_span_id.hex()))

    def names(self) -> list[str]:
        return sorted(name for _, name, _ in self.spans)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiving = Receiver()
    yield receiving
    receiving.close()


def agentflow_run(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-m", "agentflow", "run", *args],
        capture_output=True,
        text=True,
        cwd=HERE,
        env={**environ, **variables},
        timeout=60,
        check=False,
    )


def test_agentflow_run_exports_its_spans_to_the_otlp_endpoint(receiver: Receiver) -> None:
    completed = agentflow_run(
        "cli_workflows:Greeter",
        "--arg",
        "name=otters",
        "--quiet",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_SERVICE_NAME="greeting-service",
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "hello otters"
    # The process has exited: what it batched was sent before it did.
    assert set(receiver.paths) == {"/v1/traces"}
    assert receiver.names() == ["step greet", "workflow Greeter"]
    assert {service for service, _, _ in receiver.spans} == {"greeting-service"}
    (step,) = [parent for _, name, parent in receiver.spans if name == "step greet"]
    assert step != ""  # under the run's span


def test_the_traces_endpoint_is_used_as_it_is_and_the_service_defaults(
    receiver: Receiver,
) -> None:
    completed = agentflow_run(
        "cli_workflows:Greeter",
        "--arg",
        "name=otters",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{receiver.url}/collector/traces",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
    )
    assert completed.returncode == 0, completed.stderr
    assert set(receiver.paths) == {"/collector/traces"}
    assert {service for service, _, _ in receiver.spans} == {"agentflow"}


def test_a_provider_the_target_sets_as_it_loads_is_kept(receiver: Receiver) -> None:
    """The variables point at the receiver too: the command must install nothing, as the
    program's provider already sends there (as "own-provider")."""
    completed = agentflow_run(
        "own_provider_flow:Greeter",
        "--arg",
        "name=otters",
        "--quiet",
        OWN_OTLP_ENDPOINT=receiver.url,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_SERVICE_NAME="from-the-variables",
    )
    assert completed.returncode == 0, completed.stderr
    assert "Overriding" not in completed.stderr
    assert receiver.names() == ["step greet", "workflow Greeter"]
    assert {service for service, _, _ in receiver.spans} == {"own-provider"}


def test_otel_traces_exporter_none_sends_nothing(receiver: Receiver) -> None:
    completed = agentflow_run(
        "cli_workflows:Greeter",
        "--arg",
        "name=otters",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_TRACES_EXPORTER="none",
    )
    assert completed.returncode == 0, completed.stderr
    assert receiver.paths == []


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL='http/json'"),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin'"),
    ],
)
def test_a_value_that_cannot_be_used_is_an_error_naming_the_variable(
    receiver: Receiver, variables: dict[str, str], named: str
) -> None:
    completed = agentflow_run(
        "cli_workflows:Greeter", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, **variables
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"agentflow: error: {named}")
    assert receiver.paths == []


def test_agentflow_serve_exports_the_runs_it_serves(receiver: Receiver, tmp_path: Path) -> None:
    from running_server import free_port

    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    served = HERE / "server"
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentflow",
            "serve",
            "served_flows:server",
            "--port",
            str(port),
            "--log-level",
            "info",
        ],
        cwd=served,
        env={
            **environ,
            "SERVED_STORE": str(tmp_path / "runs.db"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_SERVICE_NAME": "served",
        },
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        log = []
        for line in process.stderr:  # uvicorn says when the lifespan has run
            log.append(line)
            if "Application startup complete" in line:
                break
        else:
            raise AssertionError(f"agentflow serve did not start: {''.join(log)}")
        done = httpx.post(f"http://127.0.0.1:{port}/workflows/greet/run", json={}, timeout=30)
        assert done.status_code == 200, done.text
        process.send_signal(signal.SIGTERM)  # uvicorn shuts down; the SDK's exit hook sends
        process.communicate(timeout=30)
    assert "workflow Greet" in receiver.names()
    assert {service for service, _, _ in receiver.spans} == {"served"}


def python_with(code: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`code` run by a Python process whose environment has these OTEL_* variables only."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**environ, **variables},
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("variables", [{}, {"OTEL_SERVICE_NAME": "x"}], ids=["none", "service"])
def test_without_the_variables_nothing_is_installed_or_imported(
    variables: dict[str, str],
) -> None:
    code = (
        "import sys\n"
        "from agentflow.tracing_export import configure_from_environment\n"
        "assert configure_from_environment() is False\n"
        "loaded = [m for m in sys.modules if m.startswith('opentelemetry')]\n"
        "assert not loaded, loaded\n"
        "print('ok')\n"
    )
    completed = python_with(code, **variables)
    assert completed.stdout.strip() == "ok", completed.stderr


def test_the_exporter_and_resource_are_the_process_environments(receiver: Receiver) -> None:
    """Endpoint, headers and resource all come from the one place the SDK reads."""
    code = (
        "from opentelemetry import trace\n"
        "from agentflow.tracing_export import configure_from_environment, "
        "flush_exported_spans\n"
        "assert configure_from_environment() is True\n"
        "trace.get_tracer('t').start_span('probe').end()\n"
        "flush_exported_spans()\n"
    )
    completed = python_with(
        code,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS="x-team=otters",
        OTEL_RESOURCE_ATTRIBUTES="service.name=from-attributes,deployment.environment=test",
    )
    assert completed.returncode == 0, completed.stderr
    assert receiver.spans == [("from-attributes", "probe", "")]
    assert receiver.headers == ["otters"]


def test_a_provider_the_program_set_is_kept(
    captured_spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`captured_spans` has set the process's provider: configuring adds none."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    assert configure_from_environment() is False


def test_without_the_extra_the_variables_give_a_warning_naming_it(
    uninstalled: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uninstalled("opentelemetry.sdk")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    with caplog.at_level(logging.WARNING, logger="agentflow.tracing_export"):
        assert configure_from_environment() is False
    (record,) = caplog.records
    assert "'otel-export' extra" in record.getMessage()


def test_sdk_disabled_installs_nothing() -> None:
    """In a process of its own: in the suite's a provider is already set by other tests."""
    code = (
        "from opentelemetry import trace\n"
        "from agentflow.tracing_export import configure_from_environment\n"
        "assert configure_from_environment() is False\n"
        "provider = trace.get_tracer_provider()\n"
        "assert isinstance(provider, trace.ProxyTracerProvider), provider\n"
        "print('ok')\n"
    )
    completed = python_with(
        code, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_SDK_DISABLED="true"
    )
    assert completed.stdout.strip() == "ok", completed.stderr
