"""The hooks a subclass overrides are checked when the workflow is built: one written for
an older signature is refused before a run pays for any LLM call. A workflow without a
schema of its own says where a run's fields are."""

from __future__ import annotations

from typing import Any

import pytest

from agents.documents import (
    ExtractionWorkflow,
    HookSignatureError,
    RunStateError,
    SchemaProposalWorkflow,
)
from agents.llm.openai.client import OpenAI

SCHEMA = {"type": "object", "properties": {"a": {"type": "string", "description": "A."}}}


class _OldMerge(ExtractionWorkflow[Any]):
    def merge_fields(self, candidates: Any) -> Any:  # type: ignore[override]  # the old hook
        return super().merge_fields(candidates, self.specs)


class _OldReasons(ExtractionWorkflow[Any]):
    def review_reasons(self, fields: Any) -> Any:  # type: ignore[override]  # the old hook
        return []


class _OldReplyModel(ExtractionWorkflow[Any]):
    def response_model_for(self, names: Any) -> Any:  # type: ignore[override]  # the old hook
        return None


class _NewHooks(ExtractionWorkflow[Any]):
    def merge_fields(self, candidates: Any, specs: Any) -> Any:
        return super().merge_fields(candidates, specs)


@pytest.mark.parametrize(
    ("workflow", "signature"),
    [
        (_OldMerge, r"merge_fields\(candidates, specs\)"),
        (_OldReasons, r"review_reasons\(fields, specs\)"),
        (_OldReplyModel, r"response_model_for\(names, schema\)"),
    ],
)
def test_a_hook_overridden_with_its_old_signature_is_refused_when_built(
    llm: OpenAI, workflow: type[ExtractionWorkflow[Any]], signature: str
) -> None:
    with pytest.raises(HookSignatureError, match=signature) as info:
        workflow(llm=llm, schema=SCHEMA)

    assert f"{workflow.__name__}.{info.value.hook}" in str(info.value)


def test_a_hook_overridden_with_the_new_signature_is_accepted(llm: OpenAI) -> None:
    workflow = _NewHooks(llm=llm, schema=SCHEMA)

    assert list(workflow.specs) == ["a"]


def test_a_proposal_workflows_specs_say_where_a_runs_fields_are(llm: OpenAI) -> None:
    with pytest.raises(RunStateError, match=r"run_schema\(ctx\)\)\.specs"):
        _ = SchemaProposalWorkflow(llm=llm).specs
