"""What every command's parser shares: the subcommands it adds itself to, and the
`MODULE:CLASS` argument naming the workflow it works on."""

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
