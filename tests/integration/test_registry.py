import time

import redis

from pipeline.models import FeedEntry
from pipeline.registry import Feed, FeedRegistry

URL = "http://127.0.0.1:9/feed.xml"


def entry(key: str, fingerprint: str = "v1") -> FeedEntry:
    return FeedEntry(feed_url=URL, key=key, link=f"http://127.0.0.1:9/{key}", fingerprint=fingerprint)


def test_add_list_get_remove(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client)
    assert registry.add(Feed(url=URL, name="World", tags=["news"], timezone="Asia/Shanghai"))
    assert not registry.add(Feed(url=URL, name="World news"))  # second add updates
    (feed,) = registry.list()
    assert (feed.url, feed.name, feed.enabled) == (URL, "World news", True)
    assert registry.get(URL) == feed
    assert registry.remove(URL)
    assert registry.list() == [] and registry.get(URL) is None
    assert not registry.remove(URL)


def test_claim_due_hands_a_feed_out_once_per_lease(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client)
    registry.add(Feed(url=URL), due=100.0)
    registry.add(Feed(url=URL + "?2"), due=10_000.0)
    assert registry.claim_due(now=200.0, lease=300.0) == [URL]
    # A second dispatcher (or beat) running meanwhile gets nothing.
    assert registry.claim_due(now=201.0, lease=300.0) == []
    # A poll that crashed never rescheduled the feed: it comes back once the lease is over.
    assert registry.claim_due(now=501.0, lease=300.0) == [URL]


def test_schedule_does_not_resurrect_a_removed_feed(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client)
    registry.add(Feed(url=URL), due=0)
    registry.remove(URL)
    registry.schedule(URL, time.time())
    assert registry.claim_due(now=time.time() + 1, lease=10) == []


def test_new_entries_seen_and_updated(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client, seen_limit=3)
    registry.add(Feed(url=URL))
    first = [entry("a"), entry("b")]
    assert registry.new_entries(URL, first) == first
    registry.mark_seen(URL, first)
    assert registry.new_entries(URL, first) == []
    updated = entry("a", fingerprint="v2")
    assert registry.new_entries(URL, [updated, entry("b")]) == [updated]


def test_seen_set_is_bounded(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client, seen_limit=3)
    registry.add(Feed(url=URL))
    for key in "abcde":
        registry.mark_seen(URL, [entry(key)])
        time.sleep(0.002)
    feed = registry.get(URL)
    assert feed is not None and feed.entries_seen == 3
    assert [e.key for e in registry.new_entries(URL, [entry(k) for k in "abcde"])] == ["a", "b"]


def test_record_poll_counts_errors_and_resets(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client)
    registry.add(Feed(url=URL))
    registry.record_poll(URL, status="error", error="fetch: timed out")
    registry.record_poll(URL, status="error", error="fetch: timed out")
    feed = registry.get(URL)
    assert feed is not None and (feed.error_count, feed.last_error) == (2, "fetch: timed out")
    registry.record_poll(URL, status="ok", etag='"x"')
    feed = registry.get(URL)
    assert feed is not None and (feed.error_count, feed.last_error, feed.etag) == (0, None, '"x"')


def test_a_moved_feed_keeps_its_lease_at_the_new_address(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client)
    registry.add(Feed(url=URL), due=100.0)
    assert registry.claim_due(now=200.0, lease=300.0) == [URL]  # being polled, held until 500
    registry.move(URL, URL + "?moved")
    assert registry.claim_due(now=201.0, lease=300.0) == []  # not polled beside the moving poll
    assert registry.claim_due(now=501.0, lease=300.0) == [URL + "?moved"]


def test_a_feed_removed_during_its_poll_leaves_no_stray_record(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client)
    registry.add(Feed(url=URL))
    registry.remove(URL)
    registry.mark_seen(URL, [entry("a")])
    registry.record_poll(URL, status="ok")
    assert registry.get(URL) is None and registry.list() == []
    assert not list(redis_client.scan_iter("newsflow:feed*"))


def test_re_enabling_a_disabled_feed_forgets_its_old_failures(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client)
    registry.add(Feed(url=URL))
    for _ in range(3):
        registry.record_poll(URL, status="error", error="fetch: HTTP 500")
    registry.disable(URL, "3 failed polls in a row")
    assert registry.add(Feed(url=URL)) is False
    feed = registry.get(URL)
    assert feed is not None and feed.enabled and feed.error_count == 0 and feed.last_error is None
    assert feed.disabled_reason is None
    assert registry.claim_due(now=time.time() + 1, lease=10) == [URL]
