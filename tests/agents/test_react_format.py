"""The ReAct reply parser: both forms, the drift models commonly show, and clear errors."""

from __future__ import annotations

import pytest

from agents.agent.react_format import (
    ReActAction,
    ReActAnswer,
    ReActFormatError,
    parse_react_reply,
    react_instructions,
)
from tools import tool


def test_an_action_with_its_thought_and_json_input() -> None:
    parsed = parse_react_reply(
        'Thought: I need the rate.\nAction: convert\nAction Input: {"amount": 20, "to": "USD"}'
    )

    assert parsed == ReActAction(
        thought="I need the rate.",
        tool_name="convert",
        arguments={"amount": 20, "to": "USD"},
        raw_arguments='{"amount": 20, "to": "USD"}',
    )


def test_an_answer_and_final_answer_alike() -> None:
    assert parse_react_reply("Thought: done\nAnswer: 42 apples") == ReActAnswer("done", "42 apples")
    assert parse_react_reply("thought: done\nFinal Answer: yes") == ReActAnswer("done", "yes")


def test_a_reply_without_labels_is_the_answer() -> None:
    assert parse_react_reply("Paris is the capital.") == ReActAnswer("", "Paris is the capital.")


def test_an_invented_observation_and_what_follows_it_are_dropped() -> None:
    parsed = parse_react_reply(
        "Thought: look it up\nAction: search\nAction Input: {'q': 'x'}\n"
        "Observation: made up\nThought: so\nAnswer: wrong"
    )

    assert isinstance(parsed, ReActAction)
    assert (parsed.tool_name, parsed.arguments) == ("search", {"q": "x"})


def test_fenced_input_markdown_labels_and_quoted_tool_name() -> None:
    parsed = parse_react_reply(
        '**Thought:** go\n**Action:** `lookup`\n**Action Input:**\n```json\n{"id": 7}\n```'
    )

    assert isinstance(parsed, ReActAction)
    assert (parsed.tool_name, parsed.arguments) == ("lookup", {"id": 7})


def test_an_answer_written_on_the_next_line_has_no_leading_newline() -> None:
    assert parse_react_reply("Thought: done\nAnswer:\n42 apples\n") == ReActAnswer(
        "done", "42 apples"
    )


def test_action_none_before_an_answer_is_the_answer() -> None:
    assert parse_react_reply("Thought: I know it\nAction: None\nAnswer: 42") == ReActAnswer(
        "I know it", "42"
    )
    assert parse_react_reply("Action: N/A\nAction Input: {}\nFinal Answer: 7") == ReActAnswer(
        "", "7"
    )


def test_an_answer_containing_action_lines_stays_the_answer() -> None:
    reply = 'Thought: plan\nAnswer: Do this:\nAction: call the bank\nAction Input: {"a": 1}'

    assert parse_react_reply(reply) == ReActAnswer(
        "plan", 'Do this:\nAction: call the bank\nAction Input: {"a": 1}'
    )


def test_multi_line_nested_input_with_text_after_it() -> None:
    parsed = parse_react_reply(
        'Action: search\nAction Input: {\n  "q": {"all": [1, {"b": "}"}]}\n}\nI will wait. }'
    )

    assert isinstance(parsed, ReActAction)
    assert parsed.arguments == {"q": {"all": [1, {"b": "}"}]}}


def test_a_python_dict_input_followed_by_text_with_braces() -> None:
    parsed = parse_react_reply("Action: search\nAction Input: {'q': {'r': 1}} or else {x}")

    assert isinstance(parsed, ReActAction)
    assert parsed.arguments == {"q": {"r": 1}}


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("", "the reply is empty"),
        ("Thought: hmm, let me think", "neither an Action nor an Answer"),
        ("Thought: x\nAction: lookup", "the Action 'lookup' has no 'Action Input:' line"),
        ("Action: lookup\nAction Input: id=7", "the Action Input for 'lookup' is not a JSON"),
        ("Action: lookup\nAction Input: [1, 2]", "the Action Input for 'lookup' is not a JSON"),
        ("Action:\nAction Input: {}", "the Action line names no tool"),
        ("Thought: x\nAction: None", "names no tool .'None'.; to answer without a tool, write"),
    ],
)
def test_malformed_replies_say_what_is_wrong(reply: str, message: str) -> None:
    with pytest.raises(ReActFormatError, match=message):
        parse_react_reply(reply)


def test_instructions_list_each_tool_with_its_schema_and_the_answer_schema() -> None:
    @tool
    def lookup(id: int) -> str:
        """Find a record by id."""
        return str(id)

    text = react_instructions([lookup], {"type": "object", "title": "Answer"})

    assert "- lookup: Find a record by id. Input schema: {" in text
    assert '"id":{"type":"integer"}' in text
    assert "Action: <one of: lookup>" in text
    assert '{"type":"object","title":"Answer"}' in text


def readme_react_paragraph() -> str:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("- **ReActAgent**")
    return " ".join(readme[start : readme.index("\n\n", start)].split())


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "Thought: I should look it up.",
        "Action: convert",
        "Action: convert\nAction Input: 20 EUR",
        "Action: None\nAction Input: {}",
    ],
    ids=["empty", "thought only", "no input", "input not json", "no tool name"],
)
def test_the_readme_names_each_reply_the_parser_sends_back(reply: str) -> None:
    paragraph = readme_react_paragraph()
    assert (
        "A reply that breaks the form (empty, a `Thought:` with neither `Action:` nor "
        "`Answer:`, an `Action:` without a tool name or without a JSON object as its "
        "`Action Input:`) is sent back with what was wrong" in paragraph
    )
    with pytest.raises(ReActFormatError):
        parse_react_reply(reply)


def test_the_readme_says_a_reply_without_labels_is_the_answer() -> None:
    paragraph = readme_react_paragraph()
    assert "a reply with no label at all is taken as the answer" in paragraph
    assert "`Final Answer:` counts as `Answer:`" in paragraph
    assert parse_react_reply("Paris is the capital of France.") == ReActAnswer(
        thought="", answer="Paris is the capital of France."
    )
    assert parse_react_reply("final answer: Paris") == ReActAnswer(thought="", answer="Paris")
