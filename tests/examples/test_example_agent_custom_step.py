"""examples/agent_custom_step.py: the overridden `run_tool_call` answers a repeated call
from the cache in the context, so the second question fetches no rate (mocked HTTP); a run
that ends in an error says so in one line on stderr, exit 1."""

from __future__ import annotations

import pytest
from example_scripts import (
    assert_llm_timeout_is_the_clients,
    assert_run_ending_error_is_one_line,
    assert_says_what_is_missing_without_a_server,
    load_example,
    unauthorized,
)
from llm_wire import BASE_URL, calls_reply, refusal_reply, sent_json, text_reply
from wire_mock import mock_wire

RATE = '{"base": "EUR", "quote": "USD"}'


def test_without_a_server_it_says_what_is_missing() -> None:
    assert_says_what_is_missing_without_a_server("agent_custom_step")


def test_llm_timeout_is_the_time_its_client_waits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_llm_timeout_is_the_clients("agent_custom_step", [], monkeypatch, capsys)


def test_the_repeated_rate_lookup_comes_from_the_cache(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    example = load_example("agent_custom_step")
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(
            side_effect=[
                calls_reply(
                    ("c1", "exchange_rate", RATE), ("c2", "multiply", '{"a":120,"b":1.08}')
                ),
                text_reply("120 EUR is about 129.60 USD."),
                calls_reply(("c3", "exchange_rate", RATE), ("c4", "multiply", '{"a":75,"b":1.08}')),
                text_reply("75 EUR is 81.00 USD."),
            ]
        )
        assert example.cli([]) == 0

    assert example.lookups == [("EUR", "USD")]  # fetched once, for the first question
    tool_messages = [
        m for m in sent_json(route.calls[3].request)["messages"] if m["role"] == "tool"
    ]
    assert [m["content"] for m in tool_messages] == ["1.08", "129.6", "1.08", "81.0"]
    out = capsys.readouterr().out
    assert "> And how many US dollars is 75 EUR?\n75 EUR is 81.00 USD." in out
    assert "[rates fetched: 1;" in out


@pytest.mark.parametrize(
    ("error", "says"),
    [
        ("openai.AuthenticationError", "Error code: 401 - Incorrect API key provided"),
        ("LLMRefusalError", "the model refused: I won't convert currencies."),
    ],
)
def test_a_run_ending_in_an_error_says_it_in_one_line_and_exits_1(
    error: str, says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    replies = {
        "openai.AuthenticationError": [unauthorized()],
        "LLMRefusalError": [refusal_reply("I won't convert currencies.")],
    }
    line = assert_run_ending_error_is_one_line(
        "agent_custom_step", [], replies[error], monkeypatch, capsys
    )
    assert line.startswith(says), line
