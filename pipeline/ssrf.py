"""The SSRF guard: which addresses newsflow may connect to, and a transport that connects only there.

A URL is refused unless its scheme is http or https and *every* address its host resolves to is
public, or inside ``NEWSFLOW_ALLOW_NETWORKS``. The check and the connection share one DNS lookup:
:class:`GuardedBackend` is an httpcore network backend, so httpcore hands it the hostname at the
moment it opens a connection; it resolves the name, checks all answers and connects to one of those
literal addresses. A rebinding DNS server therefore has no second lookup to answer differently.
TLS is unaffected: httpcore still runs the handshake with the URL's hostname (SNI and certificate
check), and the pool keys connections by hostname, so a kept-alive connection is only reused for
the origin whose address was checked. :class:`GuardedTransport` puts that backend under httpx.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from types import TracebackType

import httpcore
import httpx

from pipeline.errors import BlockedAddressError

__all__ = [
    "ALLOWED_SCHEMES",
    "Address",
    "Network",
    "Resolver",
    "blocked_reason",
    "check_address",
    "check_url",
    "resolve",
    "guarded_addresses",
    "GuardedBackend",
    "GuardedTransport",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses``; the default is :func:`resolve` (getaddrinfo)."""

ALLOWED_SCHEMES = frozenset({"http", "https"})

# NAT64 (RFC 6052) embeds an IPv4 address in its last 32 bits; Python does not unwrap it for us.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _translated_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that an IPv4-mapped or NAT64 IPv6 address really reaches."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses carried inside a tunnelling IPv6 address (6to4, Teredo)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [address.sixtofour] if address.sixtofour is not None else []
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def _classify(address: Address) -> str | None:
    # Order matters only for the message: the most specific reason first.
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    # Catches what the flags above miss, e.g. 100.64.0.0/10 (carrier-grade NAT).
    if not address.is_global:
        return "not globally routable"
    return None


def blocked_reason(address: Address, allowed: Iterable[Network] = ()) -> str | None:
    """Why connecting to ``address`` is refused, or None when it is allowed."""
    networks = tuple(allowed)
    translated = _translated_ipv4(address)
    if translated is not None:
        # The packets go to the IPv4 address, so it alone decides (NAT64 to a public site is fine).
        reason = blocked_reason(translated, networks)
        return None if reason is None else f"{reason} ({translated} inside {address})"
    # A tunnel's inner IPv4 first: it names the reason better than the IPv6 wrapper does.
    candidates: list[Address] = [*_embedded_ipv4(address), address]
    for candidate in candidates:
        if any(candidate.version == net.version and candidate in net for net in networks):
            return None
    for candidate in candidates:
        reason = _classify(candidate)
        if reason is not None:
            return reason if candidate is address else f"{reason} ({candidate} inside {address})"
    return None


def _parse_address(text: str) -> Address:
    # getaddrinfo gives IPv6 link-local answers a "%zone" suffix; the zone does not change the class.
    return ipaddress.ip_address(text.split("%", 1)[0])


def _literal(host: str) -> Address | None:
    """The address a host names by itself, also in the legacy forms "2130706433", "127.1", "0x7f.1"."""
    try:
        return _parse_address(host.strip("[]"))
    except ValueError:
        pass
    # getaddrinfo would read these as numbers too (inet_aton); parse them here so that they are
    # checked before any connection and never reach a resolver as names.
    if host and not host.strip("0123456789abcdefxABCDEFX."):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_address(address: str, allowed: Iterable[Network] = (), *, host: str | None = None) -> Address:
    """Return the parsed ``address``, or raise BlockedAddressError when the guard refuses it."""
    parsed = _parse_address(address)
    reason = blocked_reason(parsed, allowed)
    if reason is not None:
        via = f"{host} resolves to " if host and _literal(host) is None else ""
        raise BlockedAddressError(
            f"refused to connect: {via}{parsed}, which is {reason} "
            "(open it with NEWSFLOW_ALLOW_NETWORKS if this is intended)"
        )
    return parsed


def resolve(host: str, port: int) -> list[str]:
    """All addresses of ``host`` (one getaddrinfo call), in the resolver's order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def guarded_addresses(
    host: str, port: int, allowed: Iterable[Network] = (), *, resolver: Resolver | None = None
) -> list[str]:
    """Resolve ``host`` once and return its addresses; refuse when any of them is blocked."""
    networks = tuple(allowed)
    literal = _literal(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = list((resolver or resolve)(host, port))
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"could not resolve {host}: no addresses")
    # Every answer is checked, not just the first: the socket layer may fall back to any of them.
    for address in addresses:
        check_address(address, networks, host=host)
    return addresses


def check_url(
    url: str, allowed: Iterable[Network] = (), *, resolver: Resolver | None = None
) -> None:
    """Refuse ``url`` unless it is http(s) with an allowed host; names are resolved only given a resolver."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise BlockedAddressError(f"not a valid URL: {exc}", url=url) from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise BlockedAddressError(f"scheme {parsed.scheme!r} is not allowed, only http and https", url=url)
    if not parsed.host:
        raise BlockedAddressError("URL has no host", url=url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        literal = _literal(parsed.host)
        if literal is not None:
            check_address(str(literal), allowed)
        elif resolver is not None:
            guarded_addresses(parsed.host, port, allowed, resolver=resolver)
    except BlockedAddressError as exc:
        raise BlockedAddressError(exc.message, url=url) from exc


class GuardedBackend(httpcore.NetworkBackend):
    """An httpcore network backend that resolves, checks, then connects to a checked address."""

    def __init__(
        self,
        allowed: Iterable[Network] = (),
        *,
        resolver: Resolver | None = None,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self._allowed = tuple(allowed)
        self._resolver = resolver or resolve
        self._inner = inner or httpcore.SyncBackend()
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def _resolve_within(self, timeout: float | None) -> Resolver:
        # getaddrinfo has no timeout of its own; a dead name server would hold the worker for as long
        # as resolv.conf allows, so the lookup runs in a helper thread and counts as connect time.
        if timeout is None:
            return self._resolver

        def resolver(host: str, port: int) -> Sequence[str]:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsflow-dns")
                future = self._executor.submit(self._resolver, host, port)
            try:
                return future.result(timeout)
            except FutureTimeout:
                future.cancel()
                raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout:g}s") from None

        return resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect to the first reachable checked address of ``host``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        addresses = guarded_addresses(host, port, self._allowed, resolver=self._resolve_within(timeout))
        last: Exception | None = None
        for address in addresses:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
            try:
                # An address literal: the socket layer parses it and does no lookup of its own.
                return self._inner.connect_tcp(
                    address, port, timeout=left, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Refuse: a unix socket is never a feed."""
        raise BlockedAddressError(f"refused to connect to the unix socket {path}")

    def sleep(self, seconds: float) -> None:
        """Sleep between connection retries."""
        self._inner.sleep(seconds)

    def close(self) -> None:
        """Stop the lookup threads; a lookup still stuck in getaddrinfo ends on its own."""
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None


# Most specific first: the first match wins.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    # The same translation httpx's own HTTPTransport does, so callers see only httpx errors.
    try:
        yield
    except Exception as exc:
        for source, target in _EXCEPTIONS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            with _httpx_errors():
                close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport (HTTP/1.1, keep-alive pool, no proxies) that connects only to checked addresses."""

    def __init__(
        self,
        allowed: Iterable[Network] = (),
        *,
        resolver: Resolver | None = None,
        backend: httpcore.NetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
    ) -> None:
        self._backend = GuardedBackend(allowed, resolver=resolver, inner=backend)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            retries=0,
            network_backend=self._backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request through the guarded pool."""
        if request.url.scheme not in ALLOWED_SCHEMES:
            raise BlockedAddressError(f"scheme {request.url.scheme!r} is not allowed", url=str(request.url))
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = self._pool.handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()
        self._backend.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.close()
