"""Token counts against tiktoken's own, offline from llama-index-core's bundled encodings;
without network or cached encodings, the documented estimate and one warning."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import tiktoken

from agents.llm import ChatMessage, TextPart, ToolCallPart
from agents.llm.openai.tokens import (
    bundled_tiktoken_cache,
    count_message,
    count_messages,
    count_prompt,
    count_text,
    count_tools,
    encoding_for,
    use_bundled_tiktoken_cache,
)
from tools import FunctionTool

# The cookbook's sample conversation.
SAMPLE = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean."},
]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": ""},
            },
            "required": ["location"],
        },
    },
}


@pytest.fixture(autouse=True)
def offline_encodings() -> None:
    use_bundled_tiktoken_cache()


def tiktoken_message_count(messages: list[dict[str, str]], encoding: tiktoken.Encoding) -> int:
    """The cookbook's rule, written against tiktoken directly."""
    tokens = 3
    for message in messages:
        tokens += 3
        for key, value in message.items():
            tokens += len(encoding.encode(value))
            if key == "name":
                tokens += 1
    return tokens


@pytest.mark.parametrize(
    ("model", "encoding_name"),
    [("gpt-4o-mini", "o200k_base"), ("gpt-4", "cl100k_base"), ("my-local-llama", "o200k_base")],
)
def test_encoding_per_model(model: str, encoding_name: str) -> None:
    assert encoding_for(model).name == encoding_name
    text = "tiktoken is great! Ünïcode, code: def f(x): return x ** 2"
    assert count_text(text, model) == len(tiktoken.get_encoding(encoding_name).encode(text))


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4-0613", "gpt-3.5-turbo"])
def test_messages_match_tiktoken(model: str) -> None:
    messages = [ChatMessage.model_validate(message) for message in SAMPLE]

    expected = tiktoken_message_count(SAMPLE, tiktoken.encoding_for_model(model))

    assert count_messages(messages, model) == expected


@pytest.mark.parametrize("models", [("gpt-4o", "gpt-4"), ("gpt-4", "gpt-4o")])
def test_names_are_counted_by_each_models_own_encoding(models: tuple[str, str]) -> None:
    # Names and roles are counted once per encoding and kept: a name counted for one model
    # (7 and 8 tokens in o200k_base, 8 and 9 in cl100k_base) is counted anew for the other.
    author, tool = "Ünïcode_rédacteur", "naïve_ŝkribisto"
    message = ChatMessage(
        role="assistant",
        name=author,
        tool_calls=[ToolCallPart.from_raw("call_1", tool, '{"city": "Paris"}')],
    )
    for model in models:
        encoding = tiktoken.encoding_for_model(model)
        expected = 3 + len(encoding.encode("assistant"))
        expected += len(encoding.encode(author)) + 1
        expected += len(encoding.encode(tool)) + len(encoding.encode('{"city": "Paris"}'))
        assert count_message(message, model) == expected


def test_text_parts_count_like_their_text() -> None:
    as_text = [ChatMessage.user("hello there, world")]
    as_parts = [ChatMessage.user([TextPart(text="hello there,"), TextPart(text=" world")])]
    encoding = tiktoken.get_encoding("o200k_base")
    expected = 3 + 3 + len(encoding.encode("user"))
    expected += len(encoding.encode("hello there,")) + len(encoding.encode(" world"))
    assert count_messages(as_parts, "gpt-4o") == expected
    assert count_messages(as_text, "gpt-4o") == 6 + len(encoding.encode("user")) + len(
        encoding.encode("hello there, world")
    )


def test_tool_schemas_follow_the_cookbook_rule() -> None:
    encoding = tiktoken.get_encoding("o200k_base")

    def n(text: str) -> int:
        return len(encoding.encode(text))

    expected = 7 + n("get_current_weather:Get the current weather in a given location")
    expected += 3  # properties
    expected += 3 + n("location:string:The city and state, e.g. Paris")
    expected += 3 - 3 + (3 + n("celsius")) + (3 + n("fahrenheit")) + n("unit:string:")
    expected += 12

    assert count_tools([WEATHER_TOOL], "gpt-4o") == expected
    assert count_tools([], "gpt-4o") == 0

    class Metadata:
        name = WEATHER_TOOL["function"]["name"]
        description = WEATHER_TOOL["function"]["description"]

        def get_parameters_dict(self) -> dict[str, Any]:
            return dict(WEATHER_TOOL["function"]["parameters"])

    class ToolObject:
        metadata = Metadata()

    assert count_tools([ToolObject()], "gpt-4o") == expected
    user = [ChatMessage.user("weather in Oslo?")]
    assert count_prompt(user, "gpt-4o", [WEATHER_TOOL]) == count_messages(user, "gpt-4o") + expected


def test_cl100k_models_open_functions_with_10_tokens() -> None:
    assert count_tools([WEATHER_TOOL], "gpt-4") - count_tools([WEATHER_TOOL], "gpt-4o") == 3 + (
        _weather_text_tokens("cl100k_base") - _weather_text_tokens("o200k_base")
    )


def _weather_text_tokens(name: str) -> int:
    encoding = tiktoken.get_encoding(name)
    texts = [
        "get_current_weather:Get the current weather in a given location",
        "location:string:The city and state, e.g. Paris",
        "celsius",
        "fahrenheit",
        "unit:string:",
    ]
    return sum(len(encoding.encode(text)) for text in texts)


def test_counts_offline_from_the_bundled_cache(tmp_path: Path) -> None:
    cache = bundled_tiktoken_cache()
    assert cache is not None
    assert (cache / "fb374d419588a4632f3f557e76b4b70aebbca790").is_file()  # o200k_base
    script = textwrap.dedent(
        """
        import os, sys
        from agents.llm import ChatMessage
        from agents.llm.openai.tokens import count_messages
        n = count_messages([ChatMessage.user("hello")], "gpt-4o")
        assert "llama_index" not in sys.modules, "llama_index was imported"
        print(n, os.environ["TIKTOKEN_CACHE_DIR"])
        """
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")
    }
    # An empty temp dir (so tiktoken's default cache is empty) and a proxy that refuses
    # every connection: a download attempt would fail.
    env |= {
        "TMPDIR": str(tmp_path),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
    count, cache_dir = result.stdout.split()
    encoding = tiktoken.get_encoding("o200k_base")
    assert int(count) == 3 + 3 + len(encoding.encode("user")) + len(encoding.encode("hello"))
    assert Path(cache_dir) == cache


def test_a_user_cache_choice_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert use_bundled_tiktoken_cache() == tmp_path
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path)


AGENTS_TESTS = Path(__file__).resolve().parent


def run_offline(script: str, cache: Path) -> dict[str, Any]:
    """`script` in a fresh process as a user without network sees it: tiktoken's cache is
    `cache` (nothing else on disk) and every download tiktoken tries is refused by a proxy
    on 127.0.0.1:9 (requests to the mocked model server, llm.test, skip it). The script
    prints one JSON line: what it found, and the token warnings it saw."""
    prelude = textwrap.dedent(
        """
        import json, warnings
        warnings.simplefilter("always")
        seen = []
        warnings.showwarning = lambda message, category, *rest: seen.append(
            (category.__name__, str(message))
        )
        """
    )
    env = {key: value for key, value in os.environ.items() if not key.endswith("_PROXY")}
    env |= {
        "TIKTOKEN_CACHE_DIR": str(cache),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "llm.test",
        "PYTHONPATH": str(AGENTS_TESTS),
    }
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return found


def test_without_network_or_cache_a_run_counts_with_the_estimate_and_warns_once(
    tmp_path: Path,
) -> None:
    found = run_offline(
        """
        import asyncio
        from llm_wire import BASE_URL, text_reply
        from wire_mock import mock_wire
        from agents import FunctionAgent
        from agents.llm import ChatMessage, OpenAI
        from agents.llm.openai.tokens import count_messages, count_text

        async def main():
            with mock_wire(base_url=BASE_URL) as api:
                api.post("/chat/completions").mock(return_value=text_reply("Oslo."))
                agent = FunctionAgent(llm=OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL))
                return await agent.run(user_msg="Capital of Norway?")

        output = asyncio.run(main())
        print(json.dumps({
            "answer": output.response.text,
            "text": count_text("héllo wörld", "gpt-4o-mini"),
            "message": count_messages([ChatMessage.user("hello")], "gpt-4o"),
            "warnings": [w for w in seen if "token" in w[1].lower()],
        }))
        """,
        cache=tmp_path / "empty-cache",
    )

    assert found["answer"] == "Oslo."
    # The documented estimate: one token per 4 bytes of UTF-8 text, rounded up.
    assert found["text"] == 4  # "héllo wörld" is 13 bytes
    assert found["message"] == 3 + 1 + 2 + 3  # framing, "user", "hello", reply priming
    [(category, message)] = found["warnings"]
    assert category == "TokenEstimateWarning"
    assert "o200k_base" in message
    assert "4 bytes" in message
    assert "TIKTOKEN_CACHE_DIR" in message


def test_a_model_whose_encoding_cannot_be_loaded_counts_with_o200k(tmp_path: Path) -> None:
    # Offline, "text-davinci-003" (p50k_base) or a local "gpt2" would need a download;
    # o200k_base is in the cache.
    bundled = bundled_tiktoken_cache()
    assert bundled is not None
    cache = tmp_path / "o200k-only"
    cache.mkdir()
    o200k = "fb374d419588a4632f3f557e76b4b70aebbca790"
    shutil.copy(bundled / o200k, cache / o200k)

    found = run_offline(
        """
        from agents.llm.openai.tokens import count_text, encoding_for
        print(json.dumps({
            "name": encoding_for("text-davinci-003").name,
            "counts": [count_text("hello world", "text-davinci-003") for _ in range(3)],
            "warnings": [w for w in seen if "token" in w[1].lower()],
        }))
        """,
        cache=cache,
    )

    assert found["name"] == "o200k_base"
    assert found["counts"] == [2, 2, 2]
    [(category, message)] = found["warnings"]
    assert category == "TokenEstimateWarning"
    assert "p50k_base" in message


def test_a_scripted_model_is_counted_offline_with_its_own_estimate(tmp_path: Path) -> None:
    # A user's tests on a base install (no llama-index-core, so no bundled encodings) and
    # no network: the agent's memory, budget check and usage estimate count the scripted
    # model's tokens as ScriptedLLM reports usage, without asking tiktoken for a file.
    found = run_offline(
        """
        import asyncio
        from agents import FunctionAgent
        from agents.llm import ChatMessage, ScriptedLLM

        llm = ScriptedLLM(["Oslo is the capital."], report_usage=False)

        async def main():
            return await FunctionAgent(llm=llm).run("Capital of Norway?")

        output = asyncio.run(main())
        print(json.dumps({
            "answer": str(output),
            "completion": output.usage.completion_tokens,
            "text": llm.count_reply_tokens(ChatMessage.assistant("It's 5.")),
            "warnings": [w for w in seen if "token" in w[1].lower()],
        }))
        """,
        cache=tmp_path / "empty-cache",
    )

    assert found["answer"] == "Oslo is the capital."
    assert found["warnings"] == []
    assert found["completion"] == 5  # Oslo, is, the, capital, .
    assert found["text"] == 5  # It, ', s, 5, . (docs/testing.md)


def test_a_scripted_model_counts_with_its_own_estimate_whatever_its_name() -> None:
    from agents.llm import ScriptedLLM

    llm = ScriptedLLM(["hi"], model="gpt-4o-mini")

    assert llm.count_reply_tokens(ChatMessage.assistant("It's 5.")) == 5
    assert llm.count_prompt_tokens([ChatMessage.user("It's 5.")]) == 5
    # Naming it does not change what tiktoken counts for the real model.
    assert count_text("It's 5.", "gpt-4o-mini") == len(
        tiktoken.get_encoding("o200k_base").encode("It's 5.")
    )


def test_a_tools_kept_count_follows_its_description() -> None:
    # An agent counts its tools' schemas on every LLM call, so a tool's count is kept; a
    # tool whose description changed is counted again.
    async def forecast(city: str, days: int = 3) -> str:
        """Get the weather forecast."""
        return city

    tool = FunctionTool.from_defaults(forecast)
    first = count_tools([tool], "gpt-4o-mini")
    assert count_tools([tool], "gpt-4o-mini") == first
    assert count_tools([tool, WEATHER_TOOL], "gpt-4o-mini") > first
    tool.metadata.description = "Get the weather forecast for the coming days, hour by hour."
    assert count_tools([tool], "gpt-4o-mini") > first
