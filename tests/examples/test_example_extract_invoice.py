"""examples/extract_invoice.py: says what is missing without a server, and with one (mocked
HTTP) extracts the sample invoice from its text and HTML copies, merging their evidence;
the subclass's merge sends a total that does not add up to review; a run that ends in the
server's error says so in one line on stderr, exit 1."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import httpx
import pytest
from example_scripts import (
    assert_llm_timeout_is_the_clients,
    assert_run_ending_error_is_one_line,
    assert_says_what_is_missing_without_a_server,
    load_example,
    unauthorized,
)
from llm_wire import BASE_URL, completion
from wire_mock import mock_wire

ITEMS = [
    ("Steel brackets, zinc plated", 320.0, "320.00"),
    ("Hex bolts M8 x 40, box of 100", 95.5, "95.50"),
    ("Delivery to site", 45.0, "45.00"),
]


def found(value: Any, quote: str, confidence: float = 0.9) -> dict[str, Any]:
    return {"value": value, "quote": quote, "confidence": confidence}


NOT_STATED = found(None, "", 0.0)  # the schema asks for every field's object


def reply_for(text: str, total: float) -> dict[str, Any]:
    """What a model would read in each sample file."""
    items = [
        found({"description": name, "amount": amount}, f"{name} £{printed}")
        for name, amount, printed in ITEMS
    ]
    if "Invoice number: NW-2041" in text:  # the text copy
        return {
            "invoice_number": found("NW-2041", "Invoice number: NW-2041"),
            "vendor": found("Northwind Supplies Ltd.", "NORTHWIND SUPPLIES LTD."),
            "customer": found("Contoso Manufacturing plc", "Customer: Contoso Manufacturing plc"),
            "invoice_date": found("2024-03-15", "Invoice date: 2024-03-15"),
            "due_date": found("2024-04-14", "Due date: 2024-04-14"),
            "purchase_order": found("PO-88213", "Purchase order: PO-88213"),
            "line_items": [],  # laid out as a table with quantities: left to the HTML copy
            "subtotal": found(460.5, "Subtotal (GBP): 460.50"),
            "tax": found(92.1, "VAT at 20%: 92.10"),
            "total": found(total, "Total due (GBP): 552.60"),
        }
    return {  # the HTML page
        "invoice_number": found("NW-2041", "Invoice NW-2041"),
        "vendor": found("Northwind Supplies Ltd.", "Northwind Supplies Ltd."),
        "customer": found("Contoso Manufacturing plc", "to Contoso Manufacturing plc"),
        "invoice_date": found("2024-03-15", "Issued on 15 March 2024", 0.8),
        "due_date": found("2024-04-14", "by 14 April 2024", 0.8),
        "purchase_order": NOT_STATED,
        "line_items": items,
        "subtotal": NOT_STATED,
        "tax": NOT_STATED,
        "total": found(total, "Amount due: £552.60"),
    }


def serve(total: float) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        user = body["messages"][-1]["content"]
        text = re.search(r"<document>\n(.*)\n</document>", user, re.S)
        assert text is not None
        assert body["response_format"]["json_schema"]["strict"] is True
        return httpx.Response(200, json=completion(json.dumps(reply_for(text.group(1), total))))

    return answer


def test_without_a_server_it_says_what_is_missing() -> None:
    assert_says_what_is_missing_without_a_server("extract_invoice")


def test_llm_timeout_is_the_time_its_client_waits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_llm_timeout_is_the_clients("extract_invoice", [], monkeypatch, capsys)


def test_extracts_the_sample_invoice_with_evidence_from_both_files(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        route = api.post("/chat/completions").mock(side_effect=serve(552.6))
        assert load_example("extract_invoice").cli([]) == 0

    assert len(route.calls) == 2  # one chunk per sample file
    out = capsys.readouterr().out
    assert "northwind-invoice.txt: done (1 chunks)" in out
    assert "northwind-invoice.html: done (1 chunks)" in out
    result = json.loads(out[out.index("{\n") :])
    assert result["data"]["invoice_number"] == "NW-2041"
    assert result["data"]["total"] == 552.6
    assert result["data"]["purchase_order"] == "PO-88213"
    assert [item["amount"] for item in result["data"]["line_items"]] == [320.0, 95.5, 45.0]
    total = result["fields"]["total"]
    assert [quote["file"].rsplit("/", 1)[-1] for quote in total["quotes"]] == [
        "northwind-invoice.txt",
        "northwind-invoice.html",
    ]
    assert all(quote["verified"] for quote in total["quotes"])
    assert result["reviews"] == 0


def test_a_total_that_does_not_add_up_goes_to_review(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setattr("sys.stdin", io.StringIO('{"total": 552.6}\n\n'))
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=serve(525.6))  # a misread total
        assert load_example("extract_invoice").cli([]) == 0

    out = capsys.readouterr().out
    assert "! total: subtotal 460.5 plus tax 92.1 is not the total 525.6" in out
    result = json.loads(out[out.rindex('{\n  "data"') :])
    assert result["data"]["total"] == 552.6
    assert result["fields"]["total"]["status"] == "corrected"
    assert result["reviews"] == 2


def test_an_incomplete_extraction_is_a_message_and_stdin_at_its_end_approves_the_review(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # `< /dev/null`: no answer to the review
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=serve(None))  # no total anywhere
        assert load_example("extract_invoice").cli([]) == 1

    out, err = capsys.readouterr()
    assert "! total: required, but not found" in out  # the review was shown, then approved
    partial = json.loads(out[out.rindex('{\n  "invoice_number"') :])
    assert partial["invoice_number"] == "NW-2041"
    assert "total" not in partial
    assert err == (
        "examples/extract_invoice.py: the invoice is incomplete (found so far: above)\n"
        "  total: not found in any document\n"
    )


def test_no_readable_file_is_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    missing = tmp_path / "missing.pdf"
    with mock_wire(base_url=BASE_URL, assert_all_called=False):
        assert load_example("extract_invoice").cli([str(missing)]) == 1

    err = capsys.readouterr().err
    assert err == (
        "examples/extract_invoice.py: none of the 1 inputs could be read: "
        f"{missing}: no such file; raised in step 'collect' of workflow CheckedInvoiceExtraction\n"
    )


def readme_extraction_json() -> dict[str, Any]:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Extracting documents\n") :]
    block = re.search(r"```json\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    shown: dict[str, Any] = json.loads(block.group(1))
    return shown


def test_the_readme_shows_what_the_example_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the paths as the README gives them
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    files = ["northwind-invoice.txt", "northwind-invoice.html", "missing.pdf"]
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(side_effect=serve(552.6))
        assert load_example("extract_invoice").cli([f"examples/data/{f}" for f in files]) == 0

    out = capsys.readouterr().out
    printed = json.loads(out[out.index('{\n  "data"') :])
    shown = readme_extraction_json()
    assert set(shown) == set(printed)
    assert set(shown["fields"]) < set(printed["fields"])  # an excerpt of the evidence
    printed["fields"] = {name: printed["fields"][name] for name in shown["fields"]}
    assert shown == printed


@pytest.mark.parametrize(
    ("error", "says"),
    [
        ("openai.AuthenticationError", "AuthenticationError: Error code: 401 - Incorrect API"),
        ("openai.BadRequestError", "BadRequestError: Error code: 400 - This model's maximum"),
    ],
)
def test_a_run_ending_in_an_error_says_it_in_one_line_and_exits_1(
    error: str, says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    too_long = {"error": {"message": "This model's maximum context length is 4096 tokens"}}
    replies = {
        "openai.AuthenticationError": lambda request: unauthorized(),
        "openai.BadRequestError": lambda request: httpx.Response(400, json=too_long),
    }
    line = assert_run_ending_error_is_one_line(
        "extract_invoice", [], replies[error], monkeypatch, capsys
    )
    assert "chunk 1 of 1: the LLM call failed: " + says in line, line
    # The engine's note says where: on the same line, as every example prints it.
    assert line.endswith("of workflow CheckedInvoiceExtraction"), line
