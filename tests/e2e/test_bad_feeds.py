"""Hostile and broken feeds against a real worker: a clear error on each feed, nothing else harmed."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis

from newsflow.redis_server import RedisServer
from pipeline.registry import Feed, FeedRegistry
from tests.conftest import GLOBAL_TIMES, Worker, wait_for

pytestmark = pytest.mark.e2e

GOOD = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Good</title>
<item><title>Russia won’t recognize NK’s nuclear status: Putin</title><link>{base}/gt.html</link>
<guid>gt</guid><pubDate>Thu, 07 Sep 2017 00:18:40 +0800</pubDate></item></channel></rss>"""
TRUNCATED = ('<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>Kept</title>'
             '<link>{base}/kept.html</link><guid>kept</guid></item><item><title>Cut off he')
WRONG_ENCODING = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Caf\xe9</title>'
                  '<item><title>Cr\xe8me br\xfbl\xe9e</title><link>{base}/creme.html</link></item></channel></rss>')
CAP = 200_000


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    base = ""

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path == "/good.xml":
            self.reply(200, GOOD.format(base=self.base).encode(), "application/rss+xml")
        elif path == "/gt.html":
            self.reply(200, GLOBAL_TIMES.read_bytes(), "text/html; charset=utf-8")
        elif path == "/truncated.xml":
            self.reply(200, TRUNCATED.format(base=self.base).encode(), "application/rss+xml")
        elif path == "/wrong-encoding.xml":
            self.reply(200, WRONG_ENCODING.format(base=self.base).encode("windows-1252"), "text/xml")
        elif path == "/html.xml":
            self.reply(200, b"<!DOCTYPE html><html><body><h1>Home</h1><p>Welcome</p></body></html>", "text/html")
        elif path == "/empty.xml":
            self.reply(200, b"", "application/rss+xml")
        elif path == "/loop.xml":
            self.send_response(302)
            self.send_header("Location", "/loop.xml")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/huge.xml":
            self.reply(200, b"<rss>" + b" " * (CAP * 5) + b"</rss>", "application/rss+xml")
        elif path == "/bomb.xml":
            self.reply(200, gzip.compress(b"\0" * 50_000_000), "application/rss+xml", encoding="gzip")
        elif path in ("/slow.xml", "/endless.xml"):
            self.stream(slow=path == "/slow.xml")
        else:
            self.reply(404, b"not found", "text/plain")

    def reply(self, status: int, body: bytes, ctype: str, encoding: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self, *, slow: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()  # no length: the body goes on until the client gives up
        deadline = time.monotonic() + 20  # bounded: the server stops by itself
        try:
            self.wfile.write(b"<rss><channel>")
            while time.monotonic() < deadline:
                self.wfile.write(b" " if slow else b"<x>" * 10_000)
                self.wfile.flush()
                time.sleep(0.3 if slow else 0)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign] # resets are expected
    Hostile.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Hostile.base
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def capped_worker(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    worker = Worker(redis_server.url, tmp_path_factory.mktemp("capped") / "worker.log",
                    # Every feed here is on one host; politeness to it is not what these tests are about.
                    extra_env={"NEWSFLOW_FETCH_TIMEOUT": "2", "NEWSFLOW_MAX_BODY_BYTES": str(CAP),
                               "NEWSFLOW_HOST_CONCURRENCY": "16", "NEWSFLOW_HOST_RATE": "100"})
    yield worker
    worker.stop()


@pytest.fixture()
def published(redis_client: redis.Redis, capped_worker: Worker, hostile: str) -> bytes:
    """The good feed's article, published before the bad feed comes along."""
    from workers.tasks import poll_feed

    FeedRegistry(redis_client).add(Feed(url=f"{hostile}/good.xml"))
    poll_feed.delay(f"{hostile}/good.xml")
    wait_for(lambda: redis_client.xlen("articles") == 1, timeout=60, what="the good article")
    return bytes(redis_client.xrange("articles")[0][1][b"article"])


EXPECTED = {
    "truncated.xml": "malformed feed, 1 entries recovered",
    "wrong-encoding.xml": "malformed feed, 1 entries recovered",
    "html.xml": "it is an HTML page",
    "empty.xml": "empty body",
    "loop.xml": "redirect",
    "huge.xml": "over the cap",
    "bomb.xml": "over the cap",
    "slow.xml": "took longer than 2s",
    "endless.xml": "over the cap",
}


def poll_and_wait(client: redis.Redis, url: str, timeout: float = 30) -> Feed:
    from workers.tasks import poll_feed

    registry = FeedRegistry(client)
    registry.add(Feed(url=url))
    poll_feed.delay(url)
    # next_due is written last, after the status: waiting on it sees the whole poll's outcome.
    return wait_for(lambda: (f := registry.get(url)) and f.last_status and f.next_due and f, timeout=timeout,
                    what=f"the status of {url}")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_bad_feed_gets_a_clear_status_and_nothing_else_suffers(
    name: str, redis_client: redis.Redis, capped_worker: Worker, hostile: str, published: bytes
) -> None:
    started = time.monotonic()
    feed = poll_and_wait(redis_client, f"{hostile}/{name}")
    assert EXPECTED[name] in (feed.last_error or ""), (feed.last_status, feed.last_error)
    assert feed.enabled and feed.next_due is not None  # it stays on the schedule, backed off
    assert time.monotonic() - started < 20  # cut off by the caps, not left hanging
    assert capped_worker.process.poll() is None  # the worker kept running
    assert [m[1][b"article"] for m in redis_client.xrange("articles")] == [published]  # nothing lost


def test_a_good_feed_is_not_held_up_by_slow_ones(
    redis_client: redis.Redis, capped_worker: Worker, hostile: str, published: bytes
) -> None:
    from workers.tasks import poll_feed

    registry = FeedRegistry(redis_client)
    for name in ("slow.xml", "endless.xml"):
        registry.add(Feed(url=f"{hostile}/{name}"))
        poll_feed.delay(f"{hostile}/{name}")
    started = time.monotonic()
    good = poll_and_wait(redis_client, f"{hostile}/good.xml?again")
    assert good.last_status == "ok" and good.last_error is None
    # Each slow one takes the 2 s cap; behind both, the good one would take over 4 s.
    assert time.monotonic() - started < 3.5
