"""Loading an example script as a module, and the check every LLM example shares: with no
model server configured it exits with code 2 and says what to set."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """`examples/<name>.py` imported under a name of its own (its `cli` can then run
    in-process, where respx intercepts its HTTP)."""
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_says_what_is_missing_without_a_server(name: str, *args: str) -> None:
    """Run `examples/<name>.py` with no OPENAI_* variables set, as a user would first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert completed.returncode == 2, completed.stderr
    assert f"examples/{name}.py needs a model server" in completed.stderr
    assert "OPENAI_API_KEY" in completed.stderr
    assert "OPENAI_BASE_URL" in completed.stderr
