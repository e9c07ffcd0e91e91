"""The run viewer page: `GET /` and the script and style sheet it loads from `/static/`.

The three files live in this package's `static/` folder (shipped in the wheel: hatchling
packs every file under `agentflow/`), with no build step. They hold no data: the page asks
the JSON routes for everything it shows, with the token it keeps in the browser's
sessionStorage, so the page itself is open (a browser cannot send a token when it opens a
URL) while every data route stays behind the token.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

PAGE_PATHS = frozenset({"/", "/static/viewer.js", "/static/viewer.css"})
"""The page's own files: the only paths besides `/health` that need no token."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""The page loads its own files and talks to its own server, nothing else; no inline
script runs, and no other site may frame it."""


@cache
def _index_html() -> str:
    return (files("agentflow.server") / "static" / "index.html").read_text(encoding="utf-8")


async def index(request: Request) -> Response:
    """The page's HTML."""
    return HTMLResponse(
        _index_html(),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def static_files() -> Mount:
    """`/static/`: the page's script and style sheet."""
    return Mount("/static", StaticFiles(packages=[("agentflow.server", "static")]))
