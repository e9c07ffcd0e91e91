"""Workflows as an HTTP service: `WorkflowServer` (the `server` extra: starlette, uvicorn,
sse-starlette).

    app.py              the routes, the reference server's paths and status codes
    wire.py             the JSON: event envelopes, the handler JSON, parsing sent events
    registry.py         the served workflows and the event classes each may receive
    runs.py             `Runner`, the seam the routes start, follow, answer and cancel runs through
    streams.py          `RunEvents`: each run's numbered events, for any number of followers
    security.py         the bearer token and the request body limit
    openapi.py          `/openapi.json`, written from the route table
    representation.py   a workflow's graph as the reference's JSON
    page.py, static/    the run viewer page at `/`: one HTML, one script, one style sheet
    workflow_server.py  `WorkflowServer`, which puts these together
    serving.py          running it under uvicorn, its streams ended when shutdown begins
"""

from agentflow.extras import extra_needed

with extra_needed("server", "WorkflowServer"):
    import sse_starlette  # noqa: F401
    import starlette  # noqa: F401

from agentflow.server.workflow_server import WorkflowServer

__all__ = ["WorkflowServer"]
