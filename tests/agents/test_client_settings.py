"""The settings both provider clients take the same way (`agents.llm.client_settings`, and
the concurrency limit `server_slots` holds): one check, one message and one `from_env` rule,
whichever client is given a bad value. What only one client reads (`OPENAI_MAX_RETRIES`, the
defaults) is tested with that client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

from agents.llm import LLMConfigurationError
from agents.llm.anthropic.client import Anthropic
from agents.llm.openai.client import OpenAI

Client = Callable[..., Any]
CLIENTS = {
    "openai": lambda **settings: OpenAI(
        "m", api_key="k", base_url="https://local.test/v1", **settings
    ),
    "anthropic": lambda **settings: Anthropic(
        "m", api_key="k", base_url="https://anthropic.test", **settings
    ),
}
BAD_ARGUMENTS = (
    [
        ("timeout", value, "a positive number of seconds")
        for value in (0, -1, float("nan"), float("inf"), True, "soon")
    ]
    + [("max_retries", value, "a whole number, 0 or more") for value in (-1, True, 1.5)]
    + [("max_concurrency", value, "a whole number, 1 or more") for value in (0, -2, True, 1.5)]
)


@pytest.mark.parametrize("client", CLIENTS.values(), ids=CLIENTS.keys())
@pytest.mark.parametrize(("argument", "value", "expected"), BAD_ARGUMENTS)
def test_a_bad_argument_is_named_with_its_value(
    client: Client, argument: str, value: object, expected: str
) -> None:
    with pytest.raises(LLMConfigurationError) as caught:
        client(**{argument: value})

    assert str(caught.value) == f"{argument} must be {expected}, got {value!r}"


ENVIRONMENTS = {
    "openai": (OpenAI, "OPENAI_BASE_URL", "OPENAI_TIMEOUT"),
    "anthropic": (Anthropic, "ANTHROPIC_BASE_URL", "ANTHROPIC_TIMEOUT"),
}
GIVEN_CLIENTS = {
    OpenAI: lambda: openai.AsyncOpenAI(api_key="k", base_url="https://local.test/v1"),
    Anthropic: lambda: anthropic.AsyncAnthropic(api_key="k", base_url="https://anthropic.test"),
}
environments = pytest.mark.parametrize(
    ("cls", "url_variable", "variable"), ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys()
)


@environments
@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf"])
@pytest.mark.parametrize("with_client", [False, True], ids=["built", "client given"])
def test_a_bad_timeout_variable_is_named_with_its_value(
    monkeypatch: pytest.MonkeyPatch,
    cls: Any,
    url_variable: str,
    variable: str,
    value: str,
    with_client: bool,
) -> None:
    monkeypatch.setenv(url_variable, "https://local.test")
    monkeypatch.setenv(variable, value)
    given = {"client": GIVEN_CLIENTS[cls]()} if with_client else {}

    with pytest.raises(LLMConfigurationError) as caught:
        cls.from_env(**given)

    assert str(caught.value) == f"{variable} must be a positive number of seconds, got {value!r}"


@environments
def test_an_empty_timeout_variable_counts_as_unset(
    monkeypatch: pytest.MonkeyPatch, cls: Any, url_variable: str, variable: str
) -> None:
    monkeypatch.setenv(url_variable, "https://local.test")
    monkeypatch.setenv(variable, " ")  # `VAR= cmd` is how a shell unsets one for a command

    assert cls.from_env("m").metadata.model == "m"


@environments
def test_from_env_leaves_a_given_clients_timeout_to_it(
    monkeypatch: pytest.MonkeyPatch, cls: Any, url_variable: str, variable: str
) -> None:
    monkeypatch.setenv(url_variable, "https://local.test")
    monkeypatch.setenv(variable, "240")
    client = GIVEN_CLIENTS[cls]()

    # The variable is for the clients from_env builds; passing it on with the client was
    # refused as "both client and timeout" (Anthropic's, before the two shared this rule).
    assert cls.from_env(client=client).client is client
