"""The command's exit codes, and the error that ends it with one."""

from __future__ import annotations

EXIT_OK = 0
EXIT_WORKFLOW_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CommandLineError(Exception):
    """A problem the command reports in one line and exits on, with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(error: BaseException) -> str:
    """`error` as `Type: message` on one line, for an error line or an event field."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class ConflictingOptionsError(CommandLineError):
    """Options that cannot go together in a way argparse cannot check itself: reported as
    argparse reports its own usage errors, after the usage line."""
