"""`import agents.llm` stays cheap: the SDKs, tiktoken and llama_index load when first used;
a provider's client is found in its folder."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def test_types_and_protocol_load_without_heavy_dependencies() -> None:
    script = textwrap.dedent(
        """
        import sys
        import agents
        from agents.llm import LLM, ChatMessage, ChatResponse, ToolCallPart, Usage
        import agents.llm.openai.tokens
        import agents.llm.openai, agents.llm.anthropic
        heavy = ("openai", "anthropic", "tiktoken", "llama_index")
        loaded = [name for name in heavy if name in sys.modules]
        assert not loaded, loaded
        from agents.llm import OpenAI
        assert "openai" in sys.modules
        assert "anthropic" not in sys.modules
        from agents.llm import Anthropic
        assert "anthropic" in sys.modules
        assert "llama_index" not in sys.modules
        from agents.llm import LlamaIndexLLM, MeteredLLM
        assert "llama_index" not in sys.modules  # loaded when an adapter is made
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_new_provider_folder_is_found_without_touching_agents_llm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agents.llm

    folder = tmp_path / "echo"
    folder.mkdir()
    (folder / "__init__.py").write_text('__all__ = ["EchoLLM"]\n\n\nclass EchoLLM:\n    pass\n')
    monkeypatch.setattr(agents.llm, "__path__", [*agents.llm.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "agents.llm.echo", raising=False)

    assert agents.llm.EchoLLM.__module__ == "agents.llm.echo"
    from agents.llm.anthropic.client import Anthropic

    assert agents.llm.Anthropic is Anthropic
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = agents.llm.Nothing
