"""A fresh PostgreSQL database per test, on one server per test session.

The server is the one `AGENTFLOW_TEST_POSTGRES_DSN` names (CI starts it in `.ci/run`), else
one this module starts on first use (`postgres_server.start`) and stops when the session
ends. It is never skipped: a machine that cannot run PostgreSQL fails the PostgreSQL
tests with the reason."""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import psycopg
import pytest
from postgres_server import DSN_VARIABLE, PostgresServer, PostgresUnavailableError, start
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo


class ThrowawayDatabases:
    """Databases made on the session's server, dropped by `drop_made`."""

    def __init__(self) -> None:
        self._admin_dsn: str | None = None
        self._started: PostgresServer | None = None
        self._made: list[str] = []

    def admin_dsn(self) -> str:
        if self._admin_dsn is None:
            from_environment = os.environ.get(DSN_VARIABLE)
            if from_environment:
                self._admin_dsn = from_environment
            else:
                try:
                    self._started = start()
                except PostgresUnavailableError as error:
                    pytest.fail(f"cannot start PostgreSQL for the PostgreSQL tests: {error}")
                self._admin_dsn = self._started.dsn
        return self._admin_dsn

    def fresh(self) -> str:
        """The DSN of a new, empty database."""
        admin = self.admin_dsn()
        name = f"agentflow_test_{uuid.uuid4().hex}"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._made.append(name)
        return make_conninfo(admin, dbname=name)

    def fresh_url(self) -> str:
        """A new, empty database as a `postgresql://` URL (what `open_store` and the
        command line take), rather than the `key=value` DSN `fresh` gives."""
        parts = conninfo_to_dict(self.fresh())
        user = quote(str(parts.get("user") or ""), safe="")
        password = f":{quote(str(parts['password']), safe='')}" if parts.get("password") else ""
        host = parts.get("host") or "127.0.0.1"
        port = parts.get("port") or 5432
        return f"postgresql://{user}{password}@{host}:{port}/{parts['dbname']}"

    def drop_made(self) -> None:
        if not self._made:
            return
        with psycopg.connect(self.admin_dsn(), autocommit=True) as connection:
            while self._made:
                name = self._made.pop()
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

    def stop(self) -> None:
        self.drop_made()
        if self._started is not None:
            self._started.stop()
            self._started = None


DATABASES = ThrowawayDatabases()
