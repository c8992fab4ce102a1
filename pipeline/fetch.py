"""Safe HTTP fetching for feeds and pages: conditional GET, manual redirects, caps on size and time.

One :class:`Fetcher` lives per worker process and keeps one ``httpx.Client`` (a keep-alive pool).
Every request goes through the SSRF guard (:mod:`pipeline.ssrf`), on every redirect hop, and is
bounded three ways: ``max_redirects`` hops, ``max_body_bytes`` both before and after decompression
(a decompression bomb stops at the cap), and ``fetch_timeout`` seconds of wall time for the whole
chain, slow-drip servers included. Failures are raised as :mod:`pipeline.errors` fetch errors:
retryable (timeouts, resets, 5xx, 429) or final (4xx, blocked, too large, too many redirects).
"""

from __future__ import annotations

import importlib
import ssl
import time
import zlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import ModuleType, TracebackType
from typing import Protocol

import httpcore
import httpx

from pipeline.errors import (
    BlockedAddressError,
    BodyTooLargeError,
    FinalFetchError,
    RetryableFetchError,
)
from pipeline.settings import Settings
from pipeline.ssrf import GuardedTransport, check_url


def _import_brotli() -> ModuleType | None:
    # httpx[brotli] installs brotli on CPython and brotlicffi on PyPy.
    for name in ("brotli", "brotlicffi"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None  # pragma: no cover


brotli = _import_brotli()

__all__ = ["FetchResult", "Fetcher", "parse_retry_after"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
# 408 is the server giving up on a slow request: as passing as a timeout on our side.
RETRYABLE_STATUSES = frozenset({408, 429})
RETRY_AFTER_STATUSES = frozenset({429, 503})
ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"

_PIECE = 64 * 1024  # the most one decompression step may produce, so a bomb cannot burst past the cap
_DRAIN = 64 * 1024  # bodies of redirects and errors up to this size are read so the connection is reused


@dataclass(frozen=True)
class FetchResult:
    """What one fetch got: the final URL, status, headers and the decoded body."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    permanent_redirect: str | None

    @property
    def not_modified(self) -> bool:
        """True for a 304: the caller's copy is current and there is nothing to parse."""
        return self.status == 304


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


# The deadline of the fetch running in this thread. The network streams read it so that no single
# socket operation outlives the request's total time cap, even while headers trickle in slowly.
_DEADLINE: ContextVar[float | None] = ContextVar("newsflow_fetch_deadline", default=None)


def _capped(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request went over its total time cap")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read and write ends by the current fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    """The stdlib socket backend, with connects and streams bounded by the fetch deadline."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        stream = super().connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream)


class _DecodeError(Exception):
    pass


class _Identity:
    def decode(self, data: bytes) -> Iterator[bytes]:
        yield data

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _Zlib:
    """gzip or deflate, in output pieces of at most _PIECE bytes."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        # Many servers send raw deflate for "deflate"; try the zlib wrapper first, like httpx does.
        self._wbits = zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(self._wbits)
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        while data and not self._inflater.eof:
            try:
                piece = self._inflater.decompress(data, _PIECE)
            except zlib.error as exc:
                if self._encoding == "deflate" and not self._started and self._wbits > 0:
                    self._wbits = -zlib.MAX_WBITS
                    self._inflater = zlib.decompressobj(self._wbits)
                    continue
                raise _DecodeError(f"{self._encoding}: {exc}") from exc
            self._started = True
            data = self._inflater.unconsumed_tail
            if piece:
                yield piece

    def flush(self) -> Iterator[bytes]:
        try:
            piece = self._inflater.flush()
        except zlib.error as exc:  # pragma: no cover - flush rarely fails
            raise _DecodeError(f"{self._encoding}: {exc}") from exc
        if piece:
            yield piece


class _Brotli:
    """brotli, in bounded output pieces where the library allows it (brotli >= 1.2)."""

    def __init__(self) -> None:
        assert brotli is not None
        self._decompressor = brotli.Decompressor()
        self._error: type[Exception] = brotli.error
        self._bounded = hasattr(self._decompressor, "can_accept_more_data")

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            if self._bounded:
                piece = self._decompressor.process(data, output_buffer_limit=_PIECE)
                # Drain until it gives nothing: can_accept_more_data() turns True early at some
                # block boundaries while output is still pending (brotli 1.2.1).
                while piece:
                    yield piece
                    piece = self._decompressor.process(b"", output_buffer_limit=_PIECE)
            else:  # pragma: no cover - older brotli: small inputs keep each burst small
                for start in range(0, len(data), 1024):
                    yield self._decompressor.process(data[start : start + 1024])
        except self._error as exc:
            raise _DecodeError(f"br: {exc}") from exc

    def flush(self) -> Iterator[bytes]:
        yield from ()


_Decoder = _Identity | _Zlib | _Brotli


def _decoders(content_encoding: str | None) -> list[_Decoder]:
    # Encodings are listed in the order they were applied, so they are undone in reverse.
    decoders: list[_Decoder] = []
    for name in reversed([p.strip().lower() for p in (content_encoding or "").split(",")]):
        if name in ("gzip", "x-gzip"):
            decoders.append(_Zlib("gzip"))
        elif name == "deflate":
            decoders.append(_Zlib("deflate"))
        elif name == "br" and brotli is not None:
            decoders.append(_Brotli())
        # "identity" and unknown names pass through untouched, as httpx does.
    return decoders or [_Identity()]


def _decode(decoders: list[_Decoder], data: bytes, *, final: bool = False) -> Iterator[bytes]:
    pieces: Iterable[bytes] = [data]
    for decoder in decoders:
        pieces = _through(decoder, pieces, final)
    yield from pieces


def _through(decoder: _Decoder, pieces: Iterable[bytes], final: bool) -> Iterator[bytes]:
    for piece in pieces:
        if piece:
            yield from decoder.decode(piece)
    if final:
        yield from decoder.flush()


def _doing(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connecting"
    if isinstance(exc, httpx.PoolTimeout):
        return "waiting for a free connection"
    return "waiting for the response"


class SupportsFetch(Protocol):
    """What the stages need of a fetcher: a Fetcher, or a wrapper such as PoliteFetcher."""

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              accept: str = "*/*") -> FetchResult:
        """Fetch ``url``."""
        ...


class Fetcher:
    """A long-lived, SSRF-guarded HTTP client with caps on redirects, size and time."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> None:
        self._settings = settings
        self._allowed = settings.allowed_networks
        self._client = httpx.Client(
            transport=transport or GuardedTransport(self._allowed, backend=_DeadlineBackend()),
            follow_redirects=False,
            # Proxies from the environment would resolve names themselves, behind the guard's back.
            trust_env=False,
            # A worker-wide cookie jar would grow forever and leak state between feeds; cookies are
            # kept per fetch instead, so a site that sets one and redirects still works.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            headers={"User-Agent": settings.effective_user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
    ) -> FetchResult:
        """GET ``url`` (conditionally when given validators), following redirects within the caps."""
        token = _DEADLINE.set(time.monotonic() + self._settings.fetch_timeout)
        try:
            return self._fetch(url, etag, last_modified, accept)
        finally:
            _DEADLINE.reset(token)

    def _fetch(self, url: str, etag: str | None, last_modified: str | None, accept: str) -> FetchResult:
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        cookies = httpx.Cookies()
        current = self._parse(url)
        visited = {str(current)}
        permanent: str | None = None
        chain_permanent = True
        for hop in range(self._settings.max_redirects + 1):
            response = self._send(url, current, headers, cookies)
            try:
                status = response.status_code
                if status not in REDIRECT_STATUSES:
                    return self._finish(url, current, response, permanent, etag, last_modified)
                location = response.headers.get("location")
                if not location:
                    raise FinalFetchError(f"HTTP {status} redirect without a Location header", url=url, status=status)
                try:
                    target = current.join(location)
                except httpx.InvalidURL as exc:
                    raise FinalFetchError(f"HTTP {status} to an invalid Location {location!r}", url=url) from exc
                # Only a chain of permanent hops from the start moves the feed; a 302 anywhere stops it.
                chain_permanent = chain_permanent and status in PERMANENT_REDIRECTS
                if chain_permanent:
                    permanent = str(target)
                if str(target) in visited:
                    raise FinalFetchError(f"redirect loop: {current} -> {target}", url=url, status=status)
                if hop == self._settings.max_redirects:
                    break
                visited.add(str(target))
                self._drain(response)
                current = target
            finally:
                response.close()
        raise FinalFetchError(f"more than {self._settings.max_redirects} redirects", url=url)

    def _parse(self, url: str) -> httpx.URL:
        try:
            return httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FinalFetchError(f"not a valid URL: {exc}", url=url) from exc

    def _send(self, url: str, current: httpx.URL, headers: dict[str, str], cookies: httpx.Cookies) -> httpx.Response:
        where = "" if str(current) == url else f"redirect to {current}: "
        try:
            # Scheme and address literals are refused here; names are resolved and checked by the
            # transport when it connects, so the address checked is the address connected to.
            check_url(str(current), self._allowed)
            request = self._client.build_request("GET", current, headers=headers, timeout=self._timeout(url))
            cookies.set_cookie_header(request)
            response = self._client.send(request, stream=True)
        except BlockedAddressError as exc:
            raise BlockedAddressError(where + exc.message, url=url) from exc
        except httpx.TimeoutException as exc:
            raise RetryableFetchError(f"{where}timed out {_doing(exc)}", url=url) from exc
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL) as exc:
            raise FinalFetchError(f"{where}cannot send the request: {exc}", url=url) from exc
        except httpx.TransportError as exc:
            raise RetryableFetchError(f"{where}connection failed: {exc or type(exc).__name__}", url=url) from exc
        cookies.extract_cookies(response)
        return response

    def _timeout(self, url: str) -> httpx.Timeout:
        deadline = _DEADLINE.get()
        left = self._settings.fetch_timeout if deadline is None else deadline - time.monotonic()
        if left <= 0:
            raise RetryableFetchError(f"took longer than {self._settings.fetch_timeout:g}s", url=url)
        return httpx.Timeout(left, connect=min(self._settings.connect_timeout, left))

    def _finish(
        self,
        url: str,
        current: httpx.URL,
        response: httpx.Response,
        permanent: str | None,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        status = response.status_code
        where = "" if str(current) == url else f" from the redirect target {current}"
        if status == 304:
            # A 304 may omit the validators; the ones sent are still the current ones then.
            return self._result(current, response, b"", permanent, etag, last_modified)
        if 200 <= status < 300:
            body = self._read(url, response)
            return self._result(current, response, body, permanent, None, None)
        message = f"HTTP {status} {response.reason_phrase}".rstrip() + where
        self._drain(response)
        if status in RETRYABLE_STATUSES or 500 <= status < 600:
            retry_after = None
            if status in RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise RetryableFetchError(message, url=url, status=status, retry_after=retry_after)
        raise FinalFetchError(message, url=url, status=status)

    def _result(
        self,
        current: httpx.URL,
        response: httpx.Response,
        body: bytes,
        permanent: str | None,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        headers = dict(response.headers.items())
        return FetchResult(
            url=str(current),
            status=response.status_code,
            headers=headers,
            body=body,
            etag=headers.get("etag") or etag,
            last_modified=headers.get("last-modified") or last_modified,
            content_type=headers.get("content-type"),
            permanent_redirect=permanent,
        )

    def _read(self, url: str, response: httpx.Response) -> bytes:
        cap = self._settings.max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise BodyTooLargeError(f"body of {declared} bytes is over the cap of {cap}", url=url)
        decoders = _decoders(response.headers.get("content-encoding"))
        chunks: Iterable[bytes] = response.iter_raw()
        if response.is_stream_consumed:
            # A transport that read the body itself (httpx.MockTransport): httpx decoded it already.
            decoders, chunks = [_Identity()], [response.content]
        body = bytearray()
        received = 0
        try:
            for chunk in chunks:
                received += len(chunk)
                if received > cap:
                    raise BodyTooLargeError(f"body is over the cap of {cap} bytes", url=url)
                self._append(url, body, _decode(decoders, chunk), cap)
                # The streams enforce the deadline for the default transport; this covers any other.
                self._check_deadline(url)
            self._append(url, body, _decode(decoders, b"", final=True), cap)
        except _DecodeError as exc:
            raise FinalFetchError(f"could not decode the body: {exc}", url=url) from exc
        except httpx.TimeoutException as exc:
            raise RetryableFetchError(
                f"took longer than {self._settings.fetch_timeout:g}s reading the body", url=url
            ) from exc
        except httpx.TransportError as exc:
            raise RetryableFetchError(f"connection failed reading the body: {exc}", url=url) from exc
        return bytes(body)

    def _append(self, url: str, body: bytearray, pieces: Iterator[bytes], cap: int) -> None:
        for piece in pieces:
            body += piece
            if len(body) > cap:
                raise BodyTooLargeError(f"decompressed body is over the cap of {cap} bytes", url=url)

    def _check_deadline(self, url: str) -> None:
        deadline = _DEADLINE.get()
        if deadline is not None and time.monotonic() > deadline:
            raise RetryableFetchError(f"took longer than {self._settings.fetch_timeout:g}s", url=url)

    def _drain(self, response: httpx.Response) -> None:
        """Read a small unwanted body so the connection goes back to the pool; give up on a big one."""
        declared = response.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > _DRAIN:
            return
        try:
            for _ in response.iter_raw():
                pass
        except httpx.HTTPError:
            pass
