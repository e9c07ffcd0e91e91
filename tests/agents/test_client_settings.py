"""The settings both provider clients take the same way (`agents.llm.client_settings`, and the
concurrency limit `server_slots` holds): one check, one message, whichever client is given a
bad value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


@pytest.mark.parametrize("client", CLIENTS.values(), ids=CLIENTS.keys())
@pytest.mark.parametrize("value", [0, -2, True, 1.5])
def test_a_bad_max_concurrency_is_named_with_its_value(client: Client, value: object) -> None:
    with pytest.raises(LLMConfigurationError) as caught:
        client(max_concurrency=value)

    assert str(caught.value) == f"max_concurrency must be a whole number, 1 or more, got {value!r}"


ENVIRONMENTS = {
    "openai": (OpenAI, "OPENAI_BASE_URL", "OPENAI_TIMEOUT"),
    "anthropic": (Anthropic, "ANTHROPIC_BASE_URL", "ANTHROPIC_TIMEOUT"),
}


@pytest.mark.parametrize(
    ("cls", "url_variable", "variable"), ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys()
)
@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf"])
def test_a_bad_timeout_variable_is_named_with_its_value(
    monkeypatch: pytest.MonkeyPatch, cls: Any, url_variable: str, variable: str, value: str
) -> None:
    monkeypatch.setenv(url_variable, "https://local.test")
    monkeypatch.setenv(variable, value)

    with pytest.raises(LLMConfigurationError) as caught:
        cls.from_env()

    assert str(caught.value) == f"{variable} must be a positive number of seconds, got {value!r}"


@pytest.mark.parametrize(
    ("cls", "url_variable", "variable"), ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys()
)
def test_an_empty_timeout_variable_counts_as_unset(
    monkeypatch: pytest.MonkeyPatch, cls: Any, url_variable: str, variable: str
) -> None:
    monkeypatch.setenv(url_variable, "https://local.test")
    monkeypatch.setenv(variable, " ")

    assert cls.from_env("m").metadata.model == "m"
