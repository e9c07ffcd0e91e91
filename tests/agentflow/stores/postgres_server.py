"""A throwaway PostgreSQL server for the tests, started with `initdb` and `pg_ctl`.

CI (`.ci/run`) and a developer's `pytest` start it the same way: a temporary data
directory, a free port on 127.0.0.1 (no Unix socket), a superuser with a random password
and password authentication for 127.0.0.1 only, durability off (the data is thrown away).
PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user
the Debian package creates.

    python tests/agentflow/stores/postgres_server.py start   # prints `export ...` lines
    python tests/agentflow/stores/postgres_server.py stop DATA_DIR

Only the standard library is used, so that `.ci/run` can start the server before any
virtual environment exists.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DSN_VARIABLE = "AGENTFLOW_TEST_POSTGRES_DSN"
"""The admin DSN of a running server; when set, the tests use it instead of starting one."""
DATA_DIR_VARIABLE = "AGENTFLOW_TEST_POSTGRES_DATA"
BIN_DIRS = ["/usr/lib/postgresql/15/bin"]
SUPERUSER = "agentflow"
SERVER_USER = "postgres"
"""Who runs the server when we are root (initdb and pg_ctl refuse root)."""


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server could be started; the message says what to install or set."""


@dataclass(frozen=True)
class PostgresServer:
    """A server this module started: its admin DSN and the data directory to remove."""

    dsn: str
    data_dir: Path

    def stop(self) -> None:
        stop(self.data_dir)


def find_binary(name: str) -> str:
    for directory in BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise PostgresUnavailableError(
            f"PostgreSQL's {name} was found neither in {', '.join(BIN_DIRS)} nor on PATH: "
            f"install PostgreSQL 15 (Debian: apt-get install postgresql) or set {DSN_VARIABLE} "
            "to the DSN of a server whose user may create databases"
        )
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_user() -> str | None:
    """None when we may run the server ourselves; else the user to run it as."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailableError(
            f"running as root, and there is no {SERVER_USER!r} user to run PostgreSQL as "
            "(initdb refuses root): install Debian's postgresql package, or run as another user"
        ) from None
    return SERVER_USER


def _run(command: list[str], user: str | None, cwd: Path) -> None:
    completed = subprocess.run(
        command, user=user, cwd=cwd, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise PostgresUnavailableError(
            f"{' '.join(command)} failed ({completed.returncode}):\n"
            f"{completed.stdout}{completed.stderr}"
        )


def start() -> PostgresServer:
    """Start a fresh server and return it once it accepts connections."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="agentflow-postgres-"))
    data_dir, password_file = root / "data", root / "password"
    password = secrets.token_hex(16)
    password_file.write_text(password)
    if user is not None:
        account = pwd.getpwnam(user)
        for path in (root, password_file):
            os.chown(path, account.pw_uid, account.pw_gid)
    try:
        _run(
            [initdb, "-D", str(data_dir), "-U", SUPERUSER, f"--pwfile={password_file}",
             "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync"],
            user, root,
        )  # fmt: skip
        port = free_port()
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 200\n"
            )
        (data_dir / "pg_hba.conf").write_text("host all all 127.0.0.1/32 scram-sha-256\n")
        _run([pg_ctl, "-D", str(data_dir), "-l", str(root / "server.log"), "-w", "start"],
             user, root)  # fmt: skip
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return PostgresServer(f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{port}/postgres", root)


def stop(root: Path) -> None:
    """Stop the server started in `root` (if it runs) and remove its files."""
    data_dir = root / "data"
    if (data_dir / "postmaster.pid").exists():
        user = _server_user()
        _run([find_binary("pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"],
             user, root)  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


def main(arguments: list[str]) -> int:
    if arguments == ["start"]:
        server = start()
        print(f"export {DSN_VARIABLE}='{server.dsn}'")
        print(f"export {DATA_DIR_VARIABLE}='{server.data_dir}'")
        return 0
    if len(arguments) == 2 and arguments[0] == "stop":
        stop(Path(arguments[1]))
        return 0
    print(f"usage: {sys.argv[0]} start | stop DATA_DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
