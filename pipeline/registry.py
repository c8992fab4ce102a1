"""The feed registry in Redis: one hash per feed, a due-time sorted set, and a seen-set per feed."""

from __future__ import annotations

import builtins
import contextlib
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
import redis
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline import keys
from pipeline.dates import load_zone
from pipeline.errors import ConfigError
from pipeline.models import FeedEntry

__all__ = ["Feed", "FeedRegistry"]

# Take the feeds due now and push each one lease into the future in one step, so that two
# dispatchers (two beats, or a slow one) never hand out the same feed twice, and a feed whose
# poll crashed comes due again when its lease ends instead of being lost from the schedule.
_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, url in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], url)
end
return due
"""


class Feed(BaseModel):
    """One registered feed and its polling state."""

    model_config = ConfigDict(extra="ignore")

    url: str
    name: str | None = None
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    timezone: str | None = None
    language: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_status: str | None = None
    last_error: str | None = None
    error_count: int = 0
    last_polled_at: float | None = None
    next_due: float | None = None
    entries_seen: int = 0
    min_interval: float | None = Field(default=None, description="overrides NEWSFLOW_POLL_MIN_INTERVAL")
    max_interval: float | None = Field(default=None, description="overrides NEWSFLOW_POLL_MAX_INTERVAL")
    interval: float | None = Field(default=None, description="the interval the scheduler chose last")
    disabled_reason: str | None = None

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"feed URL must start with http:// or https://, got {value!r}")
        return value

    @field_validator("language")
    @classmethod
    def _iso_language(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 2 and value.isalpha()):
            raise ValueError(f"language must be an ISO 639-1 code such as 'en', got {value!r}")
        return value.lower() if value else None

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Feed:
        if self.min_interval and self.max_interval and self.min_interval > self.max_interval:
            raise ValueError(f"min_interval {self.min_interval:g} s is above max_interval {self.max_interval:g} s")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        try:
            load_zone(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from exc
        return value


#: What a user sets on a feed; the rest of a Feed is polling state that `add` leaves alone.
_SETTINGS_FIELDS = {"url", "name", "enabled", "tags", "timezone", "language", "min_interval", "max_interval"}


# Delete the lock only if it is still ours: it may have expired and been taken by another poll.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# The writes of a poll, one round trip each (a poll is mostly these; see bench/feeds_scale.py), and
# only on a feed that is still registered: a feed removed meanwhile stays removed, with no stray hash.
_SCHEDULE = """
redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'next_due', ARGV[3]) end
return 0
"""
# ARGV[1] is '1' when the poll failed: then one more error in a row, and the count is returned.
_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if ARGV[1] == '1' then return redis.call('HINCRBY', KEYS[1], 'error_count', 1) end
return 0
"""


class FeedRegistry:
    """Feeds, their schedule and their seen entries, stored in Redis."""

    def __init__(self, client: redis.Redis, *, seen_limit: int = 5000) -> None:
        self.redis = client
        self.seen_limit = seen_limit
        self._claim = client.register_script(_CLAIM_DUE)
        self._unlock = client.register_script(_UNLOCK)
        self._schedule = client.register_script(_SCHEDULE)
        self._record = client.register_script(_RECORD)

    def add(self, feed: Feed, *, due: float | None = None) -> bool:
        """Register ``feed`` (or update its settings); False when it already existed."""
        was_enabled: Any = self.redis.hget(keys.feed_key(feed.url), "enabled")
        existed = was_enabled is not None
        fields = feed.model_dump(include=_SETTINGS_FIELDS)
        if feed.enabled:
            fields["disabled_reason"] = None
            if was_enabled == b"false":  # re-enabled: its old failures no longer count
                fields.update(error_count=0, last_error=None)
        with self.redis.pipeline() as pipe:
            pipe.hset(keys.feed_key(feed.url), mapping=_encode(fields))
            pipe.sadd(keys.FEEDS_ALL, feed.url)
            if due is not None:
                pipe.zadd(keys.FEEDS_DUE, {feed.url: due})
            elif feed.enabled:  # new, or re-enabled: due now, unless it is on the schedule already
                pipe.zadd(keys.FEEDS_DUE, {feed.url: time.time()}, nx=True)
            else:
                pipe.zrem(keys.FEEDS_DUE, feed.url)
            pipe.execute()
        return not existed

    def get(self, url: str) -> Feed | None:
        """The feed registered under ``url``, or None."""
        raw: Any = self.redis.hgetall(keys.feed_key(url))
        return Feed.model_validate(_decode(raw)) if raw else None

    def list(self) -> list[Feed]:
        """Every registered feed, sorted by URL."""
        members: Any = self.redis.smembers(keys.FEEDS_ALL)
        urls = sorted(u.decode() for u in members)
        with self.redis.pipeline() as pipe:
            for url in urls:
                pipe.hgetall(keys.feed_key(url))
            raws = pipe.execute()
        return [Feed.model_validate(_decode(raw)) for raw in raws if raw]

    def remove(self, url: str) -> bool:
        """Forget ``url``, its schedule and its seen entries; False when it was not registered."""
        with self.redis.pipeline() as pipe:
            pipe.srem(keys.FEEDS_ALL, url)
            pipe.zrem(keys.FEEDS_DUE, url)
            pipe.delete(keys.feed_key(url), keys.feed_seen_key(url), keys.feed_seen_order_key(url))
            removed = pipe.execute()[0]
        return bool(removed)

    @contextlib.contextmanager
    def polling(self, url: str, *, ttl: float) -> Iterator[bool]:
        """Hold the feed's poll lock for the block; yields False when another poll holds it.

        The lock expires after ``ttl`` seconds, so a poll that died cannot block the feed for good.
        """
        key, token = keys.feed_lock_key(url), uuid.uuid4().hex
        taken = bool(self.redis.set(key, token, nx=True, px=int(ttl * 1000)))
        try:
            yield taken
        finally:
            if taken:
                self._unlock(keys=[key], args=[token])

    def claim_due(self, *, now: float, lease: float, limit: int = 500) -> builtins.list[str]:
        """Feeds due at ``now``, each held for ``lease`` seconds so that nobody else takes it."""
        urls: Any = self._claim(keys=[keys.FEEDS_DUE], args=[now, now + lease, limit])
        return [u.decode() for u in urls]

    def schedule(self, url: str, due: float) -> None:
        """Set the next due time of ``url`` (a feed removed meanwhile stays removed)."""
        self._schedule(keys=[keys.FEEDS_DUE, keys.feed_key(url)], args=[due, url, orjson.dumps(due)])

    def record_poll(self, url: str, *, status: str, etag: str | None = None,
                    last_modified: str | None = None, error: str | None = None,
                    interval: float | None = None, warning: str | None = None) -> int:
        """Store the outcome of one poll; returns the errors in a row (a success resets them).

        A ``warning`` (a feed parsed despite its faults) is shown like an error but is not counted.
        """
        key = keys.feed_key(url)
        fields: dict[str, Any] = {"last_status": status, "last_polled_at": time.time()}
        if interval is not None:
            fields["interval"] = interval
        if error is None:
            fields.update(last_error=warning, error_count=0)
            if etag is not None:
                fields["etag"] = etag
            if last_modified is not None:
                fields["last_modified"] = last_modified
            self._record(keys=[key], args=[0, *_flat(fields)])
            return 0
        fields["last_error"] = error
        return int(self._record(keys=[key], args=[1, *_flat(fields)]))

    def disable(self, url: str, reason: str) -> None:
        """Stop polling ``url``; the reason shows in `newsflow feeds list`."""
        if self.redis.exists(keys.feed_key(url)):
            self.redis.hset(keys.feed_key(url),
                            mapping=_encode({"enabled": False, "disabled_reason": reason}))
            self.redis.zrem(keys.FEEDS_DUE, url)

    def move(self, old: str, new: str) -> None:
        """The feed moved for good (301/308): keep its settings, state and seen entries under ``new``."""
        if old == new or not self.redis.exists(keys.feed_key(old)):
            return
        if self.redis.exists(keys.feed_key(new)):  # already registered at its new address
            self.remove(old)
            return
        with self.redis.pipeline() as pipe:
            pipe.rename(keys.feed_key(old), keys.feed_key(new))
            pipe.hset(keys.feed_key(new), mapping=_encode({"url": new}))
            for moved in (keys.feed_seen_key, keys.feed_seen_order_key):
                pipe.copy(moved(old), moved(new))
                pipe.delete(moved(old))
            pipe.srem(keys.FEEDS_ALL, old)
            pipe.sadd(keys.FEEDS_ALL, new)
            pipe.zscore(keys.FEEDS_DUE, old)
            pipe.zrem(keys.FEEDS_DUE, old)
            score = pipe.execute()[-2]
        # The new address keeps the old one's place, which is the running poll's lease: due now,
        # the next dispatch would poll it beside the poll that is still moving it.
        self.redis.zadd(keys.FEEDS_DUE, {new: score if score is not None else time.time()})

    def new_entries(self, url: str, entries: Iterable[FeedEntry]) -> builtins.list[FeedEntry]:
        """The entries not seen before, or seen with another fingerprint (an updated entry)."""
        entries = list(entries)
        if not entries:
            return []
        known: Any = self.redis.hmget(keys.feed_seen_key(url), [e.key for e in entries])
        return [e for e, fp in zip(entries, known) if fp is None or fp.decode() != e.fingerprint]

    def mark_seen(self, url: str, entries: Iterable[FeedEntry]) -> None:
        """Remember ``entries``; the oldest keys beyond the limit are forgotten."""
        entries = list(entries)
        if not entries or not self.redis.exists(keys.feed_key(url)):
            return  # nothing new, or the feed was removed during its poll: leave no stray keys
        now = time.time()
        seen, order = keys.feed_seen_key(url), keys.feed_seen_order_key(url)
        with self.redis.pipeline() as pipe:
            pipe.hset(seen, mapping={e.key: e.fingerprint for e in entries})
            pipe.zadd(order, {e.key: now for e in entries})
            pipe.zrange(order, 0, -self.seen_limit - 1)
            stale = pipe.execute()[2]
        with self.redis.pipeline() as pipe:
            if stale:
                pipe.hdel(seen, *stale)
                pipe.zrem(order, *stale)
            pipe.hlen(seen)
            count = pipe.execute()[-1]
        self._record(keys=[keys.feed_key(url)], args=["0", *_flat({"entries_seen": count})])


def _encode(fields: dict[str, Any]) -> dict[Any, bytes]:
    return {k: orjson.dumps(v) for k, v in fields.items()}


def _flat(fields: dict[str, Any]) -> list[str | bytes]:
    return [item for pair in _encode(fields).items() for item in pair]


def _decode(raw: dict[bytes, bytes]) -> dict[str, Any]:
    return {k.decode(): orjson.loads(v) for k, v in raw.items()}
