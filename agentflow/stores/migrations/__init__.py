"""The numbered SQL migrations each database store applies at open, and how to find them.

The files live beside this module, one folder per dialect (`sqlite/`, `postgres/`), named
`NNNN_what_it_does.sql` and numbered from 1 without gaps: a database's schema version is the
number of the last one applied. They ship as package data (hatchling packs every file under
`agentflow/`), and are read through `importlib.resources` so that they load from a wheel or
a zip as well as from a checkout. Applying them is each store's job (its dialect's lock and
version table); finding and checking them is shared here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered migration file."""

    version: int
    """The schema version a database has once this migration is applied."""
    name: str
    """The file's name, for messages."""
    sql: str


def find_migrations(dialect: str) -> list[Migration]:
    """The migrations of `dialect` (a folder beside this module), in order.

    Raises `LookupError` for an unknown dialect and `ValueError` for a misnamed file or a gap
    in the numbers: both are mistakes in this package, not in the user's database."""
    folder = resources.files(__name__).joinpath(dialect)
    if not folder.is_dir():
        raise LookupError(f"no migrations for the dialect {dialect!r}")
    migrations: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _NAME.fullmatch(entry.name)
        if match is None:
            raise ValueError(f"migration {dialect}/{entry.name} is not named NNNN_what_it_does.sql")
        migrations.append(Migration(int(match[1]), entry.name, entry.read_text("utf-8")))
    migrations.sort(key=lambda migration: migration.version)
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(
                f"migration {dialect}/{migration.name} should be number {expected}: the "
                "migrations are numbered from 1 without gaps"
            )
    return migrations
