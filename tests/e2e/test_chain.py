"""The whole chain on a real Redis and a real Celery worker: feed in, normalized article out."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from newsflow.demo.server import NewsroomServer
from pipeline.registry import Feed, FeedRegistry
from pipeline.topics import Consumer, Message
from tests.conftest import GLOBAL_TIMES, Worker, wait_for

pytestmark = pytest.mark.e2e

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Global Times World</title><link>{base}/</link>
<item><title>Russia won’t recognize NK’s nuclear status: Putin</title>
<link>{base}/articles/%(page)s</link><guid isPermaLink="false">gt-%(page)s</guid>%(date)s
<category>Asia-Pacific</category></item>
</channel></rss>"""


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[NewsroomServer]:
    """A fixture newsroom on 127.0.0.1: the Global Times page and feeds with and without a pubDate."""
    (tmp_path / "articles").mkdir()
    (tmp_path / "feeds").mkdir()
    shutil.copy(GLOBAL_TIMES, tmp_path / "articles" / "gt.html")
    dated = RSS % {"page": "gt.html", "date": "<pubDate>Thu, 07 Sep 2017 00:18:40 +0800</pubDate>"}
    (tmp_path / "feeds" / "dated.xml").write_text(dated, encoding="utf-8")
    (tmp_path / "feeds" / "undated.xml").write_text(RSS % {"page": "gt.html", "date": ""}, encoding="utf-8")
    server = NewsroomServer(tmp_path).start()
    yield server
    server.stop()


def first_article(client: redis.Redis, group: str = "e2e") -> Message:
    consumer = Consumer(client, "articles", group, name="reader")
    (message,) = wait_for(lambda: consumer.read(count=10, block_ms=200), timeout=60, what="an article")
    consumer.ack(message)
    return message


def assert_global_times(message: Message, base: str) -> None:
    a = message.article
    assert a.schema_version == 1
    assert a.title == "Russia won’t recognize NK’s nuclear status: Putin"
    assert a.authors == ["Yang Sheng"]
    assert a.source.name == "Global Times"
    assert a.published_at == dt.datetime(2017, 9, 6, 16, 18, 40, tzinfo=dt.timezone.utc)
    assert a.to_dict()["published_at"] == "2017-09-06T16:18:40Z"
    assert a.url == f"{base}/articles/gt.html"
    assert a.text.startswith("Russian President Vladimir Putin said")
    assert a.text.endswith('not to attack it."')
    paragraphs = a.text.split("\n\n")
    assert len(paragraphs) == 6, paragraphs
    assert paragraphs[1].startswith("Resolving the North Korean nuclear crisis")
    for unwanted in ("Disqus", "disqus", "Related Articles", "Most Popular", "CHINA", "Copyright", "Share"):
        assert unwanted not in a.text, unwanted
    assert a.revision == 1 and a.has_article
    assert a.language == "en"
    assert a.word_count > 300


def test_feed_entry_with_pubdate_gives_the_article(redis_client: redis.Redis, celery_worker: Worker,
                                                   site: NewsroomServer) -> None:
    from workers.tasks import dispatch_due_feeds

    feed_url = f"{site.base}/feeds/dated.xml"
    FeedRegistry(redis_client).add(Feed(url=feed_url, name="GT"))
    dispatch_due_feeds.delay()  # what beat does every few seconds
    message = first_article(redis_client)
    assert_global_times(message, site.base)
    assert message.article.feed_url == feed_url
    assert message.article.date_zone == "explicit"
    assert "Asia-Pacific" in message.article.tags


def test_byline_date_takes_the_feeds_configured_zone(redis_client: redis.Redis, celery_worker: Worker,
                                                     site: NewsroomServer) -> None:
    from workers.tasks import poll_feed

    feed_url = f"{site.base}/feeds/undated.xml"
    FeedRegistry(redis_client).add(Feed(url=feed_url, timezone="Asia/Shanghai"))
    poll_feed.delay(feed_url)
    message = first_article(redis_client)
    assert_global_times(message, site.base)
    assert message.article.date_zone == "configured"


def test_polling_again_publishes_nothing_new(redis_client: redis.Redis, celery_worker: Worker,
                                             site: NewsroomServer) -> None:
    from workers.tasks import poll_feed, process_article

    feed_url = f"{site.base}/feeds/dated.xml"
    FeedRegistry(redis_client).add(Feed(url=feed_url))
    poll_feed.delay(feed_url)
    first_article(redis_client)
    poll_feed.delay(feed_url)  # the demo server answers the ETag with 304
    page = GLOBAL_TIMES.read_text(encoding="utf-8")
    for _ in range(2):  # a redelivered or doubly-run processing task
        process_article.delay(None, page, f"{site.base}/articles/gt.html", "2024-01-01T00:00:00+00:00")
    wait_for(lambda: int(redis_client.hget("newsflow:counters", "skipped.duplicate") or 0) >= 2,
             what="the duplicate runs to finish")
    wait_for(lambda: int(redis_client.hget("newsflow:counters", "feeds_polled") or 0) >= 2,
             what="the second poll")
    feed = FeedRegistry(redis_client).get(feed_url)
    assert feed is not None and feed.last_status == "not-modified"
    assert int(redis_client.hget("newsflow:counters", "entries_new") or 0) == 1
    assert redis_client.xlen("articles") == 1


def test_a_missing_page_is_dead_lettered_and_replays_once_fixed(
    redis_client: redis.Redis, celery_worker: Worker, site: NewsroomServer, tmp_path: Path
) -> None:
    from workers.app import app
    from workers.tasks import poll_feed

    page = tmp_path / "articles" / "gt.html"
    saved = page.read_bytes()
    page.unlink()  # the feed links to a page that answers 404
    feed_url = f"{site.base}/feeds/dated.xml"
    FeedRegistry(redis_client).add(Feed(url=feed_url))
    poll_feed.delay(feed_url)
    letters = wait_for(lambda: redis_client.xrange("newsflow:dead-letters"), what="a dead letter")
    from pipeline.deadletters import DeadLetters

    (letter,) = DeadLetters(redis_client).list()
    assert (letter.stage, letter.error, letter.url) == ("fetch", "FinalFetchError", f"{site.base}/articles/gt.html")
    assert "404" in letter.message and letter.attempts == 1
    assert len(letters) == 1
    page.write_bytes(saved)  # the site fixed the page
    app.send_task(letter.task, args=letter.args, kwargs={"replay_of": letter.id})
    assert_global_times(first_article(redis_client), site.base)
    wait_for(lambda: DeadLetters(redis_client).count() == 0, what="the dead letter to leave")
