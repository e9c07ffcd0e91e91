"""`import tools` loads no optional dependency and not agentflow (DESIGN: tools needs only
pydantic); those load when a feature that needs them is used."""

from __future__ import annotations

import json
import subprocess
import sys

OPTIONAL = ("httpx", "trafilatura", "llama_index", "agentflow", "openai")


def test_import_tools_and_builtins_loads_no_optional_dependency() -> None:
    script = (
        "import json, sys, tools, tools.builtin, tools.interop\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({OPTIONAL!r}))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=30
    )
    assert json.loads(result.stdout) == []
