"""`import agents.llm` stays cheap: the SDK, tiktoken and llama_index load when first used."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_types_and_protocol_load_without_heavy_dependencies() -> None:
    script = textwrap.dedent(
        """
        import sys
        import agents
        from agents.llm import LLM, ChatMessage, ChatResponse, ToolCall, Usage
        import agents.llm.openai.tokens
        heavy = [name for name in ("openai", "tiktoken", "llama_index") if name in sys.modules]
        assert not heavy, heavy
        from agents.llm import OpenAI
        assert "openai" in sys.modules
        assert "llama_index" not in sys.modules
        from agents.llm import LlamaIndexLLM, MeteredLLM
        assert "llama_index" not in sys.modules  # loaded when an adapter is made
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
