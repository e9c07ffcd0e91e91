"""examples/mcp_agent.py: says what is missing without a model server, and with one (mocked
HTTP) the agent uses the tools of examples/mcp_notes_server.py, started over stdio, and
the server is gone afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from example_scripts import assert_says_what_is_missing_without_a_server, load_example
from llm_wire import BASE_URL, calls_reply, sent_json, text_reply
from wire_mock import mock_wire


def test_without_a_server_it_says_what_is_missing() -> None:
    assert_says_what_is_missing_without_a_server("mcp_agent")


def test_the_agent_reads_and_writes_notes_through_the_mcp_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes_file = tmp_path / "notes.json"
    notes_file.write_text(json.dumps({"shopping": "milk"}))
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(
            # One call a turn: two in one reply run at once, and the list could see the note.
            side_effect=[
                calls_reply(("c1", "notes_list_notes", "{}")),
                calls_reply(("c2", "notes_write_note", '{"title": "demo", "text": "Friday"}')),
                text_reply("You had 'shopping'; I added 'demo'."),
            ]
        )
        code = load_example("mcp_agent").cli(["--notes-file", str(notes_file), "Go."])

    assert code == 0
    out = capsys.readouterr().out
    assert "<- notes_list_notes: shopping" in out
    assert "<- notes_write_note: saved 'demo'" in out
    assert json.loads(notes_file.read_text()) == {"shopping": "milk", "demo": "Friday"}
    offered = {tool["function"]["name"] for tool in sent_json(route.calls[0].request)["tools"]}
    assert offered == {"notes_list_notes", "notes_read_note", "notes_write_note"}
