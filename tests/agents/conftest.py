from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx
from llm_wire import BASE_URL
from wire_mock import mock_wire

from agents.llm.openai.client import OpenAI


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as router:
        yield router


@pytest.fixture
def llm() -> OpenAI:
    return OpenAI("gpt-4o-mini", api_key="sk-test", base_url=BASE_URL, max_retries=2)
