"""`ToolMetadata`: a tool's name, description and argument schema.

Named after LlamaIndex's `ToolMetadata` (`name`, `description`, `fn_schema`,
`return_direct`, `get_parameters_dict()`) so that ported code works. The schema is plain
JSON Schema, the same for every provider: turning it into one provider's tool format (and
OpenAI's strict mode) is that provider's job, in its folder of `agents/llm/`.
`side_effects` and `allow_repeats` are ours: they tell an agent what to do when a model
repeats a call it has already made (`agents.agent.repeated_calls`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema


class _SchemaWithoutFieldTitles(GenerateJsonSchema):
    """pydantic's schema minus per-field titles ("Query" for `query`): tokens, no meaning."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


@dataclass(slots=True)
class ToolMetadata:
    """What an LLM is told about a tool."""

    name: str
    """The name the LLM calls the tool by."""
    description: str
    """What the tool does, for the LLM (from the docstring's summary line by default)."""
    fn_schema: type[BaseModel]
    """Pydantic model of the arguments: the JSON schema and the validator."""
    return_direct: bool = False
    """Whether an agent should hand this tool's output straight back to the user."""
    side_effects: bool = False
    """Whether a call changes something outside the conversation (a refund, an email, a
    write): the opposite of MCP's `readOnlyHint`. An agent never runs such a tool twice with
    the same arguments in one run (unless `allow_repeats`), not even after an error, which
    may have come after the change; and when one runs, the agent forgets the results it kept
    of the other tools, which may now read differently."""
    allow_repeats: bool = False
    """Whether a call repeating an earlier one of the run (same arguments) runs the tool
    again: for a tool whose answer changes by itself (`get_time()`, polling a job). Without
    it an agent answers a repeated call with the earlier result and a note saying so."""
    # The `fn_schema` whose parameters dict was last generated, and that dict as JSON text
    # (see `get_parameters_dict`).
    _parameters_json: tuple[type[BaseModel], str] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def get_name(self) -> str:
        """The tool's name (LlamaIndex's accessor)."""
        return self.name

    def get_parameters_dict(self) -> dict[str, Any]:
        """The JSON schema of the arguments (type, properties, required, $defs), a fresh
        copy for each caller to change as it likes.

        Generated once per `fn_schema`: pydantic takes about half a millisecond for a
        two-field model, and an agent reads every tool's schema on each LLM call (to count
        its tokens). Kept as JSON text, as copying it from that is quicker than a deepcopy."""
        cached = self._parameters_json
        if cached is None or cached[0] is not self.fn_schema:
            schema = self.fn_schema.model_json_schema(schema_generator=_SchemaWithoutFieldTitles)
            keep = ("type", "properties", "required", "additionalProperties", "$defs")
            parameters = {key: schema[key] for key in keep if key in schema}
            cached = self._parameters_json = (self.fn_schema, json.dumps(parameters))
        loaded: dict[str, Any] = json.loads(cached[1])
        return loaded

    @property
    def fn_schema_str(self) -> str:
        """The argument schema as a JSON string."""
        return json.dumps(self.get_parameters_dict(), ensure_ascii=False)
