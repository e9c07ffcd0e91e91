"""Durable runs killed with SIGKILL in a real child process and resumed in another: the
result is that of an uninterrupted run, and no step execution that completed before the
kill runs again (only those in flight at the kill may run a second time).

Each step of the child's workflows (durable_crash_flows.py) prints a line naming its execution
before it returns; the test reads those lines and kills the child after a given number.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from postgres_databases import DATABASES

FLOWS = Path(__file__).with_name("durable_crash_flows.py")


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(FLOWS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_after(process: subprocess.Popen[str], executions: int) -> list[str]:
    """The lines the child printed until it had printed `executions` of them, at which
    point it is killed with SIGKILL."""
    assert process.stdout is not None
    lines: list[str] = []
    while len(lines) < executions:
        line = process.stdout.readline()
        assert line, f"the child ended early: {process.stderr.read() if process.stderr else ''}"
        lines.append(line.strip())
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return lines


def run_to_the_end(process: subprocess.Popen[str]) -> tuple[list[str], str]:
    """The executions a child printed, and its result line."""
    out, err = process.communicate(timeout=50)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[-1].startswith("result:"), out
    return lines[:-1], lines[-1].removeprefix("result:")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    return DATABASES.fresh_url()


def check_no_completed_execution_ran_twice(
    before: list[str], after: list[str], in_flight: int
) -> None:
    assert max(Counter(before).values()) == 1  # each execution once in the first process
    again = set(before) & set(after)
    assert len(again) <= in_flight, f"ran again after the resume: {sorted(again)}"


def test_a_chain_killed_halfway_resumes_without_repeating_completed_steps(
    tmp_path: Path, store_url: str
) -> None:
    db, log = store_url, str(tmp_path / "log")
    before = kill_after(child("start", "chain", db, log, "order-1"), 60)
    after, result = run_to_the_end(child("resume", "chain", db, log, "order-1"))
    assert result == str(sum(range(200)))
    check_no_completed_execution_ran_twice(before, after, in_flight=1)
    assert set(before) | set(after) == {"begin"} | {f"count:{n}" for n in range(200)}


def test_a_fan_out_killed_halfway_resumes_without_repeating_completed_steps(
    tmp_path: Path, store_url: str
) -> None:
    db, log = store_url, str(tmp_path / "log")
    before = kill_after(child("start", "fanout", db, log, "batch-7"), 300)
    after, result = run_to_the_end(child("resume", "fanout", db, log, "batch-7"))
    assert result == str(sum(range(1000)))
    # In flight at the kill: at most the four workers, the scatter and the gather.
    check_no_completed_execution_ran_twice(before, after, in_flight=6)
    expected = {"scatter", "gather"} | {f"work:{n}" for n in range(1000)}
    assert set(before) | set(after) == expected


def test_a_run_waiting_for_a_human_is_answered_after_the_restart(
    tmp_path: Path, store_url: str
) -> None:
    db, log = store_url, str(tmp_path / "log")
    before = kill_after(child("start", "asks", db, log, "ask-1"), 1)
    after, result = run_to_the_end(child("resume", "asks", db, log, "ask-1", "Ada"))
    assert result == "hello Ada"
    assert before == ["ask"]
    assert after[-1] == "answered:Ada"


def test_an_answer_received_before_the_kill_is_given_back_at_once(
    tmp_path: Path, store_url: str
) -> None:
    """The answer was journalled and the waiting step had it when the process died: the
    step runs again after the resume, and its wait returns that answer at once."""
    db, log = store_url, str(tmp_path / "log")
    before = kill_after(child("start", "asks", db, log, "ask-2", "Grace", "hang"), 2)
    assert before == ["ask", "answered:Grace"]
    after, result = run_to_the_end(child("resume", "asks", db, log, "ask-2"))
    assert result == "hello Grace"
    assert after == ["ask", "answered:Grace"]


def test_a_program_that_returns_while_its_run_is_busy_exits_and_the_run_resumes(
    tmp_path: Path, store_url: str
) -> None:
    db, log = store_url, str(tmp_path / "log")
    abandoned = child("abandon", "asks", db, log, "ask-3")
    _, err = abandoned.communicate(timeout=30)  # it exits: nothing waits forever
    assert abandoned.returncode == 0, err
    after, result = run_to_the_end(child("resume", "asks", db, log, "ask-3", "Lin"))
    assert result == "hello Lin"
    assert after[-1] == "answered:Lin"


# Durability modes (issue 15 pt 1): what "async" and "exit" cost after a SIGKILL.

CHAIN = {"begin"} | {f"count:{n}" for n in range(200)}


def test_an_async_chain_killed_halfway_re_runs_only_what_was_not_durable(
    tmp_path: Path, store_url: str
) -> None:
    db, log = store_url, tmp_path / "log"
    kill_after(child("start", "chain", db, str(log), "a-1", "durability=async"), 60)
    # Steps run ahead of their records, and of what the test read: the side-effect log
    # has every execution the killed child ran.
    before = log.read_text(encoding="utf-8").splitlines()
    after, result = run_to_the_end(
        child("resume", "chain", db, str(log), "a-1", "durability=async")
    )
    assert result == str(sum(range(200)))
    ran = Counter(before + after)
    assert set(ran) == CHAIN  # every execution ran at least once
    assert max(ran.values()) <= 2
    # Records are written in order, so what ran again is the end of what ran before the
    # kill: the executions whose records had not reached the store.
    again = [line for line in before if line in set(after)]
    assert again == before[len(before) - len(again) :]


def test_an_exit_mode_chain_killed_halfway_runs_again_from_the_start(
    tmp_path: Path, store_url: str
) -> None:
    db, log = store_url, str(tmp_path / "log")
    kill_after(child("start", "chain", db, log, "e-1", "durability=exit"), 60)
    after, result = run_to_the_end(child("resume", "chain", db, log, "e-1", "durability=exit"))
    assert result == str(sum(range(200)))
    assert after == ["begin"] + [f"count:{n}" for n in range(200)]


def test_an_exit_mode_run_killed_while_waiting_resumes_from_its_checkpoint(
    tmp_path: Path, store_url: str
) -> None:
    db, log = store_url, str(tmp_path / "log")
    before = kill_after(child("start", "prepares", db, log, "e-2", "durability=exit"), 3)
    assert before == ["prepare", "ask", "asked"]
    after, result = run_to_the_end(
        child("resume", "prepares", db, log, "e-2", "Ada", "durability=exit")
    )
    assert result == "hello Ada"
    assert after == ["ask", "answered:Ada"]  # `prepare` is in the waiting checkpoint
