"""The README's main job: examples/quickstart.py prints the two documented lines."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_quickstart_prints_both_runs_with_state_kept_between_them() -> None:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert completed.stdout.splitlines() == [
        "Workflow result: Processed 1 times, data length: 13",
        "Workflow result: Processed 2 times, data length: 26",
    ]
