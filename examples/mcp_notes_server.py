"""A small MCP server, written with the official `mcp` SDK: notes kept in a JSON file.

    python examples/mcp_notes_server.py                 # speaks MCP on stdin/stdout

`examples/mcp_agent.py` starts it over stdio and gives its tools to a `FunctionAgent`; any
MCP client (a desktop assistant, an IDE) can use it the same way. The notes live in
`$NOTES_FILE` (default: `notes.json` beside this file, made on first write).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

server = MCPServer("notes", instructions="Short notes, each under a title.")
NOTES = Path(os.environ.get("NOTES_FILE") or Path(__file__).with_name("notes.json"))


def _read() -> dict[str, str]:
    return json.loads(NOTES.read_text()) if NOTES.exists() else {}


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def list_notes() -> list[str]:
    """The titles of all notes."""
    return sorted(_read())


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def read_note(title: str) -> str:
    """The text of the note with this title."""
    notes = _read()
    if title not in notes:
        raise ToolError(f"no note titled {title!r}; titles: {', '.join(sorted(notes)) or 'none'}")
    return notes[title]


@server.tool()
def write_note(title: str, text: str) -> str:
    """Write (or replace) the note with this title."""
    notes = _read()
    notes[title] = text
    NOTES.write_text(json.dumps(notes, indent=2, ensure_ascii=False))
    return f"saved {title!r}"


if __name__ == "__main__":
    server.run()
