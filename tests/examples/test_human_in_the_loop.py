"""examples/human_in_the_loop.py: stopped while a question waits, saved to a file, and
resumed by a second process to the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "human_in_the_loop.py"
STOPPED = "Stopped. The trip is saved in"


def run_example(state: Path, typed: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE), "--state", str(state)],
        input=typed,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout


def test_answering_everything_in_one_go_books_the_trip(tmp_path: Path) -> None:
    state = tmp_path / "trip.json"
    output = run_example(state, "Lisbon\n3\n")
    assert output.endswith("Booked 3 nights in Lisbon.\n")
    assert not state.exists()


@pytest.mark.parametrize(
    ("first_session", "second_session", "asked_again"),
    [
        # Stopped inside the step that waits with ctx.wait_for_event: it runs again.
        ("", "Porto\n2\n", "Where to? "),
        # Stopped at the InputRequiredEvent a step returned: the question is asked again.
        ("Porto\n", "2\n", "How many nights in Porto? "),
    ],
)
def test_stopping_at_a_question_saves_and_a_new_process_resumes(
    tmp_path: Path, first_session: str, second_session: str, asked_again: str
) -> None:
    state = tmp_path / "trip.json"
    first = run_example(state, first_session)
    assert STOPPED in first
    assert state.exists()
    second = run_example(state, second_session)
    assert second.startswith(f"Resuming the saved trip.\n{asked_again}")
    assert second.endswith("Booked 2 nights in Porto.\n")
    assert not state.exists()


def test_ctrl_c_while_a_question_waits_saves_the_run(tmp_path: Path) -> None:
    state = tmp_path / "trip.json"
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--state", str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    shown = ""
    while not shown.endswith("Where to? "):
        character = process.stdout.read(1)
        assert character, f"the example ended before asking: {shown!r}"
        shown += character
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert STOPPED in rest
    assert run_example(state, "Faro\n1\n").endswith("Booked 1 nights in Faro.\n")


def run_with_stdin_from(state: Path, stdin: Path) -> subprocess.CompletedProcess[str]:
    """The example with standard input redirected from a file (`< answers.txt`), which an
    event loop cannot watch the way it watches a terminal or a pipe."""
    with stdin.open() as source:
        return subprocess.run(
            [sys.executable, str(EXAMPLE), "--state", str(state)],
            stdin=source,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def test_answers_read_from_a_file_book_the_trip(tmp_path: Path) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("Lisbon\n3\n")
    completed = run_with_stdin_from(tmp_path / "trip.json", answers)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "Where to? How many nights in Lisbon? Booked 3 nights in Lisbon.\n"
    assert completed.stderr == ""


def test_stdin_from_dev_null_stops_and_saves_as_end_of_input_does(tmp_path: Path) -> None:
    state = tmp_path / "trip.json"
    completed = run_with_stdin_from(state, Path(os.devnull))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        f"Where to? \nStopped. The trip is saved in {state}; run again to continue.\n"
    )
    assert completed.stderr == ""
    assert run_example(state, "Faro\n1\n").endswith("Booked 1 nights in Faro.\n")
