"""bench/cluster.py keeps working: its quick run measures 1 and 2 worker processes.

No timing is asserted here (timings belong in bench/); this only checks that each
measurement ran (the bench fails unless every run ended with its step's result) and
produced numbers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "cluster.py"
NUMBER = r"-?[\d,]+(\.\d+)?"


# The quick run starts PostgreSQL (unless AGENTFLOW_TEST_POSTGRES_DSN names one) and two
# fresh sets of worker processes: ~40 s on a busy 2-core machine.
@pytest.mark.timeout(300)
def test_quick_bench_measures_one_and_two_workers() -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    table = [line for line in completed.stdout.splitlines() if line.startswith("| ")]
    rows = [[cell.strip() for cell in row.split("|")[1:-1]] for row in table[1:]]
    assert [row[1] for row in rows] == ["runs/s", "steps/s", "ms", "ms", "ms", "ms", "%"]
    for row in rows:
        one, two, ratio = row[2], row[3], row[4]
        if row[0] == "CPU per run: PostgreSQL" and one == "?":
            continue  # a server the bench neither started nor was told the directory of
        assert re.fullmatch(NUMBER, one), row
        assert re.fullmatch(NUMBER, two), row
        assert re.fullmatch(NUMBER + "\N{MULTIPLICATION SIGN}", ratio), row
    assert rows[0][6] in ("yes", "NO"), rows[0]  # the target's verdict, whichever it is
