"""Numbered SQL migrations, one folder per dialect (`postgres/0001_initial.sql`, ...).

A file's number is the schema version it brings the database to; a store applies, in
order, the files past the version its database records, and refuses a database whose
version is past the last file (it was migrated by a newer agentflow). The files ship as
package data, read through `importlib.resources` so that they are found in a wheel too.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file: the version it migrates to, its file name and its statements."""

    version: int
    name: str
    sql: str


def migrations_of(dialect: str) -> list[Migration]:
    """The dialect's migrations in version order; the numbers run 1, 2, 3, ... without a
    gap, so that a missing or misnamed file is noticed here rather than in a database."""
    found = sorted(
        (int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8"))
        for entry in files(__name__).joinpath(dialect).iterdir()
        if entry.name.endswith(".sql")
    )
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(
            f"the {dialect} migrations are numbered {versions}, not 1 to {len(found)}"
        )
    return [Migration(version, name, sql) for version, name, sql in found]
