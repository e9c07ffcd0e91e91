"""`http_get`: fetch a URL for an LLM, safely, and return the page's readable text.

Guards, in order: only `http`/`https`; the host is resolved and every address it has must
be public (loopback, private, link-local, site-local, reserved, multicast and unspecified
addresses are refused unless `allow_private=True`, also inside IPv6 forms that carry an
IPv4 address: see `non_public_kind`), and so must the target of every redirect,
which is followed by hand; one deadline covers the whole fetch; at most `max_bytes` are
read, after decompression (gzip and deflate, inflated a capped piece at a time). HTML is
reduced to its main text by trafilatura; other text types pass through.

The connection goes to the address that was checked (the URL carries the address, the
Host header and TLS server name the host name), so a DNS server answering differently on
a second lookup (rebinding) cannot redirect it. httpx and trafilatura (the `web` extra)
are imported when a fetch runs, so this module imports without them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tools.errors import FetchError, URLNotAllowedError
from tools.spec import ToolSpec
from tools.threads import run_in_thread

if TYPE_CHECKING:
    import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Host and port -> the IP addresses the host has (`system_resolver` by default)."""

_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver (`getaddrinfo`), off the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class WebTools(ToolSpec):
    """`WebTools().to_tool_list()` gives the `http_get` tool with these limits."""

    spec_functions = ("http_get",)

    def __init__(
        self,
        timeout: float = 15.0,
        max_bytes: int = 2_000_000,
        allow_private: bool = False,
        max_redirects: int = 5,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = "agentflow-tools/0.1 (+http_get)",
    ) -> None:
        self.timeout = timeout
        """Seconds for the whole fetch, redirects included."""
        self.max_bytes = max_bytes
        """Bytes of a response body read at most; the text says when it was cut."""
        self.allow_private = allow_private
        """Allow loopback, private and other non-public addresses (off by default)."""
        self.max_redirects = max_redirects
        """Redirects followed at most."""
        self.resolver = resolver
        """How host names become addresses for the public-address check."""
        self.transport = transport
        """An httpx transport to send through (None: httpx's default)."""
        self.user_agent = user_agent
        """The User-Agent header sent."""

    async def http_get(self, url: str) -> str:
        """Fetch a web page or text document and return its readable text.

        Args:
            url: The http:// or https:// URL to fetch.
        """
        from agentflow.extras import extra_needed  # here: `import tools` loads no agentflow

        with extra_needed("web", "http_get"):
            import httpx
        try:
            async with asyncio.timeout(self.timeout):
                return await self._fetch(url)
        except TimeoutError as error:
            raise TimeoutError(f"GET {url} took longer than {self.timeout} s") from error
        except httpx.HTTPError as error:  # connection refused, TLS, protocol errors...
            raise FetchError(f"GET {url} failed: {type(error).__name__}: {error}") from error

    async def _fetch(self, url: str) -> str:
        import httpx

        async with httpx.AsyncClient(
            transport=self.transport,
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"},
        ) as client:
            current = url
            for _ in range(self.max_redirects + 1):
                address = await self.check_url(current)
                request = _pinned_request(client, httpx.URL(current), address)
                response = await client.send(request, stream=True)
                try:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        current = str(httpx.URL(current).join(location))
                        continue
                    if response.is_error:
                        raise FetchError(
                            f"GET {current} returned {response.status_code} "
                            f"{response.reason_phrase}"
                        )
                    body, truncated = await self._read_capped(current, response)
                    return await self._readable_text(current, response, body, truncated)
                finally:
                    await response.aclose()
        raise FetchError(f"GET {url}: more than {self.max_redirects} redirects")

    async def check_url(self, url: str) -> str | None:
        """The checked address to connect to for `url`, after refusing (with
        `URLNotAllowedError`) anything but http(s) on public addresses. None when
        `allow_private` is set: then httpx resolves and connects as usual."""
        import httpx

        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise URLNotAllowedError(f"{url!r} is not a valid URL: {error}") from error
        if parsed.scheme not in ("http", "https"):
            raise URLNotAllowedError(
                f"{url!r}: only http and https URLs are allowed, not {parsed.scheme or 'none'!r}"
            )
        if not parsed.host:
            raise URLNotAllowedError(f"{url!r} has no host")
        if self.allow_private:
            return None
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = [str(ipaddress.ip_address(parsed.host))]
        except ValueError:
            try:
                addresses = await self.resolver(parsed.host, port)
            except OSError as error:
                raise FetchError(f"cannot resolve the host of {url!r}: {error}") from error
        if not addresses:
            raise FetchError(f"the host of {url!r} has no addresses")
        for address in addresses:
            kind = non_public_kind(ipaddress.ip_address(address))
            if kind is not None:
                raise URLNotAllowedError(
                    f"{url!r}: host {parsed.host!r} is {address}, "
                    f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address; only "
                    "public addresses may be fetched"
                )
        return addresses[0]

    async def _read_capped(self, url: str, response: httpx.Response) -> tuple[bytes, bool]:
        # The body is decompressed here, never more than the cap at a time: httpx would
        # inflate each received chunk whole, and 64 KiB of gzip can hold 64 MB of zeros.
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity"):
            decompressor = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            decompressor = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        else:
            raise FetchError(
                f"GET {url} returned a body in content encoding "
                f"{encoding!r}; only gzip and deflate are read"
            )
        chunks: list[bytes] = []
        size = 0
        started = False  # whether the decompressor has taken any input
        async for raw in response.aiter_raw():
            pending = raw
            while pending:
                if decompressor is None:
                    piece, pending = pending, b""
                else:
                    try:
                        piece = decompressor.decompress(pending, self.max_bytes + 1 - size)
                    except zlib.error as error:
                        if encoding == "deflate" and not started:
                            # Some servers send raw deflate, without the zlib header.
                            decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                            started = True
                            continue
                        raise FetchError(
                            f"GET {url}: the {encoding} body is corrupt: {error}"
                        ) from error
                    started = True
                    pending = decompressor.unconsumed_tail
                    if decompressor.eof:
                        pending = b""
                chunks.append(piece)
                size += len(piece)
                if size > self.max_bytes:
                    return b"".join(chunks)[: self.max_bytes], True
            if decompressor is not None and decompressor.eof:
                break  # the compressed body is complete: whatever follows is not read
        return b"".join(chunks), False

    async def _readable_text(
        self, url: str, response: httpx.Response, body: bytes, truncated: bool
    ) -> str:
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            text = body.decode(response.charset_encoding or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            text = body.decode("utf-8", errors="replace")
        if content_type in _HTML_TYPES:
            # Extraction takes a while on a large page: in a thread, so the event loop runs
            # on and the fetch's deadline can end the wait.
            text = await run_in_thread(_html_to_text, text, url)
        elif not (content_type.startswith("text/") or content_type in _TEXT_TYPES):
            raise FetchError(
                f"GET {url} returned {content_type or 'no content type'}, which is not text"
            )
        if truncated:
            text += f"\n[truncated: the response is longer than {self.max_bytes} bytes]"
        return text


def non_public_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `address` is not a public internet address ("loopback", "private", ...), or
    None for a public one.

    An IPv6 address carrying an IPv4 address the network delivers to is judged by that
    address: mapped (::ffff:0:0/96), 6to4 (2002::/16) and the well-known NAT64 prefix
    (64:ff9b::/96). Site-local addresses (fec0::/10, deprecated but still routed inside
    some networks) are refused by name: `ipaddress` counts them as global.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return non_public_kind(address.ipv4_mapped)
        if address.sixtofour is not None:
            embedded = non_public_kind(address.sixtofour)
            if embedded is not None:
                return f"6to4 {embedded}"
        if address in _NAT64_WELL_KNOWN:
            embedded = non_public_kind(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
            return None if embedded is None else f"NAT64 {embedded}"
        if address.is_site_local:
            return "site-local"
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-global", not address.is_global),
    )
    return next((kind for kind, matches in checks if matches), None)


_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
"""RFC 6052's prefix: a NAT64 gateway delivers 64:ff9b::a.b.c.d to the IPv4 a.b.c.d."""


def _pinned_request(
    client: httpx.AsyncClient, url: httpx.URL, address: str | None
) -> httpx.Request:
    """A GET for `url` that connects to the address that was checked, not to whatever a
    second DNS lookup returns: the URL gets the address, the Host header and the TLS
    server name (SNI, and so certificate checks) keep the host name."""
    if address is None or address == url.host:
        return client.build_request("GET", url)
    return client.build_request(
        "GET",
        url.copy_with(host=address),
        headers={"Host": url.netloc.decode("ascii")},
        extensions={"sni_hostname": url.host} if url.scheme == "https" else {},
    )


def _html_to_text(html: str, url: str) -> str:
    from agentflow.extras import extra_needed

    with extra_needed("web", "http_get"):
        import trafilatura

    extracted = trafilatura.extract(html, url=url, include_tables=True, include_links=False)
    return extracted or trafilatura.html2txt(html)
