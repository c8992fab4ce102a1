"""Hostile and broken feeds against a real worker: a clear error on each feed, nothing else harmed."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


@pytest.fixture()
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign] # resets are expected
    Hostile.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Hostile.base
    server.shutdown()
    server.server_close()


@pytest.fixture()
def capped_worker(redis_server: RedisServer, tmp_path: Path) -> Iterator[Worker]:
    worker = Worker(redis_server.url, tmp_path / "worker.log",
                    # Every feed here is on one host; politeness to it is not what this test is about.
                    extra_env={"NEWSFLOW_FETCH_TIMEOUT": "2", "NEWSFLOW_MAX_BODY_BYTES": str(CAP),
                               "NEWSFLOW_HOST_CONCURRENCY": "16", "NEWSFLOW_HOST_RATE": "100"})
    yield worker
    worker.stop()


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


def test_each_bad_feed_gets_a_clear_status_and_nothing_else_suffers(
    redis_client: redis.Redis, capped_worker: Worker, hostile: str
) -> None:
    from workers.tasks import poll_feed

    registry = FeedRegistry(redis_client)
    registry.add(Feed(url=f"{hostile}/good.xml"))
    poll_feed.delay(f"{hostile}/good.xml")
    wait_for(lambda: redis_client.xlen("articles") == 1, timeout=60, what="the good article")

    for name in EXPECTED:
        registry.add(Feed(url=f"{hostile}/{name}"))
    started = time.monotonic()
    for name in ["slow.xml", "endless.xml", *[n for n in EXPECTED if n not in ("slow.xml", "endless.xml")]]:
        poll_feed.delay(f"{hostile}/{name}")
    registry.add(Feed(url=f"{hostile}/good.xml?again"))  # a good feed queued behind the bad ones
    poll_feed.delay(f"{hostile}/good.xml?again")

    def statuses() -> dict[str, Feed] | None:
        feeds = {f.url.rsplit("/", 1)[1]: f for f in registry.list()}
        done = all(feeds[n].last_status for n in [*EXPECTED, "good.xml?again"])
        return feeds if done else None

    feeds = wait_for(statuses, timeout=90, what="every bad feed's status")
    for name, expected in EXPECTED.items():
        feed = feeds[name]
        assert expected in (feed.last_error or ""), (name, feed.last_status, feed.last_error)
        assert feed.enabled, name
    assert feeds["good.xml?again"].last_status == "ok" and feeds["good.xml?again"].last_error is None
    assert time.monotonic() - started < 60  # the slow and endless ones were cut off by the caps
    assert capped_worker.process.poll() is None  # the worker kept running
    (message,) = redis_client.xrange("articles")  # what was published is still there, once
    assert b"Yang Sheng" in message[1][b"article"]
