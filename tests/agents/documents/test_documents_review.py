"""The review loop: a human approves, corrects, or sends feedback that re-extracts the
fields it names; `low_confidence` asks only about doubtful drafts; a run waiting for its
review is saved and resumed in another process."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

import pytest
import respx
from documents_wire import ExtractionModel, Fact, user_message
from invoice_fixtures import Invoice, Order

from agentflow.events import HumanResponseEvent
from agents.documents import (
    ExtractionWorkflow,
    IncompleteExtractionError,
    ReviewRequired,
    ReviewResponse,
    field_specs,
)
from agents.documents.review import apply_review
from agents.documents.run_state import ExtractionState
from agents.llm.openai.client import OpenAI

ORDER = "Order 1177\nVendor: Acme Tools GmbH\nSubtotal: 460.50\nTotal due: 552.60\n"


async def test_a_correction_is_applied_as_is_and_the_draft_shown_again(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ExtractionModel(
        [
            Fact("vendor", "Acme Tools GmbH", "Vendor: Acme Tools GmbH"),
            Fact("total", 552.6, "Total due: 552.60"),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(llm=llm, schema=Order, review="always")

    handler = workflow.run(documents=[ORDER])
    reviews: list[ReviewRequired] = []
    async for ev in handler.stream_events():
        if isinstance(ev, ReviewRequired):
            reviews.append(ev)
            if len(reviews) == 1:
                answer = ReviewResponse(
                    corrections={"vendor": "Acme Tools", "totl": 1, "total": "a lot"}
                )
            else:
                answer = ReviewResponse(approved=True, corrections={"total": "560.00"})
            handler.ctx.send_event(answer)
    result = await handler

    first, second = reviews
    assert first.data == {"vendor": "Acme Tools GmbH", "total": 552.6}
    assert first.fields["total"].quotes[0].text == "Total due: 552.60"
    assert first.review == 1
    assert second.data == {"vendor": "Acme Tools", "total": 552.6}
    assert second.fields["vendor"].status == "corrected"
    assert second.review == 2
    assert "correction for unknown field 'totl'" in second.problems[0]
    assert second.problems[1].startswith("correction for total was not applied")
    assert result.data == Order(vendor="Acme Tools", total=560.0)
    assert result.fields["total"].status == "corrected"
    assert result.fields["total"].confidence == 1.0
    assert result.reviews == 2
    assert len(model.requests) == 1  # corrections need no new LLM call


def test_a_correction_that_fails_names_where_inside_the_value() -> None:
    state = ExtractionState()
    items = [{"description": "Bolts", "amount": 95.5}, {"description": "Delivery"}]
    answer = ReviewResponse(corrections={"line_items": items, "total": 552.6})

    apply_review(state, answer, field_specs(Invoice))

    assert state.problems == ["correction for line_items.1.amount was not applied: Field required"]
    assert state.corrections == {"total": 552.6}


async def test_feedback_re_extracts_the_fields_it_names(api: respx.MockRouter, llm: OpenAI) -> None:
    def second_look(text: str, body: dict[str, Any]) -> str | None:
        if "Their feedback" not in user_message(body):
            return None
        reply = {"total": {"value": 552.6, "quote": "Total due: 552.60", "confidence": 0.95}}
        return json.dumps(reply)

    model = ExtractionModel(
        [
            Fact("vendor", "Acme Tools GmbH", "Vendor: Acme Tools GmbH"),
            Fact("total", 460.5, "Subtotal: 460.50", 0.6),
        ],
        override=second_look,
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(
        llm=llm, schema=Order, review="low_confidence", chunk_tokens=20, chunk_overlap=2
    )

    handler = workflow.run(documents=[ORDER])
    reviews: list[ReviewRequired] = []
    async for ev in handler.stream_events():
        if isinstance(ev, ReviewRequired):
            reviews.append(ev)
            feedback = "The total is the amount due with VAT, not the subtotal."
            handler.ctx.send_event(
                ReviewResponse(approved=len(reviews) == 2, feedback="" if reviews[1:] else feedback)
            )
    result = await handler

    first, second = reviews
    assert first.data["total"] == 460.5
    assert "total: confidence 0.60 is below 0.70" in first.reasons
    assert second.data["total"] == 552.6
    chunks = len([fields for fields in model.asked_fields() if fields == ["vendor", "total"]])
    assert chunks >= 2
    again = model.requests[chunks:]
    assert [fields for fields in model.asked_fields()[chunks:]] == [["total"]] * chunks
    assert all("not the subtotal" in user_message(body) for body in again)
    assert all('"total": 460.5' in user_message(body) for body in again)
    assert result.data == Order(vendor="Acme Tools GmbH", total=552.6)
    assert result.fields["total"].alternatives == []  # the first look's value was replaced
    assert result.reviews == 2


async def test_feedback_naming_no_field_keeps_the_corrections(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ExtractionModel(
        [
            Fact("vendor", "Acme Tools GmbH", "Vendor: Acme Tools GmbH"),
            Fact("total", 552.6, "Total due: 552.60"),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(llm=llm, schema=Order, review="always")
    answers = [
        ReviewResponse(corrections={"vendor": "Acme Tools"}),
        ReviewResponse(feedback="Please look at the document again."),
        ReviewResponse(approved=True),
    ]

    handler = workflow.run(documents=[ORDER])
    reviews: list[ReviewRequired] = []
    async for ev in handler.stream_events():
        if isinstance(ev, ReviewRequired):
            reviews.append(ev)
            handler.ctx.send_event(answers[len(reviews) - 1])
    result = await handler

    assert [review.data["vendor"] for review in reviews] == ["Acme Tools GmbH"] + ["Acme Tools"] * 2
    assert model.asked_fields() == [["vendor", "total"], ["total"]]
    assert result.data == Order(vendor="Acme Tools", total=552.6)
    assert result.fields["vendor"].status == "corrected"


async def test_low_confidence_review_asks_only_about_doubtful_drafts(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(
        side_effect=ExtractionModel(
            [
                Fact("vendor", "Acme Tools GmbH", "Vendor: Acme Tools GmbH", 0.9),
                Fact("total", 552.6, "Total due: 552.60", 0.95),
            ]
        )
    )
    workflow = ExtractionWorkflow(llm=llm, schema=Order, review="low_confidence")

    handler = workflow.run(documents=[ORDER])
    asked = [ev async for ev in handler.stream_events() if isinstance(ev, ReviewRequired)]
    result = await handler

    assert asked == []
    assert result.reviews == 0
    assert result.warnings == []


async def test_a_required_field_found_nowhere_is_an_error_naming_it(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(
        side_effect=ExtractionModel([Fact("total", 552.6, "Total due: 552.60")])
    )
    workflow = ExtractionWorkflow(llm=llm, schema=Order)

    with pytest.raises(
        IncompleteExtractionError, match="vendor: not found in any document"
    ) as info:
        await workflow.run(documents=[ORDER])

    assert info.value.partial == {"total": 552.6}
    assert info.value.fields["total"].verified


RESUME = """
import asyncio, json, sys
from pydantic import BaseModel
from agentflow import Context
from agents.documents import ExtractionWorkflow, ReviewRequired, ReviewResponse
from agents.llm.openai.client import OpenAI

class Order(BaseModel):
    vendor: str
    total: float

async def main() -> None:
    # Nothing listens here: the resumed run must not call the model again.
    llm = OpenAI("gpt-4o-mini", api_key="sk-test", base_url="http://127.0.0.1:9/v1",
                 max_retries=0)
    workflow = ExtractionWorkflow(llm=llm, schema=Order, review="always")
    saved = json.loads(open(sys.argv[1]).read())
    handler = workflow.run(ctx=Context.from_dict(workflow, saved))
    async for ev in handler.stream_events():
        if isinstance(ev, ReviewRequired):
            print("REVIEW", json.dumps(ev.data), flush=True)
            handler.ctx.send_event(ReviewResponse(approved=True, corrections={"total": 560}))
    result = await handler
    print("RESULT", result.to_json(indent=None))

asyncio.run(main())
"""


async def test_a_run_waiting_for_review_resumes_in_another_process(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    model = ExtractionModel(
        [
            Fact("vendor", "Acme Tools GmbH", "Vendor: Acme Tools GmbH"),
            Fact("total", 552.6, "Total due: 552.60"),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(llm=llm, schema=Order, review="always")

    handler = workflow.run(documents=[{"text": ORDER, "name": "order.txt"}])
    async for ev in handler.stream_events():
        if isinstance(ev, ReviewRequired):
            break
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(handler.ctx.to_dict()), encoding="utf-8")
    await handler.cancel_run()
    script = tmp_path / "resume.py"
    script.write_text(textwrap.dedent(RESUME), encoding="utf-8")

    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(saved), stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 0, err.decode()
    lines = dict(line.split(" ", 1) for line in out.decode().splitlines())
    assert json.loads(lines["REVIEW"]) == {"vendor": "Acme Tools GmbH", "total": 552.6}
    result = json.loads(lines["RESULT"])
    assert result["data"] == {"vendor": "Acme Tools GmbH", "total": 560.0}
    vendor = result["fields"]["vendor"]
    assert vendor["quotes"][0]["file"] == "order.txt"
    assert ORDER[vendor["quotes"][0]["start"] : vendor["quotes"][0]["end"]] == (
        "Vendor: Acme Tools GmbH"
    )
    assert result["fields"]["total"]["status"] == "corrected"
    assert result["reviews"] == 1
    assert len(model.requests) == 1  # the first process extracted; the second did not


async def test_a_console_answers_with_plain_text(api: respx.MockRouter, llm: OpenAI) -> None:
    model = ExtractionModel(
        [
            Fact("vendor", "Acme Tools GmbH", "Vendor: Acme Tools GmbH"),
            Fact("total", 552.6, "Total due: 552.60"),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(llm=llm, schema=Order, review="always")
    lines = iter(['{"total": 560}', "yes"])

    handler = workflow.run(documents=[ORDER])
    shown: list[dict[str, Any]] = []
    async for ev in handler.stream_events():
        if isinstance(ev, ReviewRequired):
            shown.append(ev.data)
            handler.ctx.send_event(HumanResponseEvent(response=next(lines)))
    result = await handler

    assert shown == [
        {"vendor": "Acme Tools GmbH", "total": 552.6},
        {"vendor": "Acme Tools GmbH", "total": 560.0},
    ]
    assert result.data.total == 560.0
    assert ReviewResponse.from_text("the vendor is wrong") == ReviewResponse(
        feedback="the vendor is wrong"
    )
    assert ReviewResponse.from_text("{not json") == ReviewResponse(feedback="{not json")
