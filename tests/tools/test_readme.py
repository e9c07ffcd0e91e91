"""The README's Tools section: its sample function really generates the schema shown."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"


def tools_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("\n## Tools\n") : text.index("\n## Development\n")]


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", tools_section(), flags=re.DOTALL)


def sample_tool() -> Any:
    namespace: dict[str, Any] = {}
    exec(code_blocks("python")[0], namespace)
    return namespace["search_flights"]


def test_schema_table_matches_the_generated_schema() -> None:
    shown = json.loads(code_blocks("json")[0])
    assert sample_tool().metadata.get_parameters_dict() == shown


async def test_error_example_matches_the_real_output() -> None:
    example = code_blocks("python")[1]
    comment = re.search(r"output\.content\n((?:# .*\n)+)", example)
    assert comment is not None
    shown = " ".join(line[2:] for line in comment.group(1).splitlines())
    output = await sample_tool().acall_json('{"origin": "LHR", "max_stops": -1}')
    assert output.is_error
    assert output.content == shown
