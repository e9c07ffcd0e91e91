"""The ReAct text protocol: the instructions a model without function calling gets, and
the parser of its replies.

A reply is either an action or an answer:

```
Thought: I need the exchange rate first.
Action: convert
Action Input: {"amount": 20, "currency": "EUR"}
```

```
Thought: I can answer now.
Answer: 20 EUR is 21.60 USD.
```

The parser is lenient where models commonly drift and strict where guessing would be
wrong: labels are matched without regard to case or leading spaces, `Final Answer:` counts
as `Answer:`, an `Action: None` before an `Answer:` is ignored, a reply with no label at all
is taken as the answer, code fences around the input and text after it are dropped, and
anything the model wrote after inventing its own `Observation:` is cut off. An action
without a readable JSON object as input is a `ReActFormatError`; the agent sends its message
back to the model instead of guessing the arguments.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

from tools import FunctionTool

_LABEL = r"^[ \t]*\**[ \t]*{name}[ \t]*\**[ \t]*:[ \t]*\**[ \t]*"
_THOUGHT = re.compile(_LABEL.format(name="thought"), re.IGNORECASE | re.MULTILINE)
_ACTION = re.compile(_LABEL.format(name="action"), re.IGNORECASE | re.MULTILINE)
_ACTION_INPUT = re.compile(_LABEL.format(name="action[ \t_]+input"), re.IGNORECASE | re.MULTILINE)
_ANSWER = re.compile(_LABEL.format(name="(?:final[ \t]+)?answer"), re.IGNORECASE | re.MULTILINE)
_OBSERVATION = re.compile(_LABEL.format(name="observation"), re.IGNORECASE | re.MULTILINE)

_NO_TOOL = frozenset({"", "none", "n/a", "null"})
"""What models write on the Action line (lower-cased) when they mean to use no tool."""

OBSERVATION_STOP = "\nObservation:"
"""Sent as a stop sequence, so the model ends its turn where the tool's result belongs."""


class ReActFormatError(ValueError):
    """A reply that follows neither form; the message says what is missing or malformed."""


@dataclass(frozen=True, slots=True)
class ReActAction:
    """A reply asking to run one tool."""

    thought: str
    """The reasoning before the action (may be empty)."""
    tool_name: str
    """The tool to run, as written."""
    arguments: dict[str, Any]
    """The parsed `Action Input`."""
    raw_arguments: str
    """The `Action Input` as JSON, for the tool's own validation."""


@dataclass(frozen=True, slots=True)
class ReActAnswer:
    """A reply that ends the loop."""

    thought: str
    """The reasoning before the answer (may be empty)."""
    answer: str
    """The text after `Answer:` (or the whole reply when it has no labels)."""


def without_invented_observation(text: str) -> str:
    """`text` up to the first `Observation:` the model wrote itself: what follows it was
    imagined, not returned by a tool."""
    match = _OBSERVATION.search(text)
    return text[: match.start()].rstrip() if match else text.strip()


def parse_react_reply(text: str) -> ReActAction | ReActAnswer:
    """Read one reply; raises `ReActFormatError` naming what is wrong."""
    text = without_invented_observation(text)
    if not text:
        raise ReActFormatError("the reply is empty")
    action = _ACTION.search(text)
    answer = _ANSWER.search(text)
    thought_end = answer.start() if answer is not None else 0
    if action is not None and answer is not None and _action_name(text, action).lower() in _NO_TOOL:
        # "Action: None" and then an Answer: the model's way of saying it uses no tool.
        thought_end = min(thought_end, action.start())
        action = None
    if action is not None and (answer is None or action.start() < answer.start()):
        return _parse_action(text, action)
    if answer is not None:
        answer_text = text[answer.end() :].strip()
        return ReActAnswer(thought=_thought(text, thought_end), answer=answer_text)
    if _THOUGHT.search(text) is None:
        return ReActAnswer(thought="", answer=text)
    raise ReActFormatError("the reply has a Thought but neither an Action nor an Answer")


def react_instructions(tools: list[FunctionTool], answer_schema: dict[str, Any] | None) -> str:
    """The system prompt section that lists the tools and the reply format."""
    lines = [
        "You answer by reasoning step by step and, when you need information or an effect, "
        "by using tools. Each reply is either one action or the answer.",
        "",
    ]
    if tools:
        lines.append("Tools:")
        for tool in tools:
            schema = json.dumps(tool.metadata.get_parameters_dict(), separators=(",", ":"))
            lines.append(f"- {tool.name}: {tool.metadata.description} Input schema: {schema}")
        lines += [
            "",
            "To use a tool, reply with exactly these three lines and then stop:",
            "Thought: <why you need the tool>",
            f"Action: <one of: {', '.join(tool.name for tool in tools)}>",
            "Action Input: <a JSON object matching the tool's input schema>",
            "",
            "The tool's result comes back to you as 'Observation: <result>'. Never write an "
            "Observation yourself.",
            "",
        ]
    lines += [
        "When you can answer, reply with:",
        "Thought: <why you can answer now>",
        "Answer: <your answer>",
    ]
    if answer_schema is not None:
        lines += [
            "",
            "The answer must be a single JSON object (no code fence) that matches this JSON "
            f"schema: {json.dumps(answer_schema, separators=(',', ':'))}",
        ]
    return "\n".join(lines)


def _thought(text: str, end: int) -> str:
    match = _THOUGHT.search(text, 0, end)
    return text[match.end() : end].strip() if match else text[:end].strip()


def _action_name(text: str, action: re.Match[str]) -> str:
    action_input = _ACTION_INPUT.search(text, action.end())
    name_end = action_input.start() if action_input else len(text)
    tool_name = text[action.end() : name_end].strip().splitlines()[0:1]
    return tool_name[0].strip().strip("`'\"") if tool_name else ""


def _parse_action(text: str, action: re.Match[str]) -> ReActAction:
    action_input = _ACTION_INPUT.search(text, action.end())
    name = _action_name(text, action)
    if name.lower() in _NO_TOOL:
        raise ReActFormatError(
            f"the Action line names no tool{f' ({name!r})' if name else ''}; to answer "
            "without a tool, write an 'Answer:' line"
        )
    if action_input is None:
        raise ReActFormatError(f"the Action '{name}' has no 'Action Input:' line")
    arguments = _json_object(text[action_input.end() :])
    if arguments is None:
        raise ReActFormatError(
            f"the Action Input for '{name}' is not a JSON object; write it as "
            '{"parameter": value} on the Action Input line'
        )
    return ReActAction(
        thought=_thought(text, action.start()),
        tool_name=name,
        arguments=arguments,
        raw_arguments=json.dumps(arguments),
    )


def _json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text` (after any code fence); a Python dict literal is
    accepted too, since models often write single quotes."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError:
        value = _python_dict(text, start)
    return value if isinstance(value, dict) else None


def _python_dict(text: str, start: int) -> Any:
    # Each closing brace in turn, shortest first: text after the dict may hold braces too.
    end = text.find("}", start)
    while end >= 0:
        try:
            return ast.literal_eval(text[start : end + 1])
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            end = text.find("}", end + 1)
    return None
