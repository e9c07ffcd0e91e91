"""Testing helpers, laid out as `workflows.testing` in LlamaIndex Workflows: the runner and
its result live in `agentflow.testing.runner`, and the runner is exported here too.

    result = await WorkflowTestRunner(MyFlow()).run(topic="otters")
    assert result.result == "..."
    assert result.event_types[Progress] == 3
"""

from agentflow.testing.runner import WorkflowTestResult, WorkflowTestRunner

__all__ = ["WorkflowTestResult", "WorkflowTestRunner"]
