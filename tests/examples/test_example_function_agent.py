"""examples/function_agent.py: says what is missing without a server, and with one (mocked
HTTP) streams the answer and shows the tool calls."""

from __future__ import annotations

import pytest
from example_scripts import (
    assert_llm_timeout_is_the_clients,
    assert_says_what_is_missing_without_a_server,
    load_example,
)
from llm_wire import BASE_URL, calls_reply, text_reply
from wire_mock import mock_wire


def test_without_a_server_it_says_what_is_missing() -> None:
    assert_says_what_is_missing_without_a_server("function_agent")


def test_llm_timeout_is_the_time_its_client_waits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_llm_timeout_is_the_clients("function_agent", ["What is 2 + 2?"], monkeypatch, capsys)


def test_streams_the_answer_and_shows_tool_calls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(
            side_effect=[
                calls_reply(("c1", "calculator", '{"expression": "2340 * 0.175"}')),
                text_reply("It is ", "409.5."),
            ]
        )
        assert load_example("function_agent").cli(["What is 17.5% of 2340?"]) == 0

    out = capsys.readouterr().out
    assert '-> calculator({"expression": "2340 * 0.175"})' in out
    assert "<- calculator: 409.5" in out
    assert "It is 409.5." in out
    assert "1 tool call]" in out
