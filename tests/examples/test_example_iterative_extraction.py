"""examples/iterative_extraction.py against a mocked OpenAI wire, answered on stdin: the
schema proposed, sent back with feedback, edited, approved; the sample lease extracted with
it, each field printed with its verified quote. Without a server it says what is missing;
proposals that never give a usable schema end in one line on stderr."""

from __future__ import annotations

import asyncio
import copy
import io
import json
import re
import threading
from typing import Any

import httpx
import pytest
from example_scripts import (
    assert_run_ending_error_is_one_line,
    assert_says_what_is_missing_without_a_server,
    load_example,
)
from llm_wire import BASE_URL, completion
from wire_mock import mock_wire

from agents.llm.openai.client import OpenAI

FIRST: dict[str, Any] = {
    "title": "Lease",
    "type": "object",
    "properties": {
        "landlord": {"type": "string", "description": "Who lets the premises."},
        "tenant": {"type": "string", "description": "Who rents them."},
        "start_date": {"type": "string", "format": "date", "description": "First day."},
        "monthly_rent": {"type": "number", "description": "Rent per month."},
    },
    "required": ["landlord", "tenant", "start_date", "monthly_rent"],
}
SECOND = copy.deepcopy(FIRST)
SECOND["properties"]["deposit"] = {"type": "number", "description": "The deposit paid."}
EDITED = copy.deepcopy(SECOND)
del EDITED["properties"]["tenant"]
EDITED["required"].remove("tenant")

FACTS = {
    "landlord": ("Maple Court Properties Ltd.", "Maple Court Properties Ltd."),
    "tenant": ("Dana Whitfield", "Dana Whitfield (the tenant)"),
    "start_date": ("2025-03-01", "starting on 1 March 2025"),
    "monthly_rent": (1250.0, "The rent is GBP 1,250.00 per calendar month"),
    "deposit": (1500.0, "a deposit of GBP 1,500.00"),
}


class LeaseServer:
    """Proposes `proposals` in turn; extracts by the facts whose quote the chunk holds."""

    def __init__(self, proposals: list[dict[str, Any]]) -> None:
        self.proposals = proposals
        self.asked: list[dict[str, Any]] = []
        self.extracted: list[list[str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        schema = body["response_format"]["json_schema"]
        if schema["name"] == "SchemaProposal":
            self.asked.append(body)
            proposal = self.proposals[min(len(self.asked), len(self.proposals)) - 1]
            reply: dict[str, Any] = {"json_schema": json.dumps(proposal)}
        else:
            user = body["messages"][-1]["content"]
            found = re.search(r"<document>\n(.*)\n</document>", user, re.S)
            assert found is not None
            names = list(schema["schema"]["properties"])
            self.extracted.append(names)
            reply = {name: self.entry(name, found.group(1)) for name in names}
        return httpx.Response(200, json=completion(json.dumps(reply)))

    @staticmethod
    def entry(name: str, text: str) -> dict[str, Any]:
        value, quote = FACTS[name]
        if " ".join(quote.split()) not in " ".join(text.split()):
            return {"value": None, "quote": "", "confidence": 0.0}
        return {"value": value, "quote": quote, "confidence": 0.9}


def test_without_a_server_it_says_what_is_missing() -> None:
    assert_says_what_is_missing_without_a_server("iterative_extraction")


def test_feedback_an_edit_and_an_approval_on_the_terminal_then_the_evidence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    answers = ["please add the deposit", json.dumps(EDITED), ""]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(answers) + "\n"))
    server = LeaseServer([FIRST, SECOND])
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=server)
        assert load_example("iterative_extraction").cli([]) == 0

    assert len(server.asked) == 2  # the edit and the approval went to no model
    revision = [message["content"] for message in server.asked[1]["messages"]]
    assert "please add the deposit" in revision[-1]
    assert json.loads(json.loads(revision[-2])["json_schema"]) == FIRST
    assert "Maple Court Properties Ltd." in revision[1]  # the lease's opening was shown
    assert server.extracted == [list(EDITED["properties"])]
    out = capsys.readouterr().out
    assert out.count("Proposed schema (") == 3
    assert "  - deposit (number): The deposit paid." in out
    assert "monthly_rent = 1250.0  [found]" in out
    assert '"The rent is GBP 1,250.00 per calendar month"  (maple-court-lease.txt; verified)' in out
    data = json.loads(out[out.rindex('{\n  "landlord"') :])
    assert data == {
        "landlord": "Maple Court Properties Ltd.",
        "start_date": "2025-03-01",
        "monthly_rent": 1250.0,
        "deposit": 1500.0,
    }


def test_proposals_that_are_never_usable_end_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = copy.deepcopy(FIRST)
    broken["properties"]["monthly_rent"]["type"] = "money"
    error = assert_run_ending_error_is_one_line(
        "iterative_extraction", [], LeaseServer([broken]), monkeypatch, capsys
    )
    assert error.startswith("no usable schema in 3 attempts; the last one: Lease is not a valid")
    assert "properties.monthly_rent.type" in error


async def test_the_terminal_is_read_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the example waits for a line, the loop runs on (the run's steps, its stream):
    a callback scheduled from inside `input()` runs before the line is given."""
    loop = asyncio.get_running_loop()
    lines = iter([""])

    def waiting_input(prefix: str) -> str:
        ran = threading.Event()
        loop.call_soon_threadsafe(ran.set)
        assert ran.wait(timeout=10), "input() blocks the event loop"
        return next(lines)

    monkeypatch.setattr("builtins.input", waiting_input)
    llm = OpenAI("gpt-4o-mini", api_key="sk-test", base_url=BASE_URL, max_retries=0)
    with mock_wire(base_url=BASE_URL) as api:
        api.post("/chat/completions").mock(side_effect=LeaseServer([FIRST]))
        result = await load_example("iterative_extraction").main(llm)

    assert result.data["landlord"] == "Maple Court Properties Ltd."
