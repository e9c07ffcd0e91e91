"""`open_store`: a run store named by a URL, so that a command line or a setting can say
which store to use in one string.

    open_store("sqlite:///runs.db")              # runs.db in the working directory
    open_store("sqlite:////var/lib/app/runs.db") # an absolute path
    open_store("postgresql://app:secret@db.internal/app")  # or postgres://
    open_store("memory://")

SQLite URLs follow SQLAlchemy's convention: `sqlite:///` and then the path, so a relative
path has three slashes and an absolute one four. A PostgreSQL URL is handed to
`PostgresStore` as its DSN, as libpq reads it. Each store is imported only when its URL is
opened, so that naming this function imports no database driver.
"""

from __future__ import annotations

import re
from typing import Any

from agentflow.stores.base import RunStore

__all__ = ["ACCEPTED_FORMS", "mask_password", "open_store"]

ACCEPTED_FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "postgresql://user:password@host:port/dbname (or postgres://), memory://"
)
"""The URLs `open_store` accepts, as its errors list them."""

_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_SCHEMES = ("postgresql", "postgres")
_MEMORY_URL = "memory://"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_USERINFO_PASSWORD = re.compile(r"(//[^/@:]*:)[^/@]*@")
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)[^&\s]*", re.IGNORECASE)


def open_store(url: str, **options: Any) -> RunStore:
    """The store `url` names, made with `options` (a store's keyword arguments, such as
    `keep_history` or `ttl`); not yet opened: use it as `async with open_store(url) as
    store:`.

    `sqlite:///relative/path.db` and `sqlite:////absolute/path.db` (SQLAlchemy's
    convention: three slashes, then the path), `postgresql://...` or `postgres://...`
    (the DSN of a `PostgresStore`, extra `postgres`), `memory://`. Anything else raises
    `ValueError` naming the URL's scheme and the accepted forms, its password masked."""
    match = _SCHEME.match(url)
    if match is None:
        raise ValueError(f"store URL {mask_password(url)!r} has no scheme; {_expected()}")
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        return _sqlite_store(url, options)
    if scheme in _POSTGRES_SCHEMES:
        if not url[match.end() :].startswith("//"):
            raise _malformed(url, scheme)
        from agentflow.stores.postgres import PostgresStore

        return PostgresStore(url, **options)
    if scheme == "memory":
        if url != _MEMORY_URL:
            raise _malformed(url, scheme)
        from agentflow.stores.memory import MemoryStore

        return MemoryStore(**options)
    raise ValueError(
        f"store URL {mask_password(url)!r} has the unknown scheme {scheme!r}; {_expected()}"
    )


def mask_password(text: str) -> str:
    """`text` (a URL or a DSN) with any password in it replaced by `***`, for messages."""
    text = _USERINFO_PASSWORD.sub(r"\1***@", text)
    return _KEYWORD_PASSWORD.sub(r"\1***", text)


def _sqlite_store(url: str, options: dict[str, Any]) -> RunStore:
    if not url.startswith(_SQLITE_PREFIX):
        raise _malformed(url, "sqlite")
    path = url.removeprefix(_SQLITE_PREFIX)
    if not path:
        raise ValueError(f"store URL {url!r} has no path after 'sqlite:///'; {_expected()}")
    from agentflow.stores.sqlite import SqliteStore

    return SqliteStore(path, **options)


def _malformed(url: str, scheme: str) -> ValueError:
    return ValueError(
        f"store URL {mask_password(url)!r} is not a valid {scheme!r} URL; {_expected()}"
    )


def _expected() -> str:
    return f"expected one of: {ACCEPTED_FORMS}"
