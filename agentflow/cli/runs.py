"""`agentflow runs`: list, show or prune the runs in a durable store, named by a URL.

    agentflow runs list --store sqlite:///runs.db --status waiting
    agentflow runs show order-42 --store postgresql://app@db.internal/app
    agentflow runs prune --older-than 7d        # the store from AGENTFLOW_STORE

Each action opens the store `open_store` makes of the URL with `async with`, in one
`asyncio.run`, so that it is closed (its writer thread or pool ended) whatever happens.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, get_args

from agentflow.cli.errors import EXIT_OK, EXIT_WORKFLOW_FAILED, CommandLineError, one_line
from agentflow.cli.options import Subcommands, positive_int
from agentflow.stores.base import RunStatus

if TYPE_CHECKING:
    from agentflow.stores.base import RunInfo, RunStore, StoredRun

STORE_VARIABLE = "AGENTFLOW_STORE"
"""Where the store's URL is read from when `--store` is left out."""

DURATION_FORMS = "7d, 12h, 30m or 90s"
"""The forms `--older-than` takes, as its error lists them."""

_DURATION = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_DATA_WIDTH = 100
"""Characters of a record's data `show` prints before cutting it (all of it with --json)."""


def add_runs_command(commands: Subcommands) -> None:
    """Add `runs` and its actions (`list`, `show`, `prune`) to the command's subcommands."""
    runs = commands.add_parser(
        "runs",
        help="list, show or prune the runs in a durable store",
        description="Read or prune the runs a durable store holds (a sqlite:///, "
        "postgresql:// or memory:// URL).",
    )
    actions: Subcommands = runs.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = _add_action(actions, "list", "list runs, most recently written first")
    listing.add_argument("--status", choices=get_args(RunStatus), help="only runs with this status")
    listing.add_argument("--workflow", metavar="NAME", help="only runs of this workflow")
    listing.add_argument("--limit", type=positive_int, metavar="N", help="at most N runs")
    listing.add_argument("--json", action="store_true", help="one JSON object per run")
    listing.set_defaults(execute=_executor(_list_runs))

    show = _add_action(actions, "show", "show a run and the journal since its checkpoint")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--json", action="store_true", help="everything in full, as one object")
    show.set_defaults(execute=_executor(_show_run))

    prune = _add_action(actions, "prune", "drop ended runs last written long enough ago")
    prune.add_argument(
        "--older-than",
        type=_duration,
        required=True,
        metavar="DURATION",
        help=f"how long ago, e.g. {DURATION_FORMS}",
    )
    prune.set_defaults(execute=_executor(_prune_runs))


def _add_action(actions: Subcommands, name: str, help: str) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=help, description=f"{help[0].upper()}{help[1:]}.")
    parser.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///relative/path.db, sqlite:////absolute/path.db, postgresql://..., "
        f"memory:// (default: ${STORE_VARIABLE})",
    )
    return parser


def _executor(
    action: Callable[[RunStore, argparse.Namespace], Awaitable[None]],
) -> Callable[[argparse.Namespace], int]:
    """The command for `action`: open the store, run the action on it, close the store."""

    def execute(args: argparse.Namespace) -> int:
        import asyncio

        store = _store(args.store)
        asyncio.run(_on_store(store, action, args))
        return EXIT_OK

    return execute


async def _on_store(
    store: RunStore,
    action: Callable[[RunStore, argparse.Namespace], Awaitable[None]],
    args: argparse.Namespace,
) -> None:
    from agentflow.errors import StoreError

    try:
        async with store:
            await action(store, args)
    except StoreError as error:
        raise CommandLineError(one_line(error), EXIT_WORKFLOW_FAILED) from None


def _store(option: str | None) -> RunStore:
    from agentflow.errors import MissingExtraError
    from agentflow.stores import SqliteStore, open_store

    url = option or os.environ.get(STORE_VARIABLE)
    if not url:
        raise CommandLineError(f"no store: give --store URL or set {STORE_VARIABLE}")
    try:
        store = open_store(url)
    except ValueError as error:
        raise CommandLineError(str(error)) from None
    except MissingExtraError as error:
        raise CommandLineError(one_line(error), EXIT_WORKFLOW_FAILED) from None
    # Opening a SQLite store creates its file: a mistyped path would list an empty store
    # and leave a stray file behind.
    if isinstance(store, SqliteStore) and not store.path.exists():
        raise CommandLineError(f"no SQLite store at {store.path}", EXIT_WORKFLOW_FAILED)
    return store


async def _list_runs(store: RunStore, args: argparse.Namespace) -> None:
    runs = [info async for info in store.list_runs(args.status, args.workflow, args.limit)]
    if args.json:
        for info in runs:
            print(_json(_run_fields(info)))
        return
    rows = [(info.run_id, info.status, info.workflow, _utc(info.updated_at)) for info in runs]
    for line in _aligned(rows):
        print(line)


async def _show_run(store: RunStore, args: argparse.Namespace) -> None:
    from agentflow.errors import RunNotFoundError

    try:
        stored = await store.load(args.run_id)
    except RunNotFoundError:
        raise CommandLineError(
            f"no run {args.run_id!r} in the store", EXIT_WORKFLOW_FAILED
        ) from None
    if args.json:
        print(_json(_stored_fields(stored)))
        return
    info = stored.info
    fields = {
        "run": info.run_id,
        "workflow": info.workflow,
        "version": info.version or "-",
        "status": info.status,
        "created": _utc(info.created_at),
        "updated": _utc(info.updated_at),
        "result": _cut(info.result) if info.result is not None else "-",
        "checkpoint": f"seq {stored.checkpoint.seq}" if stored.checkpoint else "none",
    }
    for line in _aligned(list(fields.items())):
        print(line)
    print(f"records after the checkpoint: {len(stored.records)}")
    records = [
        (str(record.seq), record.kind, record.key or "-", _cut(record.data))
        for record in stored.records
    ]
    for line in _aligned(records):
        print(f"  {line}")


async def _prune_runs(store: RunStore, args: argparse.Namespace) -> None:
    dropped = await store.prune(args.older_than)
    print(f"pruned {dropped} run{'' if dropped == 1 else 's'}")


def _duration(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as {DURATION_FORMS}, got {text!r}"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Each row's cells joined by two spaces, every column but the last padded to its
    widest cell."""
    if not rows:
        return []
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return [
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]
        )
        for row in rows
    ]


def _cut(text: str) -> str:
    from agentflow.cli.formatting import shorten

    return shorten(text, _DATA_WIDTH)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_fields(info: RunInfo) -> dict[str, Any]:
    fields = dataclasses.asdict(info)
    fields["created_at"] = info.created_at.astimezone(UTC).isoformat()
    fields["updated_at"] = info.updated_at.astimezone(UTC).isoformat()
    return fields


def _stored_fields(stored: StoredRun) -> dict[str, Any]:
    checkpoint = stored.checkpoint
    return {
        "run": _run_fields(stored.info),
        "checkpoint": dataclasses.asdict(checkpoint) if checkpoint is not None else None,
        "records": [dataclasses.asdict(record) for record in stored.records],
    }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
