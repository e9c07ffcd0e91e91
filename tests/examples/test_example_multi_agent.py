"""examples/multi_agent.py: says what is missing without a server, and with one (mocked
HTTP) shows the handoff, each agent's tool calls and tokens, and the shared state; a model
that loops on the refund is told to answer, and a run that ends in an error says so in one
line on stderr, exit 1."""

from __future__ import annotations

import httpx
import pytest
from example_scripts import (
    assert_llm_timeout_is_the_clients,
    assert_says_what_is_missing_without_a_server,
    load_example,
)
from llm_wire import BASE_URL, calls_reply, refusal_reply, sent_json, text_reply
from wire_mock import mock_wire

TO_REFUNDS = calls_reply(("h1", "handoff", '{"to_agent": "refunds", "reason": "broken"}'))
REFUND_1042 = ("refund_order", '{"order_id": "1042", "reason": "arrived broken"}')
LOOPING_ON_THE_REFUND = [TO_REFUNDS, *[calls_reply((f"r{n}", *REFUND_1042)) for n in range(5)]]
"""The desk as a small model ran it: triage hands off, then refunds asks for the same refund
five times in a row (the fifth is one more than `max_repeated_calls=3` repeats)."""


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


def test_a_model_looping_on_the_refund_is_told_to_answer_and_refunds_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(
            side_effect=[*LOOPING_ON_THE_REFUND, text_reply("Refunded 249.00 EUR.")]
        )
        assert load_example("multi_agent").cli(["Order 1042 arrived broken"]) == 0

    assert sent_json(route.calls.last.request)["tool_choice"] == "none"
    captured = capsys.readouterr()
    assert "[refunds] Refunded 249.00 EUR." in captured.out
    assert captured.out.count("[refunds] <- refunded 249.00 EUR for order 1042") == 1
    assert captured.out.count("nothing was done this time") == 4  # each repeat's note
    assert "[refunds recorded: [{'order_id': '1042', 'amount': 249.0," in captured.out
    assert captured.out.count("'order_id': '1042'") == 1
    assert captured.err == ""


def run_ending_replies() -> dict[str, list[httpx.Response]]:
    """Server replies that end the desk's run with an error, by the error."""
    look_ups = [
        calls_reply((f"o{n}", "look_up_order", f'{{"order_id": "{n}"}}')) for n in range(19)
    ]
    return {
        "RepeatedToolCallError": [*LOOPING_ON_THE_REFUND, calls_reply(("r5", *REFUND_1042))],
        "MaxIterationsError": [
            calls_reply(("h1", "handoff", '{"to_agent": "orders", "reason": "which order"}')),
            *look_ups,
        ],
        "LLMRefusalError": [refusal_reply("I can't help with refunds.")],
        "openai.AuthenticationError": [
            httpx.Response(401, json={"error": {"message": "Incorrect API key provided"}})
        ],
    }


@pytest.mark.parametrize(
    ("error", "says"),
    [
        ("RepeatedToolCallError", "agent 'refunds' stopped the run: its model made the call"),
        ("MaxIterationsError", "agent 'orders' reached max_iterations=20 without a final"),
        ("LLMRefusalError", "the model refused: I can't help with refunds."),
        ("openai.AuthenticationError", "Error code: 401"),
    ],
)
def test_a_run_ending_in_an_error_says_it_in_one_line_and_exits_1(
    error: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=run_ending_replies()[error])
        assert load_example("multi_agent").cli(["Order 1042 arrived broken"]) == 1

    stderr = capsys.readouterr().err
    assert stderr.startswith(f"examples/multi_agent.py: {says}"), stderr
    assert stderr.count("\n") == 1
    if error == "RepeatedToolCallError":  # its note's hint, on the same line
        assert "ignore tool_choice" in stderr, stderr
