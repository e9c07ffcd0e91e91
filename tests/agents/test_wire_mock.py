"""The tests' wire mock (`wire_mock.WireMocker`) answers the openai SDK's own default client,
whichever HTTP stack the installed SDK uses, and the tools' httpx requests in the same router."""

from __future__ import annotations

import httpx
import openai
import pytest
import respx
from llm_wire import BASE_URL, completion


async def test_the_sdks_default_client_is_answered(api: respx.MockRouter) -> None:
    route = api.post("/chat/completions").respond(200, json=completion("from the mock"))
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=BASE_URL, max_retries=0)

    reply = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )

    assert reply.choices[0].message.content == "from the mock"
    assert route.call_count == 1


async def test_a_transport_error_from_a_route_reaches_the_sdk_as_one(
    api: respx.MockRouter,
) -> None:
    route = api.post("/chat/completions").mock(side_effect=httpx.ConnectError("refused"))
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=BASE_URL, max_retries=0)

    with pytest.raises(openai.APIConnectionError):
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )

    assert route.call_count == 1


async def test_httpx_and_the_sdk_share_one_router(api: respx.MockRouter) -> None:
    page = api.get("https://example.org/page").respond(200, text="a page")
    api.post("/chat/completions").respond(200, json=completion("ok"))
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=BASE_URL, max_retries=0)

    reply = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    async with httpx.AsyncClient() as web:  # what the tools send through
        fetched = await web.get("https://example.org/page")

    assert reply.choices[0].message.content == "ok"
    assert fetched.text == "a page"
    assert page.call_count == 1
