"""`agentflow serve`: its defaults and its usage errors (the crash test runs it for real)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentflow.cli import main

HERE = Path(__file__).parent


def test_serve_binds_localhost_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "address to bind (default: 127.0.0.1)" in " ".join(capsys.readouterr().out.split())


def test_serve_refuses_what_is_not_a_server(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(HERE)
    assert main(["serve", "served_flows:Greet"]) == 2
    assert (
        "agentflow: error: 'served_flows:Greet' is the class Greet, not a WorkflowServer"
        in capsys.readouterr().err
    )
    assert main(["serve", "served_flows"]) == 2
    assert "expected module:server (e.g. myapp:server)" in capsys.readouterr().err
    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    assert main(["serve", "served_flows:server", "--token-env", "NO_SUCH_TOKEN"]) == 2
    assert "--token-env NO_SUCH_TOKEN: that variable is not set" in capsys.readouterr().err
