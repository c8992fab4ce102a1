"""Delivery guarantees with a real Redis, a real Celery worker and real subprocesses.

Routing, idempotent publishing, revisions on every routed topic, a consumer killed between read and
ack, dead letters replayed through the command line, and retention that holds a live group's entries.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from newsflow.demo.server import NewsroomServer
from newsflow.redis_server import RedisServer
from pipeline.deadletters import DeadLetters
from pipeline.feeds import parse_feed
from pipeline.registry import Feed, FeedRegistry
from pipeline.topics import Consumer, Publisher, read_topic
from tests.conftest import DEMO_SITE, GLOBAL_TIMES, ROOT, Worker, wait_for
from tests.integration.test_topics import article

pytestmark = pytest.mark.e2e

TOPICS = """
routes:
  - by: language
  - by: feed_tag
    topic: articles.feed.{value}
  - by: language
    topic: articles.bounded
retention:
  articles.bounded: {maxlen: 1, hard_maxlen: 3}
"""
ROUTED = ("articles", "articles.lang.en", "articles.feed.world", "articles.bounded")
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Global Times World</title><link>{base}/</link>
<item><title>Russia won’t recognize NK’s nuclear status: Putin</title>
<link>{base}/articles/gt.html</link><guid isPermaLink="false">gt-1</guid>
<pubDate>Thu, 07 Sep 2017 00:18:40 +0800</pubDate></item>
</channel></rss>"""


@pytest.fixture(scope="module")
def worker(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A real worker with routing rules and a tightly bounded topic; polite limits opened for loopback."""
    log = tmp_path_factory.mktemp("delivery-worker") / "worker.log"
    started = Worker(redis_server.url, log, extra_env={"NEWSFLOW_TOPICS": TOPICS, "NEWSFLOW_HOST_RATE": "1000"})
    yield started
    started.stop()


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[NewsroomServer]:
    (tmp_path / "articles").mkdir()
    (tmp_path / "feeds").mkdir()
    shutil.copy(GLOBAL_TIMES, tmp_path / "articles" / "gt.html")
    (tmp_path / "feeds" / "world.xml").write_text(FEED, encoding="utf-8")
    server = NewsroomServer(tmp_path).start()
    yield server
    server.stop()


def registered_entry(client: redis.Redis, site: NewsroomServer) -> dict[str, Any]:
    """The feed registered with the tag `world`, and its entry exactly as a poll hands it on."""
    feed_url = f"{site.base}/feeds/world.xml"
    FeedRegistry(client).add(Feed(url=feed_url, tags=["World"]))
    body = (site.site / "feeds" / "world.xml").read_bytes().replace(b"{base}", site.base.encode())
    (entry,) = parse_feed(body, feed_url).entries
    return entry.model_dump(mode="json")


def topic_revisions(client: redis.Redis, topic: str) -> list[tuple[str, int]]:
    return [(m.article.id, m.article.revision) for m in read_topic(client, topic, from_start=True)]


def counter(client: redis.Redis, name: str) -> int:
    return int(client.hget("newsflow:counters", name) or 0)


def newsflow(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NEWSFLOW_REDIS_URL=redis_url, NEWSFLOW_TOPICS=TOPICS)
    return subprocess.run([sys.executable, "-m", "newsflow.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_task_run_twice_publishes_once_on_every_routed_topic(
    redis_client: redis.Redis, worker: Worker, site: NewsroomServer
) -> None:
    from workers.tasks import fetch_article, process_article

    entry = registered_entry(redis_client, site)
    fetch_article.delay(entry)
    fetch_article.delay(entry)  # the same entry fetched twice (two polls, two workers)
    page, url = GLOBAL_TIMES.read_text(encoding="utf-8"), f"{site.base}/articles/gt.html"
    for _ in range(2):  # one message delivered twice: the same task id runs twice
        process_article.apply_async((entry, page, url, "2024-01-01T00:00:00+00:00"), task_id="same-task")
    wait_for(lambda: counter(redis_client, "articles_published") + counter(redis_client, "skipped.duplicate") >= 4,
             what="four processing runs")
    assert counter(redis_client, "articles_published") == 1
    for topic in ROUTED:
        (only,) = topic_revisions(redis_client, topic)
        assert only[1] == 1, topic
    assert {t.decode() for t in redis_client.smembers("newsflow:topics")} == set(ROUTED)


def test_a_changed_story_gets_revision_2_on_every_topic_it_routes_to(
    redis_client: redis.Redis, worker: Worker, site: NewsroomServer
) -> None:
    from workers.tasks import fetch_article

    for topic in ROUTED:  # groups read nothing yet: they also keep `articles.bounded` from trimming rev 1
        redis_client.xgroup_create(topic, "watchers", id="0", mkstream=True)
    entry = registered_entry(redis_client, site)
    fetch_article.delay(entry)
    wait_for(lambda: counter(redis_client, "articles_published") == 1, what="revision 1")
    page = site.site / "articles" / "gt.html"
    page.write_text(page.read_text(encoding="utf-8").replace("Putin said", "Putin told reporters"),
                    encoding="utf-8")  # the site corrected its story
    fetch_article.delay(entry)
    wait_for(lambda: counter(redis_client, "articles_published") == 2, what="revision 2")
    for topic in ROUTED:
        revisions = topic_revisions(redis_client, topic)
        assert [r for _id, r in revisions] == [1, 2], topic
        assert len({i for i, _r in revisions}) == 1
        latest = read_topic(redis_client, topic, from_start=True)[-1]
        assert "Putin told reporters" in latest.article.text
        assert redis_client.xrange(topic)[-1][1][b"revision"] == b"2"


VICTIM = """
import sys, time, redis
from pipeline.topics import Consumer
consumer = Consumer(redis.Redis.from_url(sys.argv[1]), "articles", group="readers", name="victim")
for message in consumer.read(count=10, block_ms=5000):
    print(message.id, flush=True)
print("read", flush=True)
time.sleep(120)  # "handling": killed here, before any acknowledgement
"""


def test_a_consumer_killed_between_read_and_ack_has_its_messages_delivered_to_another(
    redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    publisher = Publisher(redis_client)
    published = [publisher.publish(article(text=f"Story {i}.").model_copy(update={"id": f"s{i}"})).stream_ids[0]
                 for i in range(3)]
    out = tmp_path / "victim.out"
    with open(out, "w") as sink:
        victim = subprocess.Popen([sys.executable, "-c", VICTIM, redis_server.url], cwd=ROOT, stdout=sink)
    try:
        wait_for(lambda: out.read_text().endswith("read\n"), timeout=30, what="the victim to read")
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    assert out.read_text().split() == [*published, "read"]
    assert redis_client.xpending("articles", "readers")["pending"] == 3
    # Not before the idle timeout: a member that is only slow keeps its messages.
    patient = Consumer(redis_client, "articles", group="readers", name="patient", claim_idle_ms=60_000)
    assert patient.read(count=10, block_ms=None) == []
    survivor = Consumer(redis_client, "articles", group="readers", name="survivor", claim_idle_ms=300)
    claimed = wait_for(lambda: survivor.read(count=10, block_ms=50), timeout=10, what="the claim")
    assert [m.id for m in claimed] == published
    details = redis_client.xpending_range("articles", "readers", "-", "+", 10)
    assert {(d["consumer"], d["times_delivered"]) for d in details} == {(b"survivor", 2)}
    for message in claimed:
        survivor.ack(message)
    assert redis_client.xpending("articles", "readers")["pending"] == 0
    assert survivor.read(count=10, block_ms=None) == []


def test_a_failing_page_is_dead_lettered_and_dlq_replay_publishes_it_once_fixed(
    redis_client: redis.Redis, redis_server: RedisServer, worker: Worker, site: NewsroomServer
) -> None:
    from workers.tasks import fetch_article

    page = site.site / "articles" / "gt.html"
    saved = page.read_bytes()
    page.unlink()  # the feed links to a page that answers 404
    entry = registered_entry(redis_client, site)
    fetch_article.delay(entry)
    wait_for(lambda: DeadLetters(redis_client).count() == 1, what="a dead letter")
    listed = newsflow(redis_server.url, "dlq", "list")
    assert listed.returncode == 0, listed.stderr
    letter_id, stage, error = listed.stdout.split()[:3]
    assert (stage, error) == ("fetch", "FinalFetchError")
    shown = newsflow(redis_server.url, "dlq", "show", letter_id)
    record = json.loads(shown.stdout)
    assert record["stage"] == "fetch" and record["error"] == "FinalFetchError" and "404" in record["message"]
    assert record["attempts"] == 1 and record["url"] == entry["link"] and record["feed_url"] == entry["feed_url"]
    assert (record["task"], record["args"]) == ("newsflow.fetch_article", [entry])
    assert all(not redis_client.exists(t) for t in ROUTED)

    page.write_bytes(saved)  # the site fixed the page
    replayed = newsflow(redis_server.url, "dlq", "replay", letter_id)
    assert replayed.returncode == 0 and "queued 1 for replay" in replayed.stdout, replayed.stderr
    wait_for(lambda: DeadLetters(redis_client).count() == 0, what="the dead letter to leave")
    for topic in ROUTED:
        assert topic_revisions(redis_client, topic) == [(topic_revisions(redis_client, "articles")[0][0], 1)]
    assert newsflow(redis_server.url, "dlq", "list").stderr.strip() == "no dead letters"
    missing = newsflow(redis_server.url, "dlq", "replay", letter_id)
    assert missing.returncode == 1 and f"no dead letter {letter_id}" in missing.stderr
    DeadLetters(redis_client).add(stage="process", error="ValueError", message="boom", attempts=5,
                                  feed_url=None, url="http://127.0.0.1/x", task="newsflow.process_article", args=[])
    purged = newsflow(redis_server.url, "dlq", "purge", "--yes")
    assert purged.stdout.strip() == "purged 1 dead letters" and DeadLetters(redis_client).count() == 0


def test_retention_trims_but_holds_a_live_groups_entries_up_to_the_hard_cap(
    redis_client: redis.Redis, redis_server: RedisServer, worker: Worker
) -> None:
    from workers.tasks import process_article

    redis_client.xgroup_create("articles.bounded", "slow", id="$", mkstream=True)  # live, reads nothing
    pages = ["copper-valley-broadband-grants", "eastbay-ledger-council-vote", "harbor-gazette-ferry-strike",
             "lattice-weekly-chip-export", "meridian-post-flood-relief", "northwind-solid-state-battery"]
    fetched = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).isoformat()
    for name in pages:
        html = (DEMO_SITE / "articles" / f"{name}.html").read_text(encoding="utf-8")
        process_article.delay(None, html, f"http://127.0.0.1/articles/{name}.html", fetched)
    wait_for(lambda: counter(redis_client, "articles_published") == len(pages), what="six articles")
    assert redis_client.xlen("articles") == 6  # default retention: everything
    assert redis_client.xlen("articles.bounded") == 3  # maxlen 1, but `slow` has read none: hard cap 3
    stats = json.loads(newsflow(redis_server.url, "stats", "--json").stdout)
    bounded = stats["retention"]["articles.bounded"]
    assert (bounded["held"], bounded["headroom"], bounded["dropped_unread"]) == (2, 0, 3)
    assert bounded["groups"]["slow"] == {"pending": 0, "lag": 3, "at_risk": 2, "live": True}
    assert stats["topics"]["articles.bounded"] == 3

    slow = Consumer(redis_client, "articles.bounded", group="slow", name="late")
    for message in slow.read(count=10, block_ms=None):
        slow.ack(message)
    trimmed = newsflow(redis_server.url, "topics", "trim", "articles.bounded")
    assert trimmed.stdout.strip() == "articles.bounded: trimmed 2"
    assert redis_client.xlen("articles.bounded") == 1
    listed = newsflow(redis_server.url, "topics", "list", "--json")
    report = next(json.loads(line) for line in listed.stdout.splitlines() if '"articles.bounded"' in line)
    assert (report["length"], report["held"], report["trimmed"], report["dropped_unread"]) == (1, 0, 5, 3)


def test_tail_as_a_group_member_acknowledges_what_it_printed(
    redis_client: redis.Redis, redis_server: RedisServer
) -> None:
    publisher = Publisher(redis_client)
    for i in range(3):
        publisher.publish(article(text=f"Story {i}.").model_copy(update={"id": f"t{i}"}))
    first = newsflow(redis_server.url, "tail", "articles", "--group", "cli", "--from-start", "--count", "2", "--json")
    assert first.returncode == 0, first.stderr
    assert [json.loads(line)["id"] for line in first.stdout.splitlines()] == ["t0", "t1"]
    assert redis_client.xpending("articles", "cli")["pending"] == 0
    rest = newsflow(redis_server.url, "tail", "articles", "--group", "cli", "--no-follow")
    assert rest.returncode == 0 and len(rest.stdout.splitlines()) == 1 and rest.stdout.split()[-1] == "T"
    plain = newsflow(redis_server.url, "tail", "--from-start", "--no-follow", "--json")
    assert [json.loads(line)["id"] for line in plain.stdout.splitlines()] == ["t0", "t1", "t2"]
