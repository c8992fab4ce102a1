"""Routed publishing and near-duplicate marking on a real Redis."""

from __future__ import annotations

import threading
import time

import redis

from newsflow.redis_server import RedisServer
from pipeline.fingerprint import NearDuplicateIndex
from pipeline.models import Article
from pipeline.routing import load_topics_config
from pipeline.topics import Publisher, known_topics, read_topic
from tests.integration.test_topics import article
from tests.unit.test_fingerprint import TEXTS, copies

CONFIG = load_topics_config("""
routes:
  - by: language
  - by: tag
retention:
  "articles.tag.*": {maxlen: 2}
exclude_duplicates: ["articles.tag.*"]
""")


def story(article_id: str, text: str, **changes: object) -> Article:
    return article(text=text).model_copy(update={"id": article_id, "tags": ["World"], **changes})


def test_a_changed_story_gets_the_next_revision_on_every_topic(redis_client: redis.Redis) -> None:
    publisher = Publisher(redis_client, config=CONFIG)
    first = publisher.publish(story("s1", "One."))
    assert first.topics == ("articles", "articles.lang.en", "articles.tag.world")
    assert publisher.publish(story("s1", "One.")).published is False  # same content: nothing
    changed = publisher.publish(story("s1", "One, corrected."))
    assert (changed.published, changed.revision, len(changed.stream_ids)) == (True, 2, 3)
    for topic in first.topics:
        assert [m.article.revision for m in read_topic(redis_client, topic, from_start=True)] == [1, 2]
    assert known_topics(redis_client) == list(first.topics)


def test_near_duplicates_are_marked_and_kept_out_of_chosen_topics(redis_client: redis.Redis) -> None:
    index, publisher = NearDuplicateIndex(redis_client), Publisher(redis_client, config=CONFIG)
    text = TEXTS["global-times-putin-nk"]
    original = index.mark(story("wire-1", text))
    copy = index.mark(story("wire-2", copies(text)["trailer"]))
    other = index.mark(story("other", TEXTS["harbor-gazette-ferry-strike"]))
    assert (original.duplicate_of, copy.duplicate_of, other.duplicate_of) == (None, "wire-1", None)
    for a in (original, copy, other):
        publisher.publish(a)
    assert [m.article.id for m in read_topic(redis_client, "articles", from_start=True)] == [
        "wire-1", "wire-2", "other"]
    assert [m.article.duplicate_of for m in read_topic(redis_client, "articles", from_start=True)] == [
        None, "wire-1", None]
    assert [m.article.id for m in read_topic(redis_client, "articles.tag.world", from_start=True)] == [
        "wire-1", "other"]
    # A revised original stays the original; a re-run of the copy finds the same original.
    assert index.mark(story("wire-1", copies(text)["edited sentence"])).duplicate_of is None
    assert index.mark(story("wire-2", copies(text)["trailer"])).duplicate_of == "wire-1"


def test_copies_processed_at_once_never_both_pass_as_originals(
    redis_client: redis.Redis, redis_server: RedisServer
) -> None:
    """Several "workers" mark copies of one story at the same instant, in rounds: exactly one of
    each round is the original. (Before Redis's clock was made strictly increasing, two scripts in
    the same millisecond both passed as originals about once in ten runs.)"""
    text = TEXTS["northwind-solid-state-battery"]
    variants = [text, *copies(text).values()]
    for round_ in range(5):
        results: dict[str, str | None] = {}
        barrier = threading.Barrier(len(variants))

        def run(name: str, body: str) -> None:
            with redis.Redis.from_url(redis_server.url) as client:  # one connection per "worker"
                index = NearDuplicateIndex(client)
                barrier.wait()
                results[name] = index.mark(story(name, body)).duplicate_of

        threads = [threading.Thread(target=run, args=(f"r{round_}c{i}", v)) for i, v in enumerate(variants)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == len(variants)
        originals = [name for name, dup in results.items() if dup is None]
        assert len(originals) == 1, results
        assert all(d == originals[0] for d in results.values() if d)
        redis_client.delete(*redis_client.keys("newsflow:lsh:*"))  # next round: a fresh index


def test_short_items_and_pages_without_a_story_are_not_compared(redis_client: redis.Redis) -> None:
    index = NearDuplicateIndex(redis_client)
    assert index.check("x", "Too short to say.") is None
    page = story("home", TEXTS["global-times-putin-nk"], has_article=False)
    assert index.mark(page) is page
    assert not list(redis_client.scan_iter("newsflow:lsh:*"))


def test_the_index_forgets_after_its_window(redis_client: redis.Redis) -> None:
    text = TEXTS["lattice-weekly-chip-export"]
    index = NearDuplicateIndex(redis_client, window_s=0.05)
    index.check("old", text)
    time.sleep(0.1)
    assert index.check("new", copies(text)["dateline"]) is None
    assert redis_client.exists("newsflow:minhash:old") == 0
