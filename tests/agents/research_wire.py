"""A stand-in research model for respx-mocked tests, answering at the OpenAI wire.

`ResearchModel` is a respx side effect: it reads each chat completions request as a server
would and answers by what it asks for, the `response_format` schema name (`ResearchPlan`,
`SourceNotes`, `GapReport`) or a stream (the report, and any rewrite of it). Reads run in
parallel, so notes are chosen by the source URL in the prompt, not by call order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from llm_wire import chunk, completion, sse, usage


def plan(*subs: tuple[str, list[str]]) -> dict[str, Any]:
    return {"sub_questions": [{"question": q, "queries": qs} for q, qs in subs]}


def notes(*pairs: tuple[str, str], relevant: bool = True) -> dict[str, Any]:
    return {"relevant": relevant, "notes": [{"point": p, "quote": q} for p, q in pairs]}


class ResearchModel:
    """Answers plan, read, gap and write requests; records what each kind was asked."""

    def __init__(
        self,
        plans: list[dict[str, Any]],
        notes_by_url: dict[str, dict[str, Any]],
        gaps: list[list[tuple[str, list[str]]]],
        report: list[str],
        rewrites: list[list[str]] | None = None,
    ) -> None:
        self.plans = list(plans)
        self.notes_by_url = notes_by_url
        self.gaps = list(gaps)
        self.report = report
        self.rewrites = rewrites or []
        self.calls: dict[str, list[dict[str, Any]]] = {
            "ResearchPlan": [],
            "SourceNotes": [],
            "GapReport": [],
            "write": [],
        }
        self.read_urls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("stream"):
            self.calls["write"].append(body)
            chunks = [chunk({"role": "assistant", "content": ""})]
            chunks += [chunk({"content": piece}) for piece in self._next_report()]
            chunks += [chunk({}, "stop"), chunk(no_choices=True, usage_=usage(300, 60))]
            return sse(chunks)
        name = body["response_format"]["json_schema"]["name"]
        self.calls[name].append(body)
        if name == "ResearchPlan":
            return self._json(self.plans.pop(0))
        if name == "GapReport":
            missing = self.gaps.pop(0) if self.gaps else []
            return self._json({"missing": plan(*missing)["sub_questions"]})
        prompt = body["messages"][-1]["content"]
        for url, answer in self.notes_by_url.items():
            if f'url="{url}"' in prompt:
                self.read_urls.append(url)
                return self._json(answer)
        raise AssertionError(f"no notes prepared for the source in: {prompt[:300]}")

    def _next_report(self) -> list[str]:
        """`report` for the first write request, then each of `rewrites` in turn (the last
        one again once they run out); `report` every time without rewrites."""
        later = len(self.calls["write"]) - 2
        if later < 0 or not self.rewrites:
            return self.report
        return self.rewrites[min(later, len(self.rewrites) - 1)]

    @staticmethod
    def _json(value: dict[str, Any]) -> httpx.Response:
        return httpx.Response(200, json=completion(json.dumps(value)))


def write_corpus(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def url_of(folder: Path, name: str) -> str:
    return (folder / name).resolve().as_uri()


BATTERY_CORPUS = {
    "heat.md": (
        "# Heat and battery ageing\n\n"
        "Lithium-ion cells lose capacity faster when they are kept hot. A cell stored at 40 "
        "degrees loses about 35 percent of its capacity in a year.\n"
    ),
    "charging.md": (
        "# Charging habits\n\n"
        "Keeping a cell between 20 and 80 percent charge slows wear. Fast charging raises "
        "the temperature of the cell.\n"
    ),
    "recycling.txt": "Recycling\n\nRecycling recovers cobalt and nickel from spent packs.\n",
}
