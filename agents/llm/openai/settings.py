"""How long `OpenAI` waits, how often it sends a failed request again and how many requests
it lets in flight to one server: the defaults, and the variables `OpenAI.from_env()` reads
them from (checked by the rules every client shares, in `agents.llm.client_settings`).

The variables follow the SDK's own (`OPENAI_API_KEY`, `OPENAI_BASE_URL`) and mean what the
SDK's arguments of the same name mean: `OPENAI_TIMEOUT` is `timeout=` in seconds (how long
to wait for the server, for a stream between two chunks), `OPENAI_MAX_RETRIES` is
`max_retries=`. The SDK reads neither itself. A script gives its users the timeout on its
command line with `add_llm_timeout_option`, as `agentflow run --llm-timeout` does.
"""

from __future__ import annotations

import argparse
import math

from agents.llm import client_settings

DEFAULT_TIMEOUT = 60.0
"""Seconds `OpenAI` waits for a reply when no timeout is given."""

DEFAULT_MAX_RETRIES = 3
"""How many times `OpenAI` sends a failed request again when `max_retries` is not given."""

ENVIRONMENT_VARIABLES = {
    "timeout": "OPENAI_TIMEOUT",
    "max_retries": "OPENAI_MAX_RETRIES",
    "max_concurrency": "OPENAI_MAX_CONCURRENCY",
}
"""The variables `OpenAI.from_env()` reads its settings from, by constructor argument."""


def add_llm_timeout_option(parser: argparse.ArgumentParser) -> None:
    """Give a script's command line `--llm-timeout SECONDS`, as `agentflow run` has it.
    `args.llm_timeout` is then a positive number, or None when the option is not given:
    pass it on as `OpenAI.from_env(timeout=args.llm_timeout)`, where None leaves
    `OPENAI_TIMEOUT` (or the default) in force. A bad value is a usage error naming the
    option and the value."""
    parser.add_argument(
        "--llm-timeout",
        type=_seconds_option,
        metavar="SECONDS",
        help=f"seconds to wait for the model's server (default: OPENAI_TIMEOUT, else "
        f"{DEFAULT_TIMEOUT:g})",
    )


def _seconds_option(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not client_settings.acceptable_setting("timeout", value):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value
