"""examples/research.py: says what is missing without a server, and with one (mocked
HTTP) researches the question over examples/corpus/ and prints a checked report; the
`agentflow run` command runs the same workflow; a run that ends in an error says so in one
line on stderr, exit 1."""

from __future__ import annotations

import io
import json
import os
import re
import warnings

import httpx
import pytest
from example_scripts import (
    EXAMPLES,
    assert_llm_timeout_is_the_clients,
    assert_run_ending_error_is_one_line,
    assert_says_what_is_missing_without_a_server,
    load_example,
    unauthorized,
)
from wire_mock import mock_wire

BASE_URL = "https://llm.test/v1"


def reply(content: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        },
    )


def stream(pieces: list[str]) -> httpx.Response:
    chunks = [
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }
        for piece in pieces
    ]
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


class CorpusModel:
    """Answers like a model would over examples/corpus/: notes quote each source's first
    sentence with "percent" in it; the report cites the notes it was given, plus one
    source number that was never read."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        prompt = body["messages"][-1]["content"]
        if body.get("stream"):
            self.kinds.append("write")
            cited = re.findall(r'^\[(\d+)\] .*?\n  - .*? Quote: ("[^"]*")', prompt, re.M)
            sentences = [f"Finding [{number}: {quote}]. " for number, quote in cited]
            return stream(["Charge to 80 percent. ", *sentences, "Robots love rain [99]."])
        name = body["response_format"]["json_schema"]["name"]
        self.kinds.append(name)
        if name == "ResearchPlan":
            sub = {"question": "How to charge?", "queries": ["charge percent"]}
            return reply(json.dumps({"sub_questions": [sub]}))
        if name == "GapReport":
            return reply(json.dumps({"missing": []}))
        text = prompt.split(">\n", 1)[1].rsplit("\n</source>", 1)[0]
        sentence = next(s for s in re.split(r"(?<=\.)\s+", text) if "percent" in s)
        quote = " ".join(sentence.split()[:8])
        notes = {"relevant": True, "notes": [{"point": "A finding.", "quote": quote}]}
        return reply(json.dumps(notes))


def test_without_a_server_it_says_what_is_missing() -> None:
    assert_says_what_is_missing_without_a_server("research")


def test_llm_timeout_is_the_time_its_client_waits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_llm_timeout_is_the_clients(
        "research", ["How should batteries be charged?"], monkeypatch, capsys
    )


def test_researches_the_corpus_and_prints_a_checked_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = CorpusModel()
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=model)
        assert load_example("research").cli(["How should batteries be charged?"]) == 0

    out = capsys.readouterr().out
    assert "1. How to charge?\n   - search: charge percent" in out
    assert "  search (round 1): charge percent" in out
    read = re.findall(r"  read \[(\d+)\] (.+) \(1 notes\)", out)
    assert len(read) >= 3
    assert "battery_care_policy.md" in out
    assert "round 1 done" in out
    assert model.kinds[0] == "ResearchPlan"
    assert model.kinds[-1] == "write"
    assert "Claims that failed the citation check:" in out
    assert "Robots love rain. (cites [99], a source that was not read)" in out
    assert f"[{len(read)} verified claims, 1 unverified" in out


class ParaphrasingModel(CorpusModel):
    """Takes notes whose quotes are paraphrases, found in no source (as small models do)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if not body.get("stream") and body["response_format"]["json_schema"]["name"] == (
            "SourceNotes"
        ):
            self.kinds.append("SourceNotes")
            note = {"point": "Charge less.", "quote": "robots are best kept at eighty percent"}
            return reply(json.dumps({"relevant": True, "notes": [note]}))
        return super().__call__(request)


def test_sources_read_without_usable_notes_are_not_reported_as_unread(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=ParaphrasingModel())
        assert load_example("research").cli(["How should batteries be charged?"]) == 0

    out = capsys.readouterr().out
    read = re.findall(r"  read \[\d+\] .+ \(0 notes, 1 dropped: quote not in the source\)", out)
    assert len(read) >= 3
    assert f"Sources read: {len(read)}. None gave a note on this question" in out
    assert "No source could be read" not in out


class UncitingModel(CorpusModel):
    """Writes plain prose without one citation, however often asked (as small models do)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("stream"):
            self.kinds.append("write")
            return stream(["Charge batteries to 80 percent. ", "Keep them cool."])
        return super().__call__(request)


def test_a_report_that_cites_nothing_is_rewritten_once_then_named_in_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    model = UncitingModel()
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=model)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert load_example("research").cli(["How should batteries be charged?"]) == 0

    said_twice = [w for w in caught if "cites no source" in str(w.message)]
    assert said_twice == []  # the report's warning is printed once, below, not also warned
    out = capsys.readouterr().out
    assert model.kinds.count("write") == 2
    assert "[the draft cites no source, though notes were read: rewrite 1]" in out
    assert "Warning: the report cites no source" in out
    assert "[0 verified claims, 0 unverified" in out


def test_review_with_stdin_at_its_end_approves_the_plan(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # `< /dev/null`
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=CorpusModel())
        assert load_example("research").cli(["--review", "How should batteries be charged?"]) == 0

    out = capsys.readouterr().out
    assert "approve with Enter, or type changes: \n" in out
    assert "  search (round 1): charge percent" in out


def test_agentflow_run_runs_the_same_workflow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agentflow.cli import main

    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=CorpusModel())
        code = main(
            ["run", f"{EXAMPLES / 'research.py'}:workflow", "--arg", "query=How to charge?"]
        )

    out = capsys.readouterr().out
    assert code == 0
    assert "PlanCreated" in out
    assert "SourceRead" in out
    assert "RoundFinished" in out
    assert "result: " in out


def test_agentflow_run_llm_timeout_reaches_the_workflows_client(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agentflow.cli import main

    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_TIMEOUT", "60")
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=httpx.ReadTimeout("no reply in time"))
        code = main(
            [
                "run",
                f"{EXAMPLES / 'research.py'}:workflow",
                "--arg",
                "query=How to charge?",
                "--llm-timeout",
                "240",
            ]
        )

    assert code == 1
    error = capsys.readouterr().err
    assert f"the server at {BASE_URL}/ did not answer within 240 s (1 attempt)" in error
    assert "--llm-timeout <seconds>" in error
    assert os.environ["OPENAI_TIMEOUT"] == "60"  # set for the command only


@pytest.mark.parametrize(
    ("error", "says"),
    [
        ("openai.AuthenticationError", "Error code: 401 - Incorrect API key provided"),
        # Its message lists the validation errors on lines of their own: one line here.
        ("StructuredOutputError", "no valid ResearchPlan after 3 attempts; last validation"),
        ("PlanError", "the plan has no sub-question"),
    ],
)
def test_a_run_ending_in_an_error_says_it_in_one_line_and_exits_1(
    error: str, says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    replies = {
        "openai.AuthenticationError": [unauthorized()],
        "StructuredOutputError": lambda request: reply('{"sub_questions": "none"}'),
        "PlanError": [reply(json.dumps({"sub_questions": []}))],
    }
    line = assert_run_ending_error_is_one_line(
        "research", ["How should batteries be charged?"], replies[error], monkeypatch, capsys
    )
    assert line.startswith(says), line
