"""The tasks: thin adapters from Celery messages to ``pipeline`` calls.

dispatch_due_feeds -> poll_feed -> fetch_article -> process_article -> topics
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any

from celery import Task

from pipeline.errors import FetchError
from pipeline.extract import extract_article
from pipeline.htmlparse import decode_html
from pipeline.models import FeedEntry
from pipeline.politeness import RobotsDisallowed
from pipeline.polling import poll_once
from pipeline.stats import incr
from workers import context
from workers.app import app
from workers.delivery import finish_replay, run_item
from workers.queues import POLL_QUEUE

_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


# One dispatcher run claims due feeds in batches until none is left, up to _DISPATCH_MAX: one batch
# per run would cap polling at _DISPATCH_BATCH / dispatch_every (100 polls/s) whatever the workers
# could do. It stops early while _POLL_BACKLOG polls wait, so that no queued poll outlives its lease.
_DISPATCH_BATCH = 500
_DISPATCH_MAX = 10_000
_POLL_BACKLOG = 5_000


@app.task(name="newsflow.dispatch_due_feeds", time_limit=60, soft_time_limit=50)
def dispatch_due_feeds() -> int:
    """Enqueue one poll for each feed that is due."""
    settings, registry, client = context.settings(), context.registry(), context.client()
    sent = 0
    with app.producer_or_acquire() as producer:
        while sent < _DISPATCH_MAX and client.llen(POLL_QUEUE) < _POLL_BACKLOG:
            urls = registry.claim_due(now=time.time(), lease=settings.poll_lease, limit=_DISPATCH_BATCH)
            for url in urls:
                poll_feed.apply_async((url,), producer=producer)
            sent += len(urls)
            if len(urls) < _DISPATCH_BATCH:
                break
    return sent


@app.task(name="newsflow.poll_feed", time_limit=120, soft_time_limit=100)
def poll_feed(feed_url: str) -> dict[str, Any]:
    """Poll one feed and enqueue a fetch for each new or updated entry.

    A failed poll is recorded on the feed (`newsflow feeds list` shows it) and rescheduled with
    back-off: the next poll is its retry.
    """
    outcome = poll_once(feed_url, fetcher=context.feed_fetcher(), registry=context.registry(),
                        settings=context.settings(),
                        enqueue=lambda entry: fetch_article.delay(entry.model_dump(mode="json")))
    with context.client().pipeline(transaction=False) as pipe:  # one round trip for the counters
        incr(pipe, "feeds_polled")
        incr(pipe, f"polls.{outcome.status}")
        if outcome.new_entries:
            incr(pipe, "entries_new", outcome.new_entries)
        pipe.execute()
    return dataclasses.asdict(outcome)


@app.task(name="newsflow.fetch_article", bind=True, max_retries=None, time_limit=90, soft_time_limit=75)
def fetch_article(self: Task, entry: dict[str, Any], replay_of: str | None = None) -> dict[str, Any]:
    """Fetch the page of one feed entry and hand it to the processing queue."""
    item = FeedEntry.model_validate(entry)

    def work() -> dict[str, Any]:
        try:
            result = context.fetcher().fetch(item.link, accept=_PAGE_ACCEPT, check_robots=True)
        except RobotsDisallowed:
            incr(context.client(), "skipped.robots")
            finish_replay(replay_of)
            return {"status": "skipped", "reason": "robots", "url": item.link}
        if result.not_modified:
            raise FetchError("page answered 304 to an unconditional request", url=item.link)
        html = decode_html(result.body, result.content_type)
        fetched_at = dt.datetime.now(dt.timezone.utc).isoformat()
        process_article.delay(entry, html, result.url, fetched_at, replay_of=replay_of)
        incr(context.client(), "pages_fetched")
        return {"status": "fetched", "url": result.url}

    return run_item(self, "fetch", item.feed_url, item.link, work)


@app.task(name="newsflow.trim_topics", time_limit=120, soft_time_limit=100)
def trim_topics() -> int:
    """Apply retention to every topic, also those that receive nothing (beat runs it every minute)."""
    return context.publisher().sweep()


@app.task(name="newsflow.process_article", bind=True, max_retries=None, time_limit=120, soft_time_limit=100)
def process_article(self: Task, entry: dict[str, Any] | None, html: str, url: str, fetched_at: str,
                    replay_of: str | None = None) -> dict[str, Any]:
    """Clean, extract and normalize one page, and publish the article once per revision."""
    feed_url = entry.get("feed_url") if entry else None

    def work() -> dict[str, Any]:
        article = extract_article(html, url, feed_entry=entry,
                                  fetched_at=dt.datetime.fromisoformat(fetched_at))
        if (index := context.near_duplicates()) is not None:
            article = index.mark(article)
        # The feed's registry tags route too (`by: feed_tag`); the entry's own tags are on the article.
        feed = context.registry().get(feed_url) if feed_url else None
        outcome = context.publisher().publish(article, feed_tags=feed.tags if feed else ())
        incr(context.client(), "articles_published" if outcome.published else "skipped.duplicate")
        if outcome.published and article.duplicate_of:
            incr(context.client(), "near_duplicates")
        finish_replay(replay_of)
        return {"status": outcome.reason, "id": article.id, "revision": outcome.revision,
                "topics": list(outcome.topics), "duplicate_of": article.duplicate_of}

    return run_item(self, "process", feed_url, url, work)
