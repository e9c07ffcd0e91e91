"""Loading an example script as a module, and the checks every LLM example shares: with no
model server configured it exits with code 2 and says what to set; `--llm-timeout` is the
time its client waits, and a server that does not answer in that time is said plainly; a
run that ends in an error (the server's, the LLM layer's, an agent's) is one line on
stderr and exit code 1."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from llm_wire import BASE_URL
from wire_mock import mock_wire

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """`examples/<name>.py` imported under a name of its own (its `cli` can then run
    in-process, where respx intercepts its HTTP)."""
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_says_what_is_missing_without_a_server(name: str, *args: str) -> None:
    """Run `examples/<name>.py` with no OPENAI_* variables set, as a user would first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert completed.returncode == 2, completed.stderr
    assert f"examples/{name}.py needs a model server" in completed.stderr
    assert "OPENAI_API_KEY" in completed.stderr
    assert "OPENAI_BASE_URL" in completed.stderr


def assert_llm_timeout_is_the_clients(
    name: str,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Run `examples/<name>.py args --llm-timeout 240`, with OPENAI_TIMEOUT=60 set, against
    a server that never answers in time: it exits 1 saying, without a traceback, that the
    server did not answer within 240 s, and how to allow more."""
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_TIMEOUT", "60")
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=httpx.ReadTimeout("no reply in time"))
        assert load_example(name).cli([*args, "--llm-timeout", "240"]) == 1

    error = capsys.readouterr().err
    assert error.startswith(f"examples/{name}.py: "), error
    assert f"the server at {BASE_URL}/ did not answer within 240 s (1 attempt)" in error
    assert "--llm-timeout <seconds>" in error
    assert "Traceback" not in error


def unauthorized() -> httpx.Response:
    """The server's answer to a wrong API key, which the SDK raises as
    `openai.AuthenticationError` and does not send again."""
    return httpx.Response(401, json={"error": {"message": "Incorrect API key provided"}})


def assert_run_ending_error_is_one_line(
    name: str,
    args: list[str],
    replies: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """Run `examples/<name>.py args` against a server answering with `replies` (a list, or a
    callable for respx's `side_effect`) until the run ends in an error: it exits 1 with one
    line on stderr, `examples/<name>.py: ...`, and no traceback. Returns what follows the
    script's name on that line."""
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=replies)
        assert load_example(name).cli(args) == 1

    stderr = capsys.readouterr().err
    prefix = f"examples/{name}.py: "
    assert stderr.startswith(prefix), stderr
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    return stderr.removeprefix(prefix).rstrip("\n")
