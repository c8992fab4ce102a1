"""A poll against scripted servers (httpx MockTransport) and the real registry in Redis."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
import redis

from pipeline.fetch import Fetcher
from pipeline.models import FeedEntry
from pipeline.polling import poll_once
from pipeline.registry import Feed, FeedRegistry
from pipeline.settings import Settings

FEED = "http://feeds.test/world.xml"
RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>
<item><title>One</title><link>http://feeds.test/1</link><guid>1</guid></item>
<item><title>Two</title><link>http://feeds.test/2</link><guid>2</guid></item>
</channel></rss>"""
SETTINGS = Settings(poll_min_interval=60, poll_max_interval=3600, poll_interval=600, max_feed_errors=3)


def poll(client: redis.Redis, handler: Callable[[httpx.Request], httpx.Response], url: str = FEED,
         now: float | None = None) -> tuple[object, list[FeedEntry]]:
    enqueued: list[FeedEntry] = []
    with Fetcher(SETTINGS, transport=httpx.MockTransport(handler)) as fetcher:
        outcome = poll_once(url, fetcher=fetcher, registry=FeedRegistry(client), settings=SETTINGS,
                            enqueue=enqueued.append, now=now)
    return outcome, enqueued


@pytest.fixture()
def registry(redis_client: redis.Redis) -> FeedRegistry:
    reg = FeedRegistry(redis_client)
    reg.add(Feed(url=FEED))
    return reg


def test_new_entries_then_conditional_304(redis_client: redis.Redis, registry: FeedRegistry) -> None:
    outcome, enqueued = poll(redis_client, lambda r: httpx.Response(200, content=RSS, headers={"ETag": '"v1"'}))
    assert outcome.status == "ok" and [e.link for e in enqueued] == ["http://feeds.test/1", "http://feeds.test/2"]
    seen_headers: list[httpx.Headers] = []

    def conditional(request: httpx.Request) -> httpx.Response:
        seen_headers.append(request.headers)
        return httpx.Response(304)

    outcome, enqueued = poll(redis_client, conditional)
    assert outcome.status == "not-modified" and enqueued == []
    assert seen_headers[0]["If-None-Match"] == '"v1"'
    outcome, enqueued = poll(redis_client, lambda r: httpx.Response(200, content=RSS))
    assert enqueued == []  # same entries: nothing new


def test_permanent_redirect_moves_the_feed_temporary_does_not(redis_client: redis.Redis,
                                                              registry: FeedRegistry) -> None:
    def temporary(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/world.xml":
            return httpx.Response(302, headers={"Location": "/elsewhere.xml"})
        return httpx.Response(200, content=RSS)

    poll(redis_client, temporary)
    assert [f.url for f in registry.list()] == [FEED]

    def permanent(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/world.xml":
            return httpx.Response(301, headers={"Location": "/new-world.xml"})
        return httpx.Response(200, content=RSS)

    outcome, _ = poll(redis_client, permanent)
    assert outcome.moved_to == "http://feeds.test/new-world.xml"
    assert [f.url for f in registry.list()] == ["http://feeds.test/new-world.xml"]
    # The seen entries moved with it: the same entries are not new at the new address.
    _, enqueued = poll(redis_client, lambda r: httpx.Response(200, content=RSS), url="http://feeds.test/new-world.xml")
    assert enqueued == []


def test_gone_disables_the_feed(redis_client: redis.Redis, registry: FeedRegistry) -> None:
    outcome, _ = poll(redis_client, lambda r: httpx.Response(410))
    feed = registry.get(FEED)
    assert outcome.status == "disabled" and feed is not None and not feed.enabled
    assert "410" in (feed.disabled_reason or "")
    assert registry.claim_due(now=time.time() + 10**6, lease=1) == []


def test_retry_after_applies_to_that_feed_only(redis_client: redis.Redis, registry: FeedRegistry) -> None:
    registry.add(Feed(url="http://feeds.test/other.xml"))
    now = time.time()
    outcome, _ = poll(redis_client, lambda r: httpx.Response(503, headers={"Retry-After": "7200"}), now=now)
    assert outcome.status == "error" and outcome.next_due is not None and outcome.next_due >= now + 7200
    other, _ = poll(redis_client, lambda r: httpx.Response(200, content=RSS), url="http://feeds.test/other.xml", now=now)
    assert other.next_due is not None and other.next_due < now + 7200


def test_repeated_failures_back_off_then_disable(redis_client: redis.Redis, registry: FeedRegistry) -> None:
    now = time.time()
    delays = []
    for _ in range(2):
        outcome, _ = poll(redis_client, lambda r: httpx.Response(500), now=now)
        assert outcome.status == "error"
        delays.append(outcome.next_due - now)
    assert delays[1] > delays[0]
    outcome, _ = poll(redis_client, lambda r: httpx.Response(500), now=now)
    feed = registry.get(FEED)
    assert outcome.status == "disabled" and feed is not None and "3 failed polls" in (feed.disabled_reason or "")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Welcome</body></html>", "HTML page"),
        (b"", "empty body"),
        (b"\x00\xff\xfe garbage", "not"),
    ],
)
def test_bad_feed_bodies_are_recorded_on_the_feed(redis_client: redis.Redis, registry: FeedRegistry,
                                                  body: bytes, message: str) -> None:
    outcome, enqueued = poll(redis_client, lambda r: httpx.Response(200, content=body))
    feed = registry.get(FEED)
    assert outcome.status == "error" and enqueued == []
    assert feed is not None and feed.error_count == 1 and message in (feed.last_error or "")


def test_a_feed_is_never_polled_twice_at_once(redis_client: redis.Redis, registry: FeedRegistry) -> None:
    inner: list[object] = []

    def slow_server(request: httpx.Request) -> httpx.Response:
        # While this poll is in its fetch, a second poll of the same feed starts.
        inner.append(poll(redis_client, lambda r: httpx.Response(200, content=RSS))[0])
        return httpx.Response(200, content=RSS)

    outcome, enqueued = poll(redis_client, slow_server)
    assert outcome.status == "ok" and len(enqueued) == 2
    (second,) = inner
    assert second.status == "skipped" and second.error == "already being polled"
    again, _ = poll(redis_client, lambda r: httpx.Response(304))  # the lock was released
    assert again.status == "not-modified"


def test_a_throttled_poll_is_rescheduled_without_an_error(redis_client: redis.Redis, registry: FeedRegistry) -> None:
    from pipeline.errors import ThrottledError

    class BusyHost:
        def fetch(self, url: str, **_: object) -> object:
            raise ThrottledError("host feeds.test:80 is at its politeness limit", url=url, retry_after=3.0)

    now = time.time()
    outcome = poll_once(FEED, fetcher=BusyHost(), registry=registry, settings=SETTINGS,  # type: ignore[arg-type]
                        enqueue=lambda e: None, now=now)
    feed = registry.get(FEED)
    assert outcome.status == "throttled" and outcome.next_due == now + 3.0
    assert feed is not None and feed.error_count == 0 and feed.enabled
