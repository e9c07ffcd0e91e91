"""`agentflow runs list|show|prune`, run for real against a SQLite file filled through
SqliteStore's API: what each prints, its JSON form, and every error path's exit code and
message. (`list` against PostgreSQL is in stores/test_cli_runs_postgres.py, beside the
server fixture.)"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentflow.cli import main
from agentflow.stores import Checkpoint, JournalRecord, SqliteStore

LONG_DATA = json.dumps({"events": ["x" * 300]})


async def _fill(path: Path) -> None:
    """Four runs, written in this order: done (completed), broken (failed, another
    workflow), asking (waiting, a checkpoint at seq 2 and two records after it), fresh
    (running, no checkpoint)."""
    async with SqliteStore(path) as store:
        await store.create_run(
            "done", "app.flows:Writer", "1", [JournalRecord(1, "start", None, "{}")]
        )
        await store.write("done", status="completed", result='"an essay"')
        await store.create_run("broken", "app.flows:Reader", None)
        await store.write("broken", status="failed", result='{"error": "boom"}')
        records = [
            JournalRecord(1, "start", None, "{}"),
            JournalRecord(2, "execution", "draft<-e1", '{"out": 1}'),
        ]
        await store.create_run("asking", "app.flows:Writer", "1", records)
        await store.write("asking", checkpoint=Checkpoint(2, '{"state": {}}'))
        await store.write(
            "asking",
            [
                JournalRecord(3, "execution", "review<-e2", LONG_DATA),
                JournalRecord(4, "sent", None, '{"response": "yes"}'),
            ],
            status="waiting",
        )
        await store.create_run("fresh", "app.flows:Writer", None)


@pytest.fixture
def url(tmp_path: Path) -> str:
    path = tmp_path / "runs.db"
    asyncio.run(_fill(path))
    return f"sqlite:///{path}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["runs", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------- list


def test_list_prints_one_aligned_line_per_run_most_recent_first(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "list", "--store", url)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["fresh", "running", "app.flows:Writer"],
        ["asking", "waiting", "app.flows:Writer"],
        ["broken", "failed", "app.flows:Reader"],
        ["done", "completed", "app.flows:Writer"],
    ]
    # Columns line up: each column starts at the same place on every line.
    for column in (1, 2, 3):
        starts = {line.index(line.split()[column], len(line.split()[0])) for line in lines}
        assert len(starts) == 1, lines
    updated = lines[0].split()[3]
    assert len(updated) == len("2026-01-01T00:00:00Z")
    assert updated.endswith("Z")


def test_list_filters_by_status_workflow_and_limit(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def ids(*options: str) -> list[str]:
        code, out, _ = run(capsys, "list", "--store", url, *options)
        assert code == 0
        return [line.split()[0] for line in out.splitlines()]

    assert ids("--status", "waiting") == ["asking"]
    assert ids("--workflow", "app.flows:Reader") == ["broken"]
    assert ids("--workflow", "app.flows:Writer", "--limit", "2") == ["fresh", "asking"]
    assert ids("--status", "cancelled") == []  # nothing found: no lines, exit 0


def test_list_json_is_one_object_per_run_with_every_field(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "list", "--store", url, "--status", "completed", "--json")
    assert code == 0
    [line] = out.splitlines()
    run_info = json.loads(line)
    assert set(run_info) == {
        "run_id",
        "workflow",
        "version",
        "status",
        "created_at",
        "updated_at",
        "result",
    }
    assert run_info["run_id"] == "done"
    assert run_info["version"] == "1"
    assert run_info["result"] == '"an essay"'
    assert run_info["updated_at"] >= run_info["created_at"]


def test_list_of_an_empty_store_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "list", "--store", "memory://") == (0, "", "")


def test_the_store_comes_from_agentflow_store_when_the_option_is_left_out(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTFLOW_STORE", url)
    code, out, _ = run(capsys, "list", "--status", "failed")
    assert (code, out.split()[0]) == (0, "broken")


# --------------------------------------------------------------------------- show


def test_show_prints_the_run_its_checkpoint_and_the_records_after_it(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "show", "asking", "--store", url)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["run", "asking"]
    assert ["status", "waiting"] in [line.split() for line in lines]
    assert ["workflow", "app.flows:Writer"] in [line.split() for line in lines]
    assert "checkpoint  seq 2" in lines
    records = lines[lines.index("records after the checkpoint: 2") + 1 :]
    assert [line.split()[:3] for line in records] == [
        ["3", "execution", "review<-e2"],
        ["4", "sent", "-"],
    ]
    assert records[1].endswith('{"response": "yes"}')
    # Long data is cut to a readable width, saying how much was left out.
    assert len(records[0]) < 200
    assert records[0].endswith(f"…(+{len(LONG_DATA) - 100} chars)")


def test_show_of_a_run_without_checkpoint_says_none(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "show", "done", "--store", url)
    assert code == 0
    assert "checkpoint  none" in out.splitlines()
    assert "records after the checkpoint: 1" in out.splitlines()
    assert ["result", '"an', 'essay"'] in [line.split() for line in out.splitlines()]


def test_show_json_holds_everything_in_full(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "asking", "--store", url, "--json")
    assert code == 0
    [line] = out.splitlines()
    shown = json.loads(line)
    assert shown["run"]["run_id"] == "asking"
    assert shown["run"]["status"] == "waiting"
    assert shown["checkpoint"] == {"seq": 2, "data": '{"state": {}}'}
    assert shown["records"] == [
        {"seq": 3, "kind": "execution", "key": "review<-e2", "data": LONG_DATA},
        {"seq": 4, "kind": "sent", "key": None, "data": '{"response": "yes"}'},
    ]


def test_show_of_an_unknown_run_names_it_and_exits_1(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "show", "order-404", "--store", url)
    assert (code, out) == (1, "")
    assert "'order-404'" in err
    assert err.startswith("agentflow: error: ")


# --------------------------------------------------------------------------- prune


def test_prune_drops_only_terminal_runs_older_than_the_duration(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "prune", "--older-than", "7d", "--store", url) == (
        0,
        "pruned 0 runs\n",
        "",
    )
    assert run(capsys, "prune", "--older-than", "0s", "--store", url) == (
        0,
        "pruned 2 runs\n",
        "",
    )
    _, out, _ = run(capsys, "list", "--store", url)
    assert sorted(line.split()[0] for line in out.splitlines()) == ["asking", "fresh"]


@pytest.mark.parametrize("duration", ["7", "7w", "d", "-1d", "1.5h", ""])
def test_a_bad_duration_is_a_usage_error_naming_the_accepted_forms(
    duration: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["runs", "prune", f"--older-than={duration}", "--store", "memory://"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--older-than" in err
    assert "7d, 12h, 30m or 90s" in err


# --------------------------------------------------------------------------- the store


def test_without_store_or_environment_it_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTFLOW_STORE", raising=False)
    code, out, err = run(capsys, "list")
    assert (code, out) == (2, "")
    assert "--store" in err
    assert "AGENTFLOW_STORE" in err


def test_an_unknown_scheme_is_a_usage_error_with_the_password_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "list", "--store", "mysql://root:hunter2@db/runs")
    assert code == 2
    assert "'mysql'" in err
    assert "sqlite:///relative/path.db" in err
    assert "hunter2" not in err


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    code, _, err = run(capsys, "list", "--store", f"sqlite:///{missing}")
    assert code == 1
    assert str(missing) in err
    assert not missing.exists()


def test_runs_as_a_real_command(url: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "agentflow", "runs", "list", "--store", url, "--limit", "1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split()[:2] == ["fresh", "running"]


def test_a_store_that_cannot_be_opened_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database " * 100)
    code, out, err = run(capsys, "list", "--store", f"sqlite:///{junk}")
    assert (code, out) == (1, "")
    assert "StoreError" in err
    assert "junk.db" in err


def test_an_unreachable_postgresql_server_is_an_error_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Port 1 on the loopback: nothing listens, so the connection is refused at once.
    code, _, err = run(capsys, "list", "--store", "postgresql://app:hunter2@127.0.0.1:1/app")
    assert code == 1
    assert "127.0.0.1:1" in err
    assert "hunter2" not in err
