"""The run viewer page (`GET /`) in headless Chromium, against a real server: start a run,
see its events appear as they stream, answer its question, see it finish; with and without
a token. Debian's `chromium` is driven by Playwright (no browser download)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from headless_chromium import headless_chromium
from playwright.async_api import Browser, Page, Route, expect
from running_server import RunningServer

# Chromium's first launch on a fresh machine builds its caches: about 40 s of the first
# test's setup here, more on a loaded CI machine (it went past 60 s once).
pytestmark = pytest.mark.timeout(180)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Chromium, headless, with nothing fetched from outside."""
    async with headless_chromium() as launched:
        yield launched


async def open_page(
    browser: Browser, server: RunningServer, token: str | None, requests: list[str] | None = None
) -> Page:
    """The page, past its token prompt when the server has a token (a wrong one first);
    the URL of each request it makes is added to `requests`."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    if requests is not None:
        page.on("request", lambda request: requests.append(request.url))
    await page.goto(server.url + "/")
    if token is not None:
        prompt = page.locator("#token-form")
        await expect(prompt).to_be_visible()
        await page.fill("#token-input", "not-" + token)
        await page.click("#token-form button")
        await expect(page.locator("#token-error")).to_contain_text("wrong bearer token")
        await page.fill("#token-input", token)
        await page.click("#token-form button")
        await expect(prompt).to_be_hidden()
        assert await page.evaluate("sessionStorage.getItem('agentflow.token')") == token
        assert token not in page.url
    await expect(page.locator("#workflows li")).to_have_text(
        ["greet", "count", "ask", "boom", "chain", "talk", "tally"]
    )
    return page


async def choose_workflow(page: Page, name: str, prefilled: dict[str, object]) -> None:
    """Choose `name` in the start form, once the form shows its start event's fields."""
    await page.select_option("#start-workflow", name)
    await expect(page.locator("#start-body")).to_have_value(json.dumps(prefilled, indent=2))


COUNT_START = {"topic": "", "count": 1}


@pytest.mark.parametrize("token", [None, "s3cret"])
async def test_start_a_run_follow_its_events_answer_it_and_see_it_finish(
    serve: Callable[..., RunningServer], browser: Browser, tmp_path: Path, token: str | None
) -> None:
    server = serve(token=token or "")
    made: list[str] = []
    page = await open_page(browser, server, token, made)

    await choose_workflow(page, "count", COUNT_START)
    await page.fill("#start-body", json.dumps({"topic": "tea", "count": 3}))
    await page.click("#start-form button")

    events = page.locator("#events li")
    await expect(events).to_have_count(4)
    await expect(events.locator(".type")).to_have_text(
        ["Progress", "Progress", "Progress", "InputRequiredEvent"]
    )
    await expect(events.locator(".sequence")).to_have_text(["0", "1", "2", "3"])
    await expect(page.locator("#questions li")).to_have_text(["tea? "])
    await expect(page.locator("#run-status")).to_have_text("running")
    run_id = await page.locator("#run-id").text_content()
    assert run_id
    await expect(page.locator(f"#runs tr[data-run='{run_id}'] .status")).to_have_text("running")

    # The answer form offers the workflow's own events, not its start or stop event.
    await expect(page.locator("#answer-type option")).to_have_text(["HumanResponseEvent"])
    await expect(page.locator("#answer-type")).to_have_value("HumanResponseEvent")
    # Markup in the data must reach the page as text, never as elements.
    await page.fill("#answer-fields [name='response']", "green & <i>hot</i>")
    await page.screenshot(path=tmp_path / "run-viewer-asking.png", full_page=True)
    await page.click("#answer-form button")

    await expect(events).to_have_count(5)
    await expect(events.last.locator(".type")).to_have_text("StopEvent")
    await expect(page.locator("#run-status")).to_have_text("completed")
    await expect(page.locator("#questions li")).to_have_count(0)
    await expect(page.locator("#answer-form")).to_be_hidden()
    await expect(page.locator(f"#runs tr[data-run='{run_id}'] .status")).to_have_text("completed")
    await expect(page.locator("#run-result")).to_contain_text('"got": "green & <i>hot</i>"')
    assert await page.locator("main b, main i").count() == 0

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
        handler = (await client.get(f"/handlers/{run_id}")).json()
    assert handler["status"] == "completed"
    assert handler["result"]["value"] == {"result": {"topic": "tea", "got": "green & <i>hot</i>"}}

    # The page loads nothing from elsewhere, and never puts the token in a URL.
    assert f"{server.url}/static/viewer.js" in made
    assert [url for url in made if not url.startswith(server.url + "/")] == []
    assert not [url for url in made if token and token in url]

    shot = tmp_path / "run-viewer.png"
    await page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000


async def test_bad_input_is_shown_where_it_was_given(
    serve: Callable[..., RunningServer], browser: Browser
) -> None:
    server = serve()
    page = await open_page(browser, server, None)
    await choose_workflow(page, "count", COUNT_START)
    await page.fill("#start-body", "{not json")
    await page.click("#start-form button")
    await expect(page.locator("#start-error")).to_contain_text("start event: not JSON")
    await page.fill("#start-body", json.dumps({"count": 2}))
    await page.click("#start-form button")
    await expect(page.locator("#start-error")).to_contain_text("start_event: invalid Topic")

    await choose_workflow(page, "tally", {})
    await page.click("#start-form button")
    await expect(page.locator("#questions li")).to_have_text(["word? "])
    await expect(page.locator("#answer-type option")).to_have_text(["HumanResponseEvent", "Rating"])
    await page.select_option("#answer-type", "Rating")
    await page.fill("#answer-fields [name='response']", "fine")
    await page.fill("#answer-fields [name='stars']", "many")
    await page.click("#answer-form button")
    await expect(page.locator("#answer-error")).to_contain_text("stars: not JSON")
    await page.fill("#answer-fields [name='stars']", '"many"')
    await page.click("#answer-form button")
    await expect(page.locator("#answer-error")).to_contain_text(
        "event: invalid Rating (event.stars)"
    )
    await expect(page.locator("#answer-error")).to_contain_text("event.stars: Input should be")
    await expect(page.locator("#run-status")).to_have_text("running")
    await expect(page.locator("#questions li")).to_have_text(["word? "])


async def test_a_dropped_stream_resumes_after_the_last_event_seen(
    serve: Callable[..., RunningServer], browser: Browser
) -> None:
    """The first stream the page opens ends after two events, as a proxy that drops the
    connection would end it; the page reconnects with after_sequence=1 and shows every
    event once."""
    server = serve()
    page = await open_page(browser, server, None)
    requested: list[str] = []

    async def drop_after_two_events(route: Route) -> None:
        requested.append(route.request.url)
        if len(requested) > 1:
            await route.continue_()
            return
        async with (
            httpx.AsyncClient(base_url=server.url) as client,
            client.stream("GET", route.request.url) as response,
        ):
            frames: list[str] = []
            async for line in response.aiter_lines():
                frames.append(line)
                if line == "" and len([f for f in frames if f.startswith("id:")]) == 2:
                    break
        await route.fulfill(
            status=200, content_type="text/event-stream", body="\n".join(frames) + "\n"
        )

    await page.route("**/events/*", drop_after_two_events)
    await choose_workflow(page, "count", COUNT_START)
    await page.fill("#start-body", json.dumps({"topic": "t", "count": 5}))
    await page.click("#start-form button")
    events = page.locator("#events li")
    await expect(events.locator(".sequence")).to_have_text(["0", "1", "2", "3", "4", "5"])
    assert "after_sequence=-1" in requested[0]
    assert "after_sequence=1" in requested[1]
    await page.fill("#answer-fields [name='response']", "done")
    await page.click("#answer-form button")
    await expect(events.locator(".sequence")).to_have_text(["0", "1", "2", "3", "4", "5", "6"])
    await expect(page.locator("#run-status")).to_have_text("completed")
