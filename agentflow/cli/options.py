"""What the commands' parsers share: the subcommands each adds itself to, the
`MODULE:CLASS` argument naming the workflow it works on, and the option types."""

from __future__ import annotations

import argparse
from typing import Protocol


class Subcommands(Protocol):
    """What `ArgumentParser.add_subparsers()` returns, as far as a command module uses it
    (argparse gives the class no public name)."""

    def add_parser(self, name: str, *, help: str, description: str) -> argparse.ArgumentParser:
        """Add the subcommand `name` and return its parser."""
        ...


def add_workflow_command(
    commands: Subcommands, name: str, *, help: str, description: str
) -> argparse.ArgumentParser:
    """Add the subcommand `name`, which works on the workflow its `MODULE:CLASS` argument
    names (as `load_workflow` reads it); return its parser, for the command's own options."""
    parser = commands.add_parser(name, help=help, description=description)
    parser.add_argument("target", metavar="MODULE:CLASS", help="e.g. myapp.flows:ResearchFlow")
    return parser


def positive_int(text: str) -> int:
    """An option's value as an integer of at least 1 (argparse's `type=`)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value
