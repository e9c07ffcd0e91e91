"""examples/function_agent.py: says what is missing without a server, and with one (mocked
HTTP) streams the answer and shows the tool calls; a run that ends in an error says so in
one line on stderr, exit 1."""

from __future__ import annotations

import httpx
import pytest
from example_scripts import (
    assert_llm_timeout_is_the_clients,
    assert_run_ending_error_is_one_line,
    assert_says_what_is_missing_without_a_server,
    load_example,
    unauthorized,
)
from llm_wire import BASE_URL, calls_reply, refusal_reply, text_reply
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


def run_ending_replies() -> dict[str, list[httpx.Response]]:
    """Server replies that end the agent's run with an error, by the error."""
    sums = [calls_reply((f"c{n}", "calculator", f'{{"expression": "{n} + 1"}}')) for n in range(20)]
    return {
        "openai.AuthenticationError": [unauthorized()],
        "LLMRefusalError": [refusal_reply("I can't do arithmetic.")],
        "MaxIterationsError": sums,
    }


@pytest.mark.parametrize(
    ("error", "says"),
    [
        ("openai.AuthenticationError", "Error code: 401 - Incorrect API key provided"),
        ("LLMRefusalError", "the model refused: I can't do arithmetic."),
        ("MaxIterationsError", "agent 'agent' reached max_iterations=20 without a final"),
    ],
)
def test_a_run_ending_in_an_error_says_it_in_one_line_and_exits_1(
    error: str, says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = assert_run_ending_error_is_one_line(
        "function_agent", ["What is 2 + 2?"], run_ending_replies()[error], monkeypatch, capsys
    )
    assert line.startswith(says), line
    assert line.endswith("; raised in step 'call_llm' of workflow FunctionAgent"), line


async def test_runs_on_claude_against_the_messages_api(capsys: pytest.CaptureFixture[str]) -> None:
    # The example's `main` takes any LLM: here Anthropic, its HTTP mocked at the wire with
    # the Messages API's own streamed shapes.
    from anthropic_wire import BASE_URL as CLAUDE_URL
    from anthropic_wire import MESSAGES, MODEL, streamed, text, tool_use

    from agents.llm import Anthropic

    llm = Anthropic(MODEL, api_key="sk-ant-test", base_url=CLAUDE_URL, max_retries=0)
    with mock_wire(base_url=CLAUDE_URL, assert_all_called=True) as api:
        api.post(MESSAGES).mock(
            side_effect=[
                streamed(tool_use("toolu_01", "calculator", {"expression": "2340 * 0.175"})),
                streamed(text("It is 409.5.")),
            ]
        )
        output = await load_example("function_agent").main(llm, "What is 17.5% of 2340?")

    out = capsys.readouterr().out
    assert '-> calculator({"expression": "2340 * 0.175"})' in out
    assert "<- calculator: 409.5" in out
    assert "It is 409.5." in out
    assert "[34 tokens, 1 tool call]" in out
    assert output.response.text == "It is 409.5."
