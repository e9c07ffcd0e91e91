"""`agentflow runs list` against PostgreSQL: here, beside the fixture that makes a fresh
database on the test server (postgres_databases.py)."""

from __future__ import annotations

import asyncio

import pytest
from postgres_databases import DATABASES

from agentflow.cli import main
from agentflow.stores import PostgresStore


async def _fill(url: str) -> None:
    async with PostgresStore(url) as store:
        await store.create_run("first", "app.flows:Writer", None)
        await store.write("first", status="completed", result="null")
        await store.create_run("second", "app.flows:Writer", None)


def test_list_reads_the_runs_of_a_postgresql_store(capsys: pytest.CaptureFixture[str]) -> None:
    url = DATABASES.fresh_url()
    asyncio.run(_fill(url))
    assert main(["runs", "list", "--store", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["second", "running", "app.flows:Writer"],
        ["first", "completed", "app.flows:Writer"],
    ]
