"""astructured_predict against respx-mocked HTTP, and the strict schema it sends."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from agent_runs import run_collecting
from lazy_decoder import LazyDecoder, null_branches, nullable_paths
from llm_wire import BASE_URL, calls_reply, completion, sent_json, text_reply
from pydantic import BaseModel, Field

from agents.agent import FunctionAgent
from agents.llm import ChatMessage, LLMLengthError, LLMRefusalError, StructuredOutputError
from agents.llm.openai.client import OpenAI
from agents.llm.openai.strict_schema import strict_json_schema


class Address(BaseModel):
    city: str
    street: str | None = None


class Person(BaseModel):
    name: str
    age: int = Field(ge=0, description="Age in years")
    addresses: list[Address] = []


ASK = [ChatMessage.user("Ada, 36, lives in London")]
VALID = json.dumps({"name": "Ada", "age": 36, "addresses": [{"city": "London", "street": None}]})


async def test_valid_on_the_second_try(api: respx.MockRouter, llm: OpenAI) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            httpx.Response(200, json=completion('{"name": "Ada", "age": "thirty-six"}')),
            httpx.Response(200, json=completion(VALID)),
        ]
    )

    person = await llm.astructured_predict(Person, ASK)

    assert person == Person(name="Ada", age=36, addresses=[Address(city="London")])
    first, second = (sent_json(call.request) for call in route.calls)
    response_format = first["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Person"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"] == strict_json_schema(Person)
    # The second request re-sends the bad reply and the validation errors.
    assert second["messages"][:1] == first["messages"]
    assert second["messages"][1] == {
        "role": "assistant",
        "content": '{"name": "Ada", "age": "thirty-six"}',
    }
    retry_prompt = second["messages"][2]["content"]
    assert second["messages"][2]["role"] == "user"
    assert "age" in retry_prompt
    assert "valid integer" in retry_prompt


async def test_gives_up_after_the_limit_with_the_errors(api: respx.MockRouter) -> None:
    route = api.post("/chat/completions").respond(200, json=completion("not json"))
    llm = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL, structured_max_attempts=2)

    with pytest.raises(StructuredOutputError, match="no valid Person after 2 attempts") as caught:
        await llm.astructured_predict(Person, ASK)

    assert route.call_count == 2
    assert caught.value.last_reply == "not json"
    assert "Invalid JSON" in caught.value.errors


async def test_refusal_is_not_a_parse_error(api: respx.MockRouter, llm: OpenAI) -> None:
    route = api.post("/chat/completions").respond(
        200, json=completion(None, refusal="I can't share that.")
    )

    with pytest.raises(LLMRefusalError) as caught:
        await llm.astructured_predict(Person, ASK)

    assert caught.value.refusal == "I can't share that."
    assert route.call_count == 1


async def test_length_finish_is_not_a_parse_error(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").respond(
        200, json=completion('{"name": "Ad', finish_reason="length")
    )

    with pytest.raises(LLMLengthError):
        await llm.astructured_predict(Person, ASK)


def test_strict_schema_closes_every_object_and_requires_every_field() -> None:
    schema = strict_json_schema(Person)

    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name", "age", "addresses"]
    assert "default" not in schema["properties"]["addresses"]
    address = schema["$defs"]["Address"]
    assert address["additionalProperties"] is False
    assert address["required"] == ["city", "street"]
    assert "default" not in address["properties"]["street"]
    assert schema["properties"]["age"]["description"] == "Age in years"


class Household(BaseModel):
    home: Address = Field(description="Where they live")


def test_strict_schema_inlines_a_ref_with_siblings() -> None:
    schema = strict_json_schema(Household)

    home = schema["properties"]["home"]
    assert "$ref" not in home  # strict mode refuses "$ref" next to "description"
    assert home["description"] == "Where they live"
    assert home["additionalProperties"] is False
    assert home["required"] == ["city", "street"]


async def test_a_reply_in_a_code_fence_is_read() -> None:
    from agents.llm import ChatResponse
    from agents.llm.structured import predict_structured

    replies = iter([f"```json\n{VALID}\n```", f"```\n{VALID}\n```\n"])

    async def chat(conversation: list[ChatMessage]) -> ChatResponse:
        return ChatResponse(message=ChatMessage.assistant(next(replies)))

    for _ in range(2):
        person = await predict_structured(chat, Person, ASK, max_attempts=1)
        assert person.name == "Ada"


class Tagged(BaseModel):
    tags: set[str]
    code: str = Field(min_length=2, max_length=4)


def test_strict_schema_leaves_out_keywords_strict_mode_refuses() -> None:
    schema = strict_json_schema(Tagged)

    assert "uniqueItems" not in schema["properties"]["tags"]
    assert "minLength" not in schema["properties"]["code"]
    assert "maxLength" not in schema["properties"]["code"]


def test_response_format_name_follows_openais_pattern() -> None:
    import re
    from typing import Generic, TypeVar

    from agents.llm.openai.strict_schema import response_format_for

    ItemT = TypeVar("ItemT")

    class Page(BaseModel, Generic[ItemT]):
        items: list[ItemT]

    name = response_format_for(Page[Address])["json_schema"]["name"]
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", name)
    assert name.startswith("Page_")


def test_every_client_says_how_it_asks_for_a_class(llm: OpenAI) -> None:
    from agents.llm import LLM, ScriptedLLM
    from agents.llm.openai.strict_schema import response_format_for

    class PromptedLLM:  # says nothing of structured output or tokens: not an LLM
        metadata = None

        async def achat(self, *args: object) -> None: ...

        def astream_chat(self, *args: object) -> None: ...

        async def astructured_predict(self, *args: object) -> None: ...

    scripted = ScriptedLLM([])
    assert isinstance(llm, LLM)
    assert isinstance(scripted, LLM)
    assert not isinstance(PromptedLLM(), LLM)
    assert llm.structured_kwargs(Person) == {"response_format": response_format_for(Person)}
    assert scripted.structured_kwargs(Person) == {"response_format": Person}


def test_one_reader_takes_the_json_out_of_a_code_fence() -> None:
    from agents.llm.structured import json_text

    assert json_text(f"```json\n{VALID}\n```") == VALID
    assert json_text(f"  ```\n{VALID}\n```\n") == VALID
    assert json_text(f" {VALID} ") == VALID
    assert json_text("```json") == "```json"  # a fence with nothing inside is left alone


class Profile(BaseModel):
    """Defaults of every kind, and one field the user made Optional."""

    name: str
    units: str = "metric"
    home: Address = Address(city="London")
    tags: list[str] = []
    previous: Address | None = None


def test_the_strict_schema_allows_null_only_where_the_model_takes_none() -> None:
    schema = strict_json_schema(Profile)

    # A default becomes "required", never "nullable": only the user's Optionals take null.
    assert nullable_paths(schema) == ["$.home.street", "$.previous", "$.previous.street"]
    assert null_branches(schema) == ["$.previous"]


async def test_an_agents_answer_from_a_lazy_decoder_lacks_only_what_the_user_made_optional(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    honest = Profile(
        name="Ada",
        units="imperial",
        home=Address(city="Leeds", street="Park Row"),
        tags=["maths"],
        previous=Address(city="London"),
    )

    def where_ada_lives() -> str:
        """Ada's home and where she lived before."""
        return "Park Row, Leeds; before that London"

    def model(request: httpx.Request) -> httpx.Response:
        # A tool call first (its reply has no JSON for the decoder to touch), then the answer.
        if sent_json(request)["messages"][-1]["role"] != "tool":
            return calls_reply(("call_1", "where_ada_lives", "{}"))
        return text_reply(honest.model_dump_json())

    decoder = LazyDecoder(model)
    api.post("/chat/completions").mock(side_effect=decoder)
    agent = FunctionAgent(llm=llm, tools=[where_ada_lives], output_cls=Profile)

    output, _ = await run_collecting(agent, user_msg="Ada?")

    assert output.structured_response == honest.model_copy(update={"previous": None})
    assert decoder.rewritten == 1
