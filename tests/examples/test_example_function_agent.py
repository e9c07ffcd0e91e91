"""examples/function_agent.py: says what is missing without a server, and with one (mocked
HTTP) streams the answer and shows the tool calls."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import respx
from llm_wire import BASE_URL, calls_reply, text_reply

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "function_agent.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("function_agent_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_server_it_says_what_is_missing() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, env=env
    )
    assert completed.returncode == 2
    assert "OPENAI_API_KEY" in completed.stderr
    assert "OPENAI_BASE_URL" in completed.stderr


def test_streams_the_answer_and_shows_tool_calls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(
            side_effect=[
                calls_reply(("c1", "calculator", '{"expression": "2340 * 0.175"}')),
                text_reply("It is ", "409.5."),
            ]
        )
        assert load_example().cli(["What is 17.5% of 2340?"]) == 0

    out = capsys.readouterr().out
    assert '-> calculator({"expression": "2340 * 0.175"})' in out
    assert "<- calculator: 409.5" in out
    assert "It is 409.5." in out
    assert "1 tool call]" in out
