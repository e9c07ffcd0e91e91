"""examples/durable_run.py: a child process killed with SIGKILL in the middle of a durable
run, and the run resumed by the parent, which writes only the chapters not written yet."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "durable_run.py"


def test_the_run_killed_in_chapter_3_is_resumed_without_writing_a_chapter_twice(
    tmp_path: Path,
) -> None:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE), "--store", str(tmp_path / "runs.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    before, _, after = completed.stdout.partition(" with SIGKILL\n")
    killed = re.search(r"killed the child \(process (\d+)\)$", before)
    assert killed is not None, completed.stdout
    child = killed.group(1)
    assert re.findall(r"child \| wrote chapter (\d)", before) == ["1", "2"]
    assert f"child | writing chapter 3 (process {child})" in before

    resumed = re.findall(r"^writing chapter (\d) \(process (\d+)\)$", after, re.MULTILINE)
    assert [chapter for chapter, _ in resumed] == ["3", "4", "5"]
    resuming = {process for _, process in resumed}
    assert len(resuming) == 1, resumed
    assert child not in resuming  # the parent, not the killed child
    assert re.findall(r"^wrote chapter (\d)$", after, re.MULTILINE) == ["3", "4", "5"]
    assert "result: Chapter 1, Chapter 2, Chapter 3, Chapter 4, Chapter 5\n" in after
    assert "chapters written twice: none\n" in after
    listed = re.search(r"store.list_runs\(\):\n  (book-\w+)  (\w+)  (\S+)\n$", after)
    assert listed is not None, after
    assert listed.group(2, 3) == ("completed", "__main__:WriteBook")
    assert f"the store has run '{listed.group(1)}' (running)" in after
