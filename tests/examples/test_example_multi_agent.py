"""examples/multi_agent.py: says what is missing without a server, and with one (mocked
HTTP) shows the handoff, each agent's tool calls and tokens, and the shared state."""

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
    assert_says_what_is_missing_without_a_server("multi_agent")


def test_llm_timeout_is_the_time_its_client_waits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_llm_timeout_is_the_clients(
        "multi_agent", ["Order 1042 arrived broken"], monkeypatch, capsys
    )


def test_triage_hands_off_and_the_refund_lands_in_the_shared_state(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(
            side_effect=[
                calls_reply(("h1", "handoff", '{"to_agent": "refunds", "reason": "broken"}')),
                calls_reply(
                    ("r1", "refund_order", '{"order_id": "1042", "reason": "arrived broken"}')
                ),
                text_reply("Your 249.00 EUR ", "are on their way back."),
            ]
        )
        assert load_example("multi_agent").cli(["Order 1042 arrived broken"]) == 0

    out = capsys.readouterr().out
    assert "[triage] handed off to refunds: broken" in out
    assert '[refunds] -> refund_order({"order_id": "1042", "reason": "arrived broken"})' in out
    assert "[refunds] <- refunded 249.00 EUR for order 1042" in out
    assert "[refunds] Your 249.00 EUR are on their way back." in out
    assert "[answered by refunds;" in out
    assert "'order_id': '1042', 'amount': 249.0, 'reason': 'arrived broken'" in out
