import datetime as dt
import time

import redis

from pipeline.models import Article, Source, content_hash
from pipeline.routing import load_topics_config
from pipeline.topics import Consumer, Publisher, read_topic


def article(text: str = "First paragraph.\n\nSecond paragraph.", url: str = "http://127.0.0.1/a") -> Article:
    return Article(
        id="a1", url=url, canonical_url=url, feed_url=None, source=Source(name="Test", domain="127.0.0.1"),
        title="T", authors=["A B"], published_at=None, updated_at=None, date_zone=None, language="en",
        summary=None, text=text, html="", word_count=4, image=None, tags=[], has_article=True,
        fetched_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), content_hash=content_hash("T", text),
    )


def test_publish_is_idempotent_and_revisions_count(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client)
    first = publisher.publish(article())
    assert (first.published, first.revision, len(first.stream_ids)) == (True, 1, 1)
    again = publisher.publish(article())
    assert (again.published, again.revision, again.reason) == (False, 1, "duplicate")
    changed = publisher.publish(article(text="A corrected paragraph."))
    assert (changed.published, changed.revision) == (True, 2)
    messages = read_topic(redis_client, from_start=True)
    assert [m.article.revision for m in messages] == [1, 2]
    assert messages[1].article.text == "A corrected paragraph."
    fields = redis_client.xrange("articles")[0][1]
    assert fields[b"schema_version"] == b"1" and fields[b"id"] == b"a1"


def test_publish_to_several_topics_at_once(redis_client: redis.Redis) -> None:
    outcome = Publisher(redis_client).publish(article(), topics=("articles", "articles.lang.en"))
    assert len(outcome.stream_ids) == 2
    assert redis_client.xlen("articles") == redis_client.xlen("articles.lang.en") == 1


def test_consumer_group_delivers_and_a_dead_consumers_messages_are_claimed(redis_client: redis.Redis) -> None:
    Publisher(redis_client).publish(article())
    dying = Consumer(redis_client, group="g", name="dying")
    (taken,) = dying.read(block_ms=None)
    # `dying` never acknowledges; after the idle timeout another member claims it.
    other = Consumer(redis_client, group="g", name="other", claim_idle_ms=0)
    (claimed,) = other.read(block_ms=None)
    assert claimed.id == taken.id and claimed.article.title == "T"
    other.ack(claimed)
    assert redis_client.xpending("articles", "g")["pending"] == 0
    assert other.read(block_ms=None) == []


def test_a_restarted_consumer_gets_its_own_pending_first(redis_client: redis.Redis) -> None:
    Publisher(redis_client).publish(article())
    (first,) = Consumer(redis_client, group="g", name="c1").read(block_ms=None)
    restarted = Consumer(redis_client, group="g", name="c1")
    (again,) = restarted.read(block_ms=None)
    assert again.id == first.id



def test_a_topic_that_receives_nothing_is_still_trimmed_by_age(redis_client: redis.Redis) -> None:
    config = load_topics_config("{retention: {articles.quiet: {max_age: 1h}}}")
    now_ms = int(time.time() * 1000)
    doc = {"schema_version": 1, "id": "q", "revision": 1, "article": article().to_json()}
    old = redis_client.xadd("articles.quiet", doc, id=f"{now_ms - 7_200_000}-0")  # two hours old
    recent = redis_client.xadd("articles.quiet", doc, id=f"{now_ms - 60_000}-0")
    redis_client.sadd("newsflow:topics", "articles.quiet")
    publisher = Publisher(redis_client, config=config)
    publisher.publish(article(text="Goes to articles only."))
    assert [m.id for m in read_topic(redis_client, "articles.quiet", from_start=True)] == [old.decode(), recent.decode()]
    assert publisher.sweep() == 1  # what beat runs every minute
    assert [m.id for m in read_topic(redis_client, "articles.quiet", from_start=True)] == [recent.decode()]