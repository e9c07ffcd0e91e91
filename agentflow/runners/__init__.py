"""Runners: what starts, follows, answers and cancels runs for a server (its `Runner`,
`agentflow.server.runs`). The local one runs each workflow in the server's own process
(`agentflow.runners.local.LocalRunner`); the DBOS one (`agentflow.runners.dbos`, the `dbos`
extra) queues runs to worker processes on other machines."""
