"""tools.builtin.http: http_get over httpx (mocked at the wire by respx), address checks."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from tools import FunctionTool, URLNotAllowedError
from tools.builtin.http import WebTools, non_public_kind

PUBLIC_IP = "93.184.216.34"
ARTICLE = """<html><head><title>Otters</title></head><body>
<nav>Home | About | Contact</nav>
<article><h1>Otters</h1>
<p>Otters are semiaquatic mammals that eat fish and shellfish and live in rivers and along
coasts across much of the world.</p>
<p>Sea otters are known for using stones as tools to open shells.</p></article>
<footer>(c) 2024 Otter Facts</footer><script>var tracking = 1;</script></body></html>"""


async def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC_IP]


async def loopback_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC_IP, "127.0.0.1"]


async def unused_resolver(host: str, port: int) -> list[str]:
    raise AssertionError(f"a literal address must not be resolved ({host})")


def http_get(**options: object) -> FunctionTool:
    options.setdefault("resolver", public_resolver)
    (tool,) = WebTools(**options).to_tool_list()  # type: ignore[arg-type]
    return tool


@respx.mock
async def test_html_is_reduced_to_its_readable_text() -> None:
    route = respx.get(f"https://{PUBLIC_IP}/otters").respond(
        200, html=ARTICLE, headers={"content-type": "text/html; charset=utf-8"}
    )
    output = await http_get().acall(url="https://example.com/otters")
    assert not output.is_error, output.content
    assert "Sea otters are known for using stones" in output.content
    assert "var tracking" not in output.content
    assert "Home | About" not in output.content
    request = route.calls.last.request
    assert request.headers["user-agent"].startswith("agentflow-tools/")
    # Connected to the address that was checked, speaking to the host by name.
    assert request.url.host == PUBLIC_IP
    assert request.headers["host"] == "example.com"
    assert request.extensions["sni_hostname"] == "example.com"


@respx.mock
async def test_text_and_json_pass_through() -> None:
    respx.get(f"http://{PUBLIC_IP}/a.txt").respond(200, text="plain text")
    respx.get(f"http://{PUBLIC_IP}/a.json").respond(200, json={"a": 1})
    tool = http_get()
    assert (await tool.acall(url="http://example.com/a.txt")).content == "plain text"
    assert (await tool.acall(url="http://example.com/a.json")).content == '{"a":1}'


@respx.mock
async def test_body_is_capped_and_says_so() -> None:
    respx.get(f"http://{PUBLIC_IP}/big").respond(200, text="x" * 10_000)
    output = await http_get(max_bytes=100).acall(url="http://example.com/big")
    assert output.content == "x" * 100 + "\n[truncated: the response is longer than 100 bytes]"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1/admin", "loopback"),
        ("http://127.0.0.1:8080/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://10.0.0.5/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://100.64.0.1/", "non-global"),
    ],
)
async def test_non_public_addresses_are_refused_before_any_request(url: str, kind: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().respond(200, text="must not be fetched")
        output = await http_get(resolver=unused_resolver).acall(url=url)
    assert output.is_error
    assert output.content.startswith("Error: tool 'http_get' raised URLNotAllowedError: ")
    article = "an" if kind == "unspecified" else "a"
    assert f"{article} {kind} address; only public addresses may be fetched" in output.content
    assert isinstance(output.exception, URLNotAllowedError)
    assert not route.called


async def test_a_name_resolving_to_loopback_is_refused() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().respond(200)
        output = await http_get(resolver=loopback_resolver).acall(url="http://sneaky.test/")
    assert "host 'sneaky.test' is 127.0.0.1, a loopback address" in output.content
    assert not route.called


async def test_localhost_is_refused_with_the_system_resolver() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().respond(200)
        (tool,) = WebTools().to_tool_list()
        output = await tool.acall(url="http://localhost:8000/")
    assert output.is_error
    assert "a loopback address" in output.content
    assert not route.called


@respx.mock
async def test_allow_private_lets_loopback_through() -> None:
    respx.get("http://127.0.0.1:8000/health").respond(200, text="ok")
    output = await http_get(allow_private=True).acall(url="http://127.0.0.1:8000/health")
    assert (output.content, output.is_error) == ("ok", False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https URLs are allowed, not 'file'"),
        ("ftp://example.com/x", "only http and https URLs are allowed, not 'ftp'"),
        ("example.com/page", "only http and https URLs are allowed"),
        ("http:///nohost", "has no host"),
    ],
)
async def test_other_schemes_and_bad_urls_are_refused(url: str, message: str) -> None:
    output = await http_get().acall(url=url)
    assert output.is_error
    assert message in output.content


@respx.mock
async def test_redirects_are_followed_and_each_target_checked() -> None:
    respx.get(f"http://{PUBLIC_IP}/old").respond(301, headers={"location": "/new"})
    respx.get(f"http://{PUBLIC_IP}/new").respond(200, text="moved here")
    assert (await http_get().acall(url="http://example.com/old")).content == "moved here"


async def test_a_redirect_to_a_private_address_is_refused() -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"http://{PUBLIC_IP}/go").respond(
            302, headers={"location": "http://169.254.169.254/latest/meta-data/"}
        )
        inner = mock.get("http://169.254.169.254/latest/meta-data/").respond(200, text="keys")
        output = await http_get().acall(url="http://example.com/go")
    assert output.is_error
    assert "'http://169.254.169.254/latest/meta-data/'" in output.content
    assert "link-local address" in output.content
    assert not inner.called


@respx.mock
async def test_too_many_redirects() -> None:
    respx.get(f"http://{PUBLIC_IP}/loop").respond(302, headers={"location": "/loop"})
    output = await http_get(max_redirects=2).acall(url="http://example.com/loop")
    assert output.content == (
        "Error: tool 'http_get' raised FetchError: GET http://example.com/loop: more than 2 "
        "redirects"
    )


@respx.mock
async def test_error_status_non_text_and_transport_errors() -> None:
    respx.get(f"http://{PUBLIC_IP}/missing").respond(404)
    respx.get(f"http://{PUBLIC_IP}/logo.png").respond(
        200, content=b"\x89PNG", headers={"content-type": "image/png"}
    )
    respx.get(f"http://{PUBLIC_IP}/down").mock(side_effect=httpx.ConnectError("refused"))
    tool = http_get()
    missing = await tool.acall(url="http://example.com/missing")
    assert "FetchError: GET http://example.com/missing returned 404 Not Found" in missing.content
    image = await tool.acall(url="http://example.com/logo.png")
    assert "returned image/png, which is not text" in image.content
    down = await tool.acall(url="http://example.com/down")
    assert "FetchError: GET http://example.com/down failed: ConnectError: refused" in down.content


async def test_unresolvable_host() -> None:
    async def failing(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    output = await http_get(resolver=failing).acall(url="http://no-such-host.test/")
    assert "cannot resolve the host of 'http://no-such-host.test/'" in output.content


@respx.mock
async def test_a_hanging_server_is_stopped_by_the_fetch_deadline() -> None:
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()
        return httpx.Response(200)

    respx.get(f"http://{PUBLIC_IP}/slow").mock(side_effect=hang)
    output = await http_get(timeout=0.05).acall(url="http://example.com/slow")
    assert output.is_error
    assert "TimeoutError: GET http://example.com/slow took longer than 0.05 s" in output.content


def test_non_public_kind() -> None:
    assert non_public_kind(ipaddress.ip_address(PUBLIC_IP)) is None
    assert non_public_kind(ipaddress.ip_address("2606:4700::1111")) is None
    assert non_public_kind(ipaddress.ip_address("fe80::1")) == "link-local"
    assert non_public_kind(ipaddress.ip_address("fc00::1")) == "private"
    assert non_public_kind(ipaddress.ip_address("224.0.0.1")) == "multicast"
    assert non_public_kind(ipaddress.ip_address("240.0.0.1")) == "private"


@respx.mock
async def test_connection_is_pinned_to_the_checked_address() -> None:
    answers = iter([[PUBLIC_IP]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers, ["127.0.0.1"])  # a second lookup would say loopback

    route = respx.get(f"http://{PUBLIC_IP}:8080/x").respond(200, text="public")
    output = await http_get(resolver=rebinding).acall(url="http://example.com:8080/x")
    assert output.content == "public"
    assert route.calls.last.request.headers["host"] == "example.com:8080"
    assert "sni_hostname" not in route.calls.last.request.extensions


@respx.mock
async def test_compressed_body_is_capped_without_inflating_it_whole() -> None:
    import gzip
    import tracemalloc
    import zlib

    bomb = gzip.compress(b"x" * 50_000_000, compresslevel=9)  # about 50 KB on the wire

    async def on_the_wire() -> AsyncIterator[bytes]:  # as received: 64 KiB reads
        for start in range(0, len(bomb), 65_536):
            yield bomb[start : start + 65_536]

    respx.get(f"http://{PUBLIC_IP}/bomb").mock(
        return_value=httpx.Response(
            200,
            headers={"content-type": "text/plain", "content-encoding": "gzip"},
            content=on_the_wire(),
        )
    )
    deflated = zlib.compress(b"deflated text")
    respx.get(f"http://{PUBLIC_IP}/small").respond(
        200, content=deflated, headers={"content-type": "text/plain", "content-encoding": "deflate"}
    )
    respx.get(f"http://{PUBLIC_IP}/br").respond(
        200, content=b"?", headers={"content-type": "text/plain", "content-encoding": "br"}
    )
    tool = http_get(max_bytes=100)

    tracemalloc.start()
    try:
        output = await tool.acall(url="http://example.com/bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert output.content == "x" * 100 + "\n[truncated: the response is longer than 100 bytes]"
    assert peak < 5_000_000
    assert (await tool.acall(url="http://example.com/small")).content == "deflated text"
    unread = await tool.acall(url="http://example.com/br")
    assert unread.is_error
    assert "content encoding 'br'; only gzip and deflate are read" in unread.content


def test_6to4_addresses_are_judged_by_the_ipv4_address_inside() -> None:
    assert non_public_kind(ipaddress.ip_address("2002:7f00:1::1")) == "6to4 loopback"
    assert non_public_kind(ipaddress.ip_address("2002:a00:1::")) == "6to4 private"
    assert non_public_kind(ipaddress.ip_address("2002:a9fe:a9fe::")) == "6to4 link-local"
    assert non_public_kind(ipaddress.ip_address("2002:5db8:d822::1")) is None  # 93.184.216.34


async def test_a_name_resolving_to_6to4_loopback_is_refused() -> None:
    async def six_to_four(host: str, port: int) -> list[str]:
        return ["2002:7f00:1::1"]

    output = await http_get(resolver=six_to_four).acall(url="http://example.com/")
    assert output.is_error
    assert "is 2002:7f00:1::1, a 6to4 loopback address" in output.content


@respx.mock
async def test_html_extraction_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from tools.builtin import http as http_module

    threads: list[int] = []
    real = http_module._html_to_text

    def recording(html: str, url: str) -> str:
        threads.append(threading.get_ident())
        return real(html, url)

    monkeypatch.setattr(http_module, "_html_to_text", recording)
    respx.get(f"https://{PUBLIC_IP}/otters").respond(200, html=ARTICLE)
    output = await http_get().acall(url="https://example.com/otters")
    assert "Sea otters" in output.content
    assert threads
    assert threads[0] != threading.get_ident()  # not the event loop's thread


@respx.mock
async def test_reading_stops_at_the_end_of_the_compressed_body() -> None:
    import gzip

    sent = 0

    async def gzip_then_junk() -> AsyncIterator[bytes]:
        nonlocal sent
        yield gzip.compress(b"the text")
        for _ in range(1_000):  # a server that keeps sending after the gzip stream ends
            sent += 1
            yield b"\x00" * 65_536

    respx.get(f"http://{PUBLIC_IP}/junk").mock(
        return_value=httpx.Response(
            200,
            headers={"content-type": "text/plain", "content-encoding": "gzip"},
            content=gzip_then_junk(),
        )
    )
    output = await http_get().acall(url="http://example.com/junk")
    assert output.content == "the text"
    assert sent <= 1


@respx.mock
async def test_raw_deflate_without_zlib_header_is_read() -> None:
    import zlib

    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = compressor.compress(b"raw deflate text") + compressor.flush()
    respx.get(f"http://{PUBLIC_IP}/raw").respond(
        200, content=raw, headers={"content-type": "text/plain", "content-encoding": "deflate"}
    )
    output = await http_get().acall(url="http://example.com/raw")
    assert output.content == "raw deflate text"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("fec0::1", "site-local"),
        ("fed0:1234::5", "site-local"),
        ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local"),  # the end of fec0::/10
        ("::ffff:10.1.2.3", "private"),
        ("2002:a00:1::", "6to4 private"),
        ("64:ff9b::7f00:1", "NAT64 loopback"),  # well-known NAT64 prefix, 127.0.0.1 inside
        ("64:ff9b::a00:1", "NAT64 private"),
        ("64:ff9b::a9fe:a9fe", "NAT64 link-local"),
    ],
)
def test_every_ipv6_form_of_a_non_public_address_is_named(address: str, kind: str) -> None:
    assert non_public_kind(ipaddress.ip_address(address)) == kind


def test_public_ipv4_addresses_inside_ipv6_forms_are_public() -> None:
    assert non_public_kind(ipaddress.ip_address("::ffff:93.184.216.34")) is None
    assert non_public_kind(ipaddress.ip_address("64:ff9b::5db8:d822")) is None  # via NAT64
    assert non_public_kind(ipaddress.ip_address("febf::1")) == "link-local"  # before fec0::/10
    assert non_public_kind(ipaddress.ip_address("64:ff9b:1::5db8:d822")) is not None  # local NAT64


SITE_LOCAL = "fec0::1"


async def test_a_site_local_literal_is_refused_before_any_request() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().respond(200, text="must not be fetched")
        output = await http_get(resolver=unused_resolver).acall(url=f"http://[{SITE_LOCAL}]/")
    assert output.is_error
    assert f"is {SITE_LOCAL}, a site-local address; only public addresses" in output.content
    assert isinstance(output.exception, URLNotAllowedError)
    assert not route.called


async def test_a_name_resolving_to_site_local_is_refused() -> None:
    async def site_local(host: str, port: int) -> list[str]:
        return [PUBLIC_IP, SITE_LOCAL]

    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().respond(200)
        output = await http_get(resolver=site_local).acall(url="http://intranet.test/")
    assert output.is_error
    assert f"host 'intranet.test' is {SITE_LOCAL}, a site-local address" in output.content
    assert not route.called


async def test_a_redirect_to_a_site_local_address_is_refused() -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"http://{PUBLIC_IP}/go").respond(
            302, headers={"location": f"http://[{SITE_LOCAL}]/admin"}
        )
        inner = mock.get(f"http://[{SITE_LOCAL}]/admin").respond(200, text="secrets")
        output = await http_get().acall(url="http://example.com/go")
    assert output.is_error
    assert f"'http://[{SITE_LOCAL}]/admin': host '{SITE_LOCAL}' is {SITE_LOCAL}, a site-local" in (
        output.content
    )
    assert not inner.called
