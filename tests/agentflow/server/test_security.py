"""A real server's defences: the bearer token (every route but /health), CORS only for the
listed origins, and the request body limit counted while reading."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from running_server import RunningServer
from served_flows import make_server

pytestmark = pytest.mark.timeout(30)

ROUTES = [
    ("GET", "/workflows"),
    ("POST", "/workflows/greet/run"),
    ("POST", "/workflows/greet/run-nowait"),
    ("GET", "/workflows/greet/schema"),
    ("GET", "/workflows/greet/representation"),
    ("GET", "/handlers"),
    ("GET", "/handlers/x"),
    ("POST", "/handlers/x/cancel"),
    ("GET", "/events/x"),
    ("POST", "/events/x"),
    ("GET", "/results/x"),
    ("GET", "/openapi.json"),
]


async def test_a_token_guards_every_route_but_health(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve(token="s3cret")
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        assert (await client.get("/health")).status_code == 200
        for method, path in ROUTES:
            missing = await client.request(method, path, json={})
            assert missing.status_code == 401, path
            assert missing.json() == {"detail": "Authorization: missing bearer token"}
            assert missing.headers["www-authenticate"] == "Bearer"
            wrong = await client.request(
                method, path, json={}, headers={"Authorization": "Bearer s3cre"}
            )
            assert (wrong.status_code, wrong.json()) == (
                401,
                {"detail": "Authorization: wrong bearer token"},
            )
        right = {"Authorization": "Bearer s3cret"}
        assert (await client.get("/workflows", headers=right)).status_code == 200
        ran = await client.post("/workflows/greet/run", json={}, headers=right)
        assert ran.json()["status"] == "completed"


async def test_the_page_needs_no_token_but_its_data_does(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve(token="s3cret")
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        # The page may load nothing but its own files, and talks only to its own server.
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert '<script src="/static/viewer.js"' in page.text
        assert "s3cret" not in page.text
        script = await client.get("/static/viewer.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert "innerHTML" not in script.text
        style = await client.get("/static/viewer.css")
        assert style.headers["content-type"].startswith("text/css")
        for path in ("/static/", "/static/other.js", "/handlers", "/workflows"):
            assert (await client.get(path)).status_code == 401, path


def test_the_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFLOW_SERVER_TOKEN", "from-env")
    assert make_server().token == "from-env"
    assert make_server(token="").token == ""
    monkeypatch.delenv("AGENTFLOW_SERVER_TOKEN")
    assert make_server().token is None


async def test_cors_is_off_by_default(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get("/workflows", headers={"Origin": "https://evil.example"})
        assert not [name for name in response.headers if name.startswith("access-control")]
        preflight = await client.options(
            "/workflows",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in preflight.headers


async def test_cors_allows_exactly_the_listed_origins(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve(cors_origins=["https://app.example"], token="t")
    async with httpx.AsyncClient(base_url=server.url) as client:
        allowed = await client.get(
            "/workflows",
            headers={"Origin": "https://app.example", "Authorization": "Bearer t"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-credentials" not in allowed.headers
        other = await client.get(
            "/workflows",
            headers={"Origin": "https://evil.example", "Authorization": "Bearer t"},
        )
        assert "access-control-allow-origin" not in other.headers
        # A browser's preflight carries no token; it is answered, for the listed origin only.
        preflight = await client.options(
            "/events/x",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        refused = await client.options(
            "/events/x",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers


async def test_a_body_over_the_limit_is_413_even_without_content_length(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve(max_body_bytes=200)
    big = b'{"start_event": {"name": "' + b"x" * 300 + b'"}}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 50):
            yield big[start : start + 50]

    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        declared = await client.post("/workflows/greet/run", content=big)
        assert declared.status_code == 413
        assert declared.json() == {
            "detail": f"request body of {len(big)} bytes is over the limit of 200"
        }
        streamed = await client.post("/workflows/greet/run", content=chunks())
        assert "content-length" not in streamed.request.headers
        assert streamed.status_code == 413
        assert streamed.json() == {"detail": "request body is over the limit of 200 bytes"}
        sent = await client.post("/events/x", content=chunks())
        assert sent.status_code == 413
        small = await client.post("/workflows/greet/run", json={"start_event": {"name": "A"}})
        assert small.status_code == 200
