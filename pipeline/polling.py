"""One poll of one feed: conditional fetch, parse, new-entry detection, and its next due time.

The caller hands in the fetcher, the registry and a function that enqueues the fetch of an entry,
so that this module runs the same under Celery, in a benchmark, or in a unit test.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import redis

from pipeline.dates import load_zone, parse_date
from pipeline.errors import FinalFetchError, NewsflowError, ThrottledError
from pipeline.feeds import parse_feed
from pipeline.fetch import SupportsFetch
from pipeline.models import FeedEntry
from pipeline.registry import Feed, FeedRegistry
from pipeline.schedule import PollBounds, entry_frequency_interval, error_backoff
from pipeline.settings import Settings
from pipeline.websub import discover

__all__ = ["PollOutcome", "poll_once", "ingest_entries", "FEED_ACCEPT"]

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")

log = logging.getLogger(__name__)

PollStatus = Literal["ok", "not-modified", "error", "disabled", "skipped", "throttled"]


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did."""

    status: PollStatus
    feed_url: str
    new_entries: int = 0
    error: str | None = None
    next_due: float | None = None
    moved_to: str | None = None
    hub: str | None = None  # WebSub: the hub the feed names and the topic to subscribe to
    topic: str | None = None


def bounds_for(feed: Feed, settings: Settings) -> PollBounds:
    """The feed's own interval bounds, else the configured ones."""
    minimum = feed.min_interval or settings.poll_min_interval
    maximum = max(minimum, feed.max_interval or settings.poll_max_interval)
    return PollBounds(minimum, maximum, min(maximum, max(minimum, settings.poll_interval)))


def poll_once(feed_url: str, *, fetcher: SupportsFetch, registry: FeedRegistry, settings: Settings,
              enqueue: Callable[[FeedEntry], None], now: float | None = None) -> PollOutcome:
    """Poll ``feed_url`` once, enqueue its new and updated entries, and schedule its next poll.

    Never runs twice at once for one feed: a second poll (another worker, a second beat, a
    `run --once` beside a running beat) finds the lock taken and skips.
    """
    with registry.polling(feed_url, ttl=settings.poll_lease) as mine:
        if not mine:
            return PollOutcome("skipped", feed_url, error="already being polled")
        return _poll(feed_url, fetcher, registry, settings, enqueue, now)


def _poll(feed_url: str, fetcher: SupportsFetch, registry: FeedRegistry, settings: Settings,
          enqueue: Callable[[FeedEntry], None], now: float | None) -> PollOutcome:
    feed = registry.get(feed_url)
    if feed is None or not feed.enabled:
        return PollOutcome("skipped", feed_url, error="removed" if feed is None else "disabled")
    now = now if now is not None else time.time()
    bounds = bounds_for(feed, settings)
    url = feed_url
    try:
        result = fetcher.fetch(url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_ACCEPT)
        if result.permanent_redirect and result.permanent_redirect != url:
            registry.move(url, result.permanent_redirect)  # 301/308 only: a 302/307 is temporary
            url = result.permanent_redirect
        if result.not_modified:
            interval = feed.interval or bounds.default
            registry.record_poll(url, status="not-modified", interval=interval)
            return _rescheduled(registry, PollOutcome("not-modified", url, moved_to=_moved(url, feed_url)),
                                now + interval)
        parsed = parse_feed(result.body, url, content_type=result.content_type,
                            timezone=feed.timezone, language=feed.language)
        new = ingest_entries(url, parsed.entries, registry=registry, enqueue=enqueue)
        interval = entry_frequency_interval(_published(parsed.entries, feed), _utc(now), bounds)
        registry.record_poll(url, status="ok", etag=result.etag, last_modified=result.last_modified,
                             interval=interval, warning=parsed.warning)
        if parsed.warning:
            log.warning("poll %s: %s", url, parsed.warning)
        found = discover(result.headers, parsed, url)
        return _rescheduled(registry, PollOutcome("ok", url, new, moved_to=_moved(url, feed_url),
                                                  hub=found.hub if found else None,
                                                  topic=found.topic if found else None), now + interval)
    except ThrottledError as exc:
        # The host is busy with our other requests: not the feed's fault, no error counted.
        return _rescheduled(registry, PollOutcome("throttled", url, error=str(exc)),
                            now + (exc.retry_after or 1.0))
    except FinalFetchError as exc:
        if exc.status == 410:
            registry.record_poll(url, status="gone", error=str(exc))
            registry.disable(url, f"the feed is gone (HTTP 410) since {_utc(now):%Y-%m-%d %H:%M} UTC")
            return PollOutcome("disabled", url, error=str(exc))
        return _failed(registry, settings, url, exc, bounds, now)
    except NewsflowError as exc:
        return _failed(registry, settings, url, exc, bounds, now)
    except redis.RedisError:
        raise  # our own state store is down: the task fails and the feed comes back with its lease
    except Exception as exc:  # an input nobody foresaw must not leave the feed on its lease
        log.exception("poll %s: unexpected error", url)
        unexpected = NewsflowError(f"unexpected {type(exc).__name__}: {exc}", url=url)
        return _failed(registry, settings, url, unexpected, bounds, now)


def ingest_entries(feed_url: str, entries: list[FeedEntry], *, registry: FeedRegistry,
                   enqueue: Callable[[FeedEntry], None]) -> int:
    """Enqueue the new and updated ones of ``entries`` (from a poll or a push); returns how many."""
    new = registry.new_entries(feed_url, entries)
    for entry in new:
        enqueue(entry)
    # Marked seen only once enqueued: a crash in between re-enqueues, and the idempotent
    # publish makes that harmless; the other order could lose entries.
    registry.mark_seen(feed_url, new)
    return len(new)


def _failed(registry: FeedRegistry, settings: Settings, url: str, exc: NewsflowError,
            bounds: PollBounds, now: float) -> PollOutcome:
    log.warning("poll %s failed: %s", url, exc)
    errors = registry.record_poll(url, status="error", error=str(exc))
    if errors >= settings.max_feed_errors:
        registry.disable(url, f"{errors} failed polls in a row; last: {exc}")
        return PollOutcome("disabled", url, error=str(exc))
    delay = error_backoff(errors, bounds, getattr(exc, "retry_after", None))
    return _rescheduled(registry, PollOutcome("error", url, error=str(exc)), now + delay)


def _rescheduled(registry: FeedRegistry, outcome: PollOutcome, due: float) -> PollOutcome:
    registry.schedule(outcome.feed_url, due)
    return replace(outcome, next_due=due)


def _published(entries: list[FeedEntry], feed: Feed) -> list[dt.datetime | None]:
    zone = load_zone(feed.timezone)
    parsed = (parse_date(e.published or e.updated, zone) for e in entries)
    return [p.instant if p else None for p in parsed]


def _moved(url: str, original: str) -> str | None:
    return url if url != original else None


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)
