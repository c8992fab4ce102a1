"""The fetcher against a real HTTP server on 127.0.0.1: statuses, redirects, encodings, caps, the guard."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import brotli
import httpx
import pytest

from pipeline.errors import (
    BlockedAddressError,
    BodyTooLargeError,
    FinalFetchError,
    RetryableFetchError,
)
from pipeline.fetch import Fetcher, parse_retry_after
from pipeline.settings import Settings

CAP = 100_000
FEED = b"<rss><channel><title>t</title></channel></rss>" * 50
BOMB_GZIP = gzip.compress(b"\0" * (CAP * 50))
BOMB_BR = brotli.compress(b"\0" * (CAP * 50))

Route = Callable[["Handler"], None]
ROUTES: dict[str, Route] = {}


def route(path: str) -> Callable[[Route], Route]:
    def register(fn: Route) -> Route:
        ROUTES[path] = fn
        return fn

    return register


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real feed servers do

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        path = urlsplit(self.path).path
        for prefix in sorted(ROUTES, key=len, reverse=True):
            if path.startswith(prefix):
                ROUTES[prefix](self)
                return
        self.reply(404, b"not found")

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, status: int, location: str) -> None:
        self.reply(status, b"moved", {"Location": location})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hang up on purpose in the cap tests


@route("/ok")
def _ok(h: Handler) -> None:
    h.reply(200, FEED, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": '"v1"',
                        "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT", "X-Echo-UA": h.headers["User-Agent"],
                        "X-Echo-Host": h.headers["Host"]})


@route("/cond")
def _cond(h: Handler) -> None:
    if h.headers.get("If-None-Match") == '"v1"' or h.headers.get("If-Modified-Since"):
        h.reply(304)
    else:
        h.reply(200, FEED, {"ETag": '"v1"'})


@route("/redir/")
def _redir(h: Handler) -> None:
    # /redir/301/redir/302/ok -> 301 to /redir/302/ok -> 302 to /ok
    _, _, code, rest = h.path.split("/", 3)
    h.redirect(int(code), "/" + rest)


@route("/relative/page")
def _relative(h: Handler) -> None:
    h.redirect(302, "../ok")


@route("/loop/a")
def _loop_a(h: Handler) -> None:
    h.redirect(302, "/loop/b")


@route("/loop/b")
def _loop_b(h: Handler) -> None:
    h.redirect(302, "/loop/a")


@route("/chain/")
def _chain(h: Handler) -> None:
    left = int(h.path.rsplit("/", 1)[1])
    h.redirect(302, f"/chain/{left - 1}" if left > 0 else "/ok")


@route("/to")
def _to(h: Handler) -> None:
    h.redirect(302, h.query["url"])


@route("/status/")
def _status(h: Handler) -> None:
    code = int(urlsplit(h.path).path.rsplit("/", 1)[1])
    headers = {"Retry-After": h.query["retry"]} if "retry" in h.query else {}
    h.reply(code, b"error page", headers)


@route("/gzip")
def _gzip(h: Handler) -> None:
    h.reply(200, gzip.compress(FEED), {"Content-Encoding": "gzip"})


@route("/deflate")
def _deflate(h: Handler) -> None:
    h.reply(200, zlib.compress(FEED), {"Content-Encoding": "deflate"})


@route("/rawdeflate")
def _raw_deflate(h: Handler) -> None:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    h.reply(200, packer.compress(FEED) + packer.flush(), {"Content-Encoding": "deflate"})


@route("/br")
def _br(h: Handler) -> None:
    h.reply(200, brotli.compress(FEED), {"Content-Encoding": "br"})


@route("/bomb/gzip")
def _bomb_gzip(h: Handler) -> None:
    h.reply(200, BOMB_GZIP, {"Content-Encoding": "gzip"})


@route("/bomb/br")
def _bomb_br(h: Handler) -> None:
    h.reply(200, BOMB_BR, {"Content-Encoding": "br"})


@route("/corrupt")
def _corrupt(h: Handler) -> None:
    h.reply(200, b"\x1f\x8b\x08\x00garbage-not-gzip", {"Content-Encoding": "gzip"})


@route("/big/declared")
def _big_declared(h: Handler) -> None:
    h.reply(200, b"x" * (CAP + 1))


@route("/big/undeclared")
def _big_undeclared(h: Handler) -> None:
    # No Content-Length: the size is only known by reading, and the reader must stop at the cap.
    h.send_response(200)
    h.send_header("Connection", "close")
    h.end_headers()
    try:
        for _ in range(50):
            h.wfile.write(b"x" * 10_000)
    except OSError:
        pass
    h.close_connection = True


@route("/drip/body")
def _drip_body(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "1000")
    h.end_headers()
    _drip(h, b"x" * 1000)


@route("/drip/headers")
def _drip_headers(h: Handler) -> None:
    _drip(h, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 1000 + b"\r\n\r\n")


def _drip(h: Handler, data: bytes) -> None:
    # One byte every 20 ms: each read succeeds quickly, only the total time cap can end it.
    try:
        for byte in data:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            time.sleep(0.02)
    except OSError:
        pass
    h.close_connection = True


@route("/reset")
def _reset(h: Handler) -> None:
    h.connection.shutdown(socket.SHUT_RDWR)
    h.close_connection = True


@route("/cookie/set")
def _cookie_set(h: Handler) -> None:
    h.reply(302, b"", {"Location": "/cookie/check", "Set-Cookie": "seen=1; Path=/"})


@route("/cookie/check")
def _cookie_check(h: Handler) -> None:
    h.reply(200 if "seen=1" in h.headers.get("Cookie", "") else 403, b"cookie")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def make_fetcher(**overrides: object) -> Fetcher:
    options: dict[str, object] = {"allow_networks": "127.0.0.0/8", "max_body_bytes": CAP, "fetch_timeout": 2.0,
                                  "max_redirects": 5, "user_agent": "newsflow-test/1"}
    options.update(overrides)
    return Fetcher(Settings(**options))  # type: ignore[arg-type]


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with make_fetcher() as f:
        yield f


def test_ok(server: str, fetcher: Fetcher) -> None:
    result = fetcher.fetch(server + "/ok", accept="application/rss+xml")
    assert result.status == 200 and not result.not_modified
    assert result.body == FEED
    assert result.url == server + "/ok"
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert result.headers["x-echo-ua"] == "newsflow-test/1"
    assert result.permanent_redirect is None


def test_conditional_get_gives_304(server: str, fetcher: Fetcher) -> None:
    assert fetcher.fetch(server + "/cond").status == 200
    result = fetcher.fetch(server + "/cond", etag='"v1"')
    assert result.not_modified and result.status == 304 and result.body == b""
    assert result.etag == '"v1"'  # kept from the request when the 304 omits it
    assert fetcher.fetch(server + "/cond", last_modified="Mon, 01 Jan 2024 00:00:00 GMT").not_modified


@pytest.mark.parametrize(
    ("path", "permanent"),
    [
        ("/redir/301/ok", "/ok"),
        ("/redir/308/ok", "/ok"),
        ("/redir/302/ok", None),
        ("/redir/307/ok", None),
        ("/redir/301/redir/308/ok", "/ok"),
        ("/redir/301/redir/302/ok", "/redir/302/ok"),  # the feed moves only as far as the permanent hops go
        ("/redir/302/redir/301/ok", None),
    ],
)
def test_redirects(server: str, fetcher: Fetcher, path: str, permanent: str | None) -> None:
    result = fetcher.fetch(server + path)
    assert result.status == 200 and result.body == FEED
    assert result.url == server + "/ok"
    assert result.permanent_redirect == (server + permanent if permanent else None)


def test_relative_location(server: str, fetcher: Fetcher) -> None:
    assert fetcher.fetch(server + "/relative/page").url == server + "/ok"


def test_redirect_loop(server: str, fetcher: Fetcher) -> None:
    with pytest.raises(FinalFetchError, match="redirect loop") as info:
        fetcher.fetch(server + "/loop/a")
    assert info.value.url == server + "/loop/a"


def test_too_many_redirects(server: str, fetcher: Fetcher) -> None:
    assert fetcher.fetch(server + "/chain/4").status == 200  # 5 redirects: at the limit
    with pytest.raises(FinalFetchError, match="more than 5 redirects"):
        fetcher.fetch(server + "/chain/5")


def test_cookies_kept_within_one_fetch_only(server: str, fetcher: Fetcher) -> None:
    assert fetcher.fetch(server + "/cookie/set").status == 200
    with pytest.raises(FinalFetchError) as info:
        fetcher.fetch(server + "/cookie/check")
    assert info.value.status == 403


@pytest.mark.parametrize("code", [404, 410, 400, 403])
def test_client_errors_are_final(server: str, fetcher: Fetcher, code: int) -> None:
    with pytest.raises(FinalFetchError) as info:
        fetcher.fetch(server + f"/status/{code}")
    assert info.value.status == code and not info.value.retryable
    assert str(code) in str(info.value) and server in str(info.value)


def test_server_error_is_retryable(server: str, fetcher: Fetcher) -> None:
    with pytest.raises(RetryableFetchError) as info:
        fetcher.fetch(server + "/status/500")
    assert info.value.status == 500 and info.value.retry_after is None


@pytest.mark.parametrize("code", [503, 429])
def test_retry_after_seconds(server: str, fetcher: Fetcher, code: int) -> None:
    with pytest.raises(RetryableFetchError) as info:
        fetcher.fetch(server + f"/status/{code}?retry=120")
    assert info.value.status == code and info.value.retry_after == 120.0


def test_retry_after_date() -> None:
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_connection_reset_is_retryable(server: str, fetcher: Fetcher) -> None:
    with pytest.raises(RetryableFetchError, match="connection failed"):
        fetcher.fetch(server + "/reset")


def test_connection_refused_is_retryable(fetcher: Fetcher) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetryableFetchError):
        fetcher.fetch(f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/rawdeflate", "/br"])
def test_compressed_bodies(server: str, fetcher: Fetcher, path: str) -> None:
    assert fetcher.fetch(server + path).body == FEED


@pytest.mark.parametrize("path", ["/bomb/gzip", "/bomb/br"])
def test_decompression_bomb(server: str, fetcher: Fetcher, path: str) -> None:
    with pytest.raises(BodyTooLargeError, match="decompressed"):
        fetcher.fetch(server + path)


def test_corrupt_encoding_is_final(server: str, fetcher: Fetcher) -> None:
    with pytest.raises(FinalFetchError, match="decode"):
        fetcher.fetch(server + "/corrupt")


@pytest.mark.parametrize("path", ["/big/declared", "/big/undeclared"])
def test_oversized_body(server: str, fetcher: Fetcher, path: str) -> None:
    with pytest.raises(BodyTooLargeError):
        fetcher.fetch(server + path)


@pytest.mark.parametrize("path", ["/drip/body", "/drip/headers"])
def test_slow_drip_hits_the_time_cap(server: str, path: str) -> None:
    with make_fetcher(fetch_timeout=0.4) as fetcher:
        started = time.monotonic()
        with pytest.raises(RetryableFetchError):
            fetcher.fetch(server + path)
        assert time.monotonic() - started < 1.0


def test_fetcher_still_works_after_failures(server: str, fetcher: Fetcher) -> None:
    for path in ("/bomb/gzip", "/status/503", "/reset"):
        with pytest.raises(RetryableFetchError if path != "/bomb/gzip" else BodyTooLargeError):
            fetcher.fetch(server + path)
    assert fetcher.fetch(server + "/ok").body == FEED


def test_blocked_without_allow_list(server: str) -> None:
    with make_fetcher(allow_networks="") as fetcher:
        with pytest.raises(BlockedAddressError, match="127.0.0.1, which is loopback") as info:
            fetcher.fetch(server + "/ok")
    assert info.value.url == server + "/ok"


def test_localhost_name_blocked_without_allow_list(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    with make_fetcher(allow_networks="") as fetcher:
        with pytest.raises(BlockedAddressError, match="localhost resolves to"):
            fetcher.fetch(f"http://localhost:{port}/ok")


def test_redirect_to_blocked_address(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    target = f"http://127.0.0.2:{port}/ok"
    with make_fetcher(allow_networks="127.0.0.1/32") as fetcher:
        assert fetcher.fetch(server + "/ok").status == 200
        with pytest.raises(BlockedAddressError, match="127.0.0.2") as info:
            fetcher.fetch(server + "/to?url=" + target)
    assert "redirect to " + target in str(info.value)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/"])
def test_redirect_to_other_scheme_is_blocked(server: str, fetcher: Fetcher, target: str) -> None:
    with pytest.raises(BlockedAddressError, match="scheme"):
        fetcher.fetch(server + "/to?url=" + target)


def test_bad_urls_are_final(fetcher: Fetcher) -> None:
    with pytest.raises(BlockedAddressError, match="scheme"):
        fetcher.fetch("file:///etc/passwd")
    with pytest.raises(FinalFetchError):
        fetcher.fetch("http://")


def test_injected_transport() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"mocked", headers={"ETag": "x"})

    with Fetcher(Settings(), transport=httpx.MockTransport(handler)) as fetcher:
        result = fetcher.fetch("https://feeds.invalid/rss")
    assert result.body == b"mocked" and result.etag == "x"
