"""agents.llm.errors.one_line_with_notes: an error and its notes on one line."""

from __future__ import annotations

from agents.llm import LLMRefusalError, one_line_with_notes


def test_the_notes_follow_the_message_on_its_line() -> None:
    error = LLMRefusalError("not today")
    error.add_note("raised by agent 'triage'")
    error.add_note("raised in step 'call_llm' of workflow AgentWorkflow")

    assert one_line_with_notes(error) == (
        "the model refused: not today; raised by agent 'triage'; "
        "raised in step 'call_llm' of workflow AgentWorkflow"
    )


def test_line_breaks_in_the_message_or_a_note_become_spaces() -> None:
    error = ValueError("no valid Plan after 3 attempts; last validation errors:\n  steps\n")
    error.add_note("a hint\non two lines")

    assert one_line_with_notes(error) == (
        "no valid Plan after 3 attempts; last validation errors: steps; a hint on two lines"
    )


def test_an_error_without_notes_is_its_message() -> None:
    assert one_line_with_notes(KeyError("there is no order 7")) == "'there is no order 7'"
