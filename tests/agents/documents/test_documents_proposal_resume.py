"""A SchemaProposalWorkflow run waiting for its schema's approval, saved and resumed: with
`ctx.to_dict()` in a new process, and from a durable store after a crash. Neither asks for
the proposal again; the approval given after the resume drives the extraction."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
import respx
from documents_wire import ExtractionModel
from durable_agent_runs import crash_image
from lease_fixtures import LEASE_DATA, LEASE_FACTS, LEASE_SCHEMA, LEASE_TEXT
from proposal_wire import ProposingModel

from agentflow.stores import SqliteStore
from agents.documents import (
    ExtractionResult,
    SchemaProposalWorkflow,
    SchemaProposed,
    SchemaReview,
)
from agents.llm.openai.client import OpenAI

PROMPT = "the landlord, the rent, when the lease starts and who signed it"
LEASE = {"text": LEASE_TEXT, "name": "lease.txt"}
HERE = Path(__file__).parent

RESUME = """
import asyncio, json, sys
from documents_wire import ExtractionModel
from lease_fixtures import LEASE_FACTS
from llm_wire import BASE_URL
from proposal_wire import ProposingModel
from wire_mock import mock_wire
from agentflow import Context
from agents.documents import SchemaProposalWorkflow, SchemaProposed, SchemaReview
from agents.llm.openai.client import OpenAI

async def main() -> None:
    # No proposal is scripted here: asking for one again would fail the run.
    model = ProposingModel([], ExtractionModel(LEASE_FACTS))
    llm = OpenAI("gpt-4o-mini", api_key="sk-test", base_url=BASE_URL, max_retries=0)
    workflow = SchemaProposalWorkflow(llm=llm)
    saved = json.loads(open(sys.argv[1]).read())
    with mock_wire(base_url=BASE_URL) as api:
        api.post("/chat/completions").mock(side_effect=model)
        handler = workflow.run(ctx=Context.from_dict(workflow, saved))
        async for ev in handler.stream_events():
            if isinstance(ev, SchemaProposed):
                print("PROPOSED", json.dumps(ev.json_schema), flush=True)
                handler.ctx.send_event(SchemaReview(approved=True))
        result = await handler
    print("ASKED", len(model.asked), len(model.extraction.requests))
    print("FIELDS", json.dumps(model.extraction.asked_fields()))
    print("RESULT", result.to_json(indent=None))

asyncio.run(main())
"""


async def test_a_run_waiting_for_approval_resumes_in_a_new_process(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)
    handler = SchemaProposalWorkflow(llm=llm).run(PROMPT, documents=[LEASE])
    async for ev in handler.stream_events():
        if isinstance(ev, SchemaProposed):
            break
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(handler.ctx.to_dict()), encoding="utf-8")
    await handler.cancel_run()
    script = tmp_path / "resume.py"
    script.write_text(textwrap.dedent(RESUME), encoding="utf-8")
    paths = [str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")]

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(saved),
        stdout=PIPE,
        stderr=PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 0, err.decode()
    lines = dict(line.split(" ", 1) for line in out.decode().splitlines())
    assert json.loads(lines["PROPOSED"]) == LEASE_SCHEMA
    assert lines["ASKED"] == "0 1"  # no proposal asked again; one chunk extracted
    result = json.loads(lines["RESULT"])
    assert result["data"] == LEASE_DATA
    rent = result["fields"]["rent"]
    assert rent["verified"]
    assert LEASE_TEXT[rent["quotes"][0]["start"] : rent["quotes"][0]["end"]] == (
        "Monthly rent: 1,250.00 GBP"
    )
    # The resumed process extracted with the approved schema's fields.
    assert json.loads(lines["FIELDS"]) == [list(LEASE_SCHEMA["properties"])]


async def test_a_durable_run_waiting_for_approval_resumes_after_a_crash(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        workflow = SchemaProposalWorkflow(llm=llm, store=store, timeout=None)
        handler = workflow.run(PROMPT, documents=[LEASE], run_id="r")
        async for ev in handler.stream_events():
            if isinstance(ev, SchemaProposed):
                break
        crashed = crash_image(database, tmp_path)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
    assert len(model.asked) == 1

    async with SqliteStore(crashed) as store:
        resumed = await SchemaProposalWorkflow(llm=llm, store=store, timeout=None).resume("r")
        shown = []
        async for ev in resumed.stream_events():
            if isinstance(ev, SchemaProposed):
                shown.append(ev.json_schema)
                resumed.ctx.send_event(SchemaReview(approved=True))
        result = await resumed

    assert shown == [LEASE_SCHEMA]  # the same proposal, shown again
    assert len(model.asked) == 1  # and not asked for again
    assert isinstance(result, ExtractionResult)
    assert result.data == LEASE_DATA
    assert result.fields["landlord"].verified
