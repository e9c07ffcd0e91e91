"""`agentflow serve --runner dbos` and `agentflow worker`: the options they refuse, named."""

from __future__ import annotations

import pytest

from agentflow.cli import main


def test_a_dbos_replica_needs_the_workers_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "cluster_flows:server", "--runner", "dbos"]) == 2
    assert "--runner dbos needs --dsn" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_the_database_must_be_postgresql(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "cluster_flows:server", "--dsn", "sqlite:///runs.db"]) == 2
    assert "--dsn: a postgresql:// URL, got 'sqlite:///runs.db'" in capsys.readouterr().err


def test_a_worker_needs_a_workflow_server(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["worker", "cluster_flows:Chain", "--dsn", "postgresql://u@127.0.0.1/db"])
    assert code == 2
    assert "not a WorkflowServer" in capsys.readouterr().err
