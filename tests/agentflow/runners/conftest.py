"""A fresh PostgreSQL database per test (the stores tests' server, `postgres_databases`),
dropped after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from postgres_databases import DATABASES


@pytest.fixture
def dsn() -> Iterator[str]:
    """A `postgresql://` URL of a new, empty database."""
    yield DATABASES.fresh_url()
    DATABASES.drop_made()


@pytest.fixture(autouse=True, scope="session")
def _stop_postgres() -> Iterator[None]:
    yield
    DATABASES.stop()
