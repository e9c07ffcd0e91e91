"""The settings every provider's client takes the same way, checked wherever they come from
so that a bad value is named before the first request: the timeout, retries and concurrency
limit (`checked_setting`), read from the environment variables a provider names for them
(`settings_from_env`), merged with what a `from_env()` caller gave (`from_env_settings`), and
the key or base URL a client's `from_env()` needs (`server_from_env`).

A provider's folder says which variables it reads and what its defaults are; the rules for a
value, and the message naming a bad one, are the same for all and live here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from agents.llm.errors import LLMConfigurationError

_EXPECTED = {
    "timeout": "a positive number of seconds",
    "max_retries": "a whole number, 0 or more",
    "max_concurrency": "a whole number, 1 or more",
}


def acceptable_setting(argument: str, value: object) -> bool:
    """Whether `value` is one for `argument`: a timeout a finite number of seconds above 0,
    `max_retries` a whole number 0 or more, `max_concurrency` one 1 or more (never a bool)."""
    if isinstance(value, bool):
        return False
    if argument == "timeout":
        return isinstance(value, int | float) and math.isfinite(value) and value > 0
    least = 1 if argument == "max_concurrency" else 0
    return isinstance(value, int) and value >= least


def checked_setting(argument: str, value: Any) -> Any:
    """`value` if it is one for `argument` (timeout, max_retries or max_concurrency), else
    `LLMConfigurationError` naming the argument and the value."""
    if not acceptable_setting(argument, value):
        raise LLMConfigurationError(_bad(argument, argument, value))
    return value


def settings_from_env(
    variables: Mapping[str, str], environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """The constructor's arguments for each of `variables` (argument -> variable, e.g.
    {"timeout": "<PROVIDER>_TIMEOUT"}) that is set and not empty (`<PROVIDER>_TIMEOUT= cmd` is
    how a shell unsets one for a command). Raises `LLMConfigurationError` naming the variable and
    its value when one is bad."""
    settings: dict[str, Any] = {}
    for argument, variable in variables.items():
        text = environ.get(variable, "").strip()
        if not text:
            continue
        try:
            value: float | int | None = float(text) if argument == "timeout" else int(text)
        except ValueError:
            value = None
        if value is None or not acceptable_setting(argument, value):
            raise LLMConfigurationError(_bad(argument, variable, text))
        settings[argument] = value
    return settings


def from_env_settings(variables: Mapping[str, str], given: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor's settings for a client's `from_env(**given)`: the variables'
    (`settings_from_env`, every one checked), with `given` winning (a None in it counts as
    not given). A `client` among `given` keeps its own timeout and retries, as it keeps its
    key and URL: the variables for those are for the clients `from_env` builds, and only
    the concurrency limit, which this process holds, is taken for it."""
    chosen = {name: value for name, value in given.items() if value is not None}
    from_environment = settings_from_env(variables)
    if "client" in chosen:
        from_environment.pop("timeout", None)
        from_environment.pop("max_retries", None)
    return {**from_environment, **chosen}


def server_from_env(key_variable: str, url_variable: str, missing: str) -> tuple[str, str | None]:
    """The API key and base URL the environment names, for a client's `from_env()`. A server
    of one's own (a base URL) often takes any key, but the SDKs refuse to start without one,
    so the key is "not-needed" when only the URL is set; with neither set, raises
    `LLMConfigurationError(missing)`, which says what to set (scripts can print that instead
    of the SDK's error at the first call)."""
    api_key = os.environ.get(key_variable)
    base_url = os.environ.get(url_variable)
    if not api_key and not base_url:
        raise LLMConfigurationError(missing)
    return api_key or "not-needed", base_url


def _bad(argument: str, name: str, value: object) -> str:
    return f"{name} must be {_EXPECTED[argument]}, got {value!r}"
