"""Tools whose dependencies come with an extra: used without it, each raises (or, called
by an LLM, returns) `MissingExtraError` naming the extra to install."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import respx

from agentflow.errors import MissingExtraError
from tools import FunctionTool
from tools.builtin.http import WebTools
from tools.interop import from_llama_index, to_llama_index

PUBLIC_IP = "93.184.216.34"


async def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC_IP]


def double(x: int) -> int:
    """Twice x."""
    return 2 * x


def test_llama_index_conversions_name_the_llama_index_extra(
    uninstalled: Callable[..., None],
) -> None:
    uninstalled("llama_index")

    with pytest.raises(MissingExtraError) as to_llama:
        to_llama_index(FunctionTool.from_defaults(double))
    with pytest.raises(MissingExtraError) as from_llama:
        from_llama_index(object())  # type: ignore[arg-type]

    assert (to_llama.value.extra, to_llama.value.feature) == ("llama-index", "to_llama_index")
    assert (from_llama.value.extra, from_llama.value.feature) == (
        "llama-index",
        "from_llama_index",
    )
    assert "pip install -e '.[llama-index]'" in str(to_llama.value)


async def test_http_get_without_httpx_names_the_web_extra(
    uninstalled: Callable[..., None],
) -> None:
    uninstalled("httpx")
    web = WebTools(resolver=public_resolver)
    (tool,) = web.to_tool_list()

    with pytest.raises(MissingExtraError) as caught:
        await web.http_get("https://example.com/")
    output = await tool.acall(url="https://example.com/")

    assert (caught.value.extra, caught.value.feature) == ("web", "http_get")
    assert output.is_error
    assert "http_get needs the 'web' extra" in output.content
    assert "pip install -e '.[web]'" in output.content


@respx.mock
async def test_an_html_page_without_trafilatura_names_the_web_extra(
    uninstalled: Callable[..., None],
) -> None:
    respx.get(f"https://{PUBLIC_IP}/page").respond(200, html="<p>hello</p>")
    uninstalled("trafilatura")

    with pytest.raises(MissingExtraError) as caught:
        await WebTools(resolver=public_resolver).http_get("https://example.com/page")

    assert (caught.value.extra, caught.value.feature) == ("web", "http_get")
