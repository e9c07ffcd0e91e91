"""OpenAI's timeout, retries and concurrency limit: from the environment for `from_env()`
(explicit arguments win), checked where they are given, each bad value named."""

from __future__ import annotations

import argparse

import httpx
import openai
import pytest
from wire_mock import mock_wire

from agents.llm import ChatMessage, LLMConfigurationError, LLMTimeoutError, add_llm_timeout_option
from agents.llm.openai.client import OpenAI

LOCAL = "https://local.test/v1"
HI = [ChatMessage.user("hi")]
BOOM = {"error": {"message": "boom", "type": "server_error", "code": None}}


@pytest.fixture
def local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", LOCAL)
    for name in ("OPENAI_TIMEOUT", "OPENAI_MAX_RETRIES", "OPENAI_MAX_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)


async def sent_times(llm: OpenAI) -> int:
    """How many times `llm` sends a request that always gets a 500."""
    with mock_wire(assert_all_called=True) as router:
        route = router.post(f"{LOCAL}/chat/completions").respond(
            500, headers={"retry-after-ms": "1"}, json=BOOM
        )
        with pytest.raises(openai.InternalServerError):
            await llm.achat(HI)
    return route.call_count


async def timeout_message(llm: OpenAI) -> str:
    with mock_wire(assert_all_called=True) as router:
        router.post(f"{LOCAL}/chat/completions").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(LLMTimeoutError) as caught:
            await llm.achat(HI)
    return str(caught.value)


@pytest.mark.usefixtures("local_server")
async def test_from_env_reads_the_timeout_and_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_TIMEOUT", "240")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")

    llm = OpenAI.from_env()

    assert await sent_times(llm) == 1
    assert "did not answer within 240 s" in await timeout_message(llm)


@pytest.mark.usefixtures("local_server")
async def test_explicit_arguments_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_TIMEOUT", "240")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")

    llm = OpenAI.from_env(timeout=15, max_retries=2)

    assert await sent_times(llm) == 3
    assert "did not answer within 15 s" in await timeout_message(llm)


@pytest.mark.usefixtures("local_server")
async def test_without_the_variables_the_defaults_hold() -> None:
    llm = OpenAI.from_env()

    assert await sent_times(llm) == 4  # max_retries=3
    assert "did not answer within 60 s" in await timeout_message(llm)


@pytest.mark.usefixtures("local_server")
@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("OPENAI_MAX_RETRIES", "1.5", "a whole number, 0 or more"),
        ("OPENAI_MAX_RETRIES", "-1", "a whole number, 0 or more"),
        ("OPENAI_MAX_CONCURRENCY", "0", "a whole number, 1 or more"),
        ("OPENAI_MAX_CONCURRENCY", "many", "a whole number, 1 or more"),
    ],
)
def test_a_bad_variable_is_named_with_its_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(LLMConfigurationError) as caught:
        OpenAI.from_env()

    assert str(caught.value) == f"{name} must be {expected}, got {value!r}"


@pytest.mark.parametrize("argument", ["timeout", "max_retries", "retry_timeouts"])
def test_a_given_client_keeps_its_own_timeout_and_retries(argument: str) -> None:
    client = openai.AsyncOpenAI(api_key="k", base_url=LOCAL, timeout=300, max_retries=0)
    value = True if argument == "retry_timeouts" else 5

    with pytest.raises(LLMConfigurationError, match=f"both client and {argument}"):
        OpenAI("m", client=client, **{argument: value})


async def test_a_given_client_times_out_by_its_own_settings_and_the_error_says_so() -> None:
    client = openai.AsyncOpenAI(api_key="k", base_url=LOCAL, timeout=300, max_retries=1)
    llm = OpenAI("m", client=client)

    # The SDK sends a timed-out request again; the attempts it made are counted.
    assert "did not answer within 300 s on each of 2 attempts" in await timeout_message(llm)


@pytest.mark.usefixtures("local_server")
async def test_from_env_with_a_client_leaves_its_timeout_and_retries_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_TIMEOUT", "240")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")
    client = openai.AsyncOpenAI(api_key="k", base_url=LOCAL, timeout=300, max_retries=1)

    # As with the key and base URL, the client's own settings hold; the variables are for
    # the clients from_env builds.
    llm = OpenAI.from_env(client=client)

    assert "did not answer within 300 s on each of 2 attempts" in await timeout_message(llm)


def script_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="script.py")
    add_llm_timeout_option(parser)
    return parser


def test_a_scripts_llm_timeout_option_gives_seconds_or_none() -> None:
    assert script_parser().parse_args(["--llm-timeout", "240"]).llm_timeout == 240.0
    assert script_parser().parse_args([]).llm_timeout is None  # from_env then reads the variable


@pytest.mark.parametrize("text", ["0", "-5", "nan", "inf", "soon"])
def test_a_bad_llm_timeout_option_is_a_usage_error_naming_it(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        script_parser().parse_args(["--llm-timeout", text])

    assert exited.value.code == 2
    assert (
        f"argument --llm-timeout: expected a positive number of seconds, got {text!r}"
        in capsys.readouterr().err
    )
