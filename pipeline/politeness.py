"""Politeness shared by every worker: per-host concurrency and rate limits, and robots.txt.

Both live in Redis, so ten workers on five machines are as polite to a host as one would be.
``PoliteFetcher`` wraps a ``Fetcher`` with them and keeps its interface.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import redis
from protego import Protego

from pipeline import keys
from pipeline.errors import FinalFetchError, NewsflowError, RetryableFetchError, ThrottledError
from pipeline.fetch import Fetcher, FetchResult
from pipeline.settings import Settings

__all__ = ["HostLimiter", "RobotsPolicy", "PoliteFetcher", "host_of"]

# One step: drop holders whose hold expired (a worker that died holding a slot), then take a slot
# if the host has a free one and its next request time has come. Returns 0 when taken, else the
# seconds to wait before trying again.
_ACQUIRE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return '0.05'
end
local next_at = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < next_at then
  return tostring(next_at - now)
end
redis.call('SET', KEYS[2], tostring(math.max(now, next_at) + tonumber(ARGV[4])), 'EX', 3600)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[2])
redis.call('EXPIRE', KEYS[1], 3600)
return '0'
"""

_ROBOTS_MAX_BYTES = 512_000
_ROBOTS_UNREACHABLE_TTL = 600
_PARSED_CACHE_SECONDS = 60.0
_PARSED_CACHE_SIZE = 512


def host_of(url: str) -> str:
    """``host:port`` of ``url``, the unit of politeness."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


class HostLimiter:
    """At most ``concurrency`` requests in flight and ``rate`` per second for each host."""

    def __init__(self, client: redis.Redis, *, concurrency: int, rate: float, hold: float = 120.0) -> None:
        self.redis = client
        self.concurrency = concurrency
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.hold = hold
        self._acquire = client.register_script(_ACQUIRE)

    @contextlib.contextmanager
    def slot(self, url: str, *, wait: float) -> Iterator[None]:
        """Hold one of the host's slots for the block; ThrottledError after ``wait`` seconds."""
        host = host_of(url)
        holders, next_key = keys.host_slots_key(host), keys.host_next_key(host)
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        while True:
            delay = float(self._acquire(keys=[holders, next_key],
                                        args=[time.time(), token, self.concurrency, self.interval, self.hold]))
            if delay <= 0:
                break
            if time.monotonic() + delay > deadline:
                raise ThrottledError(f"host {host} is at its politeness limit", url=url,
                                     retry_after=max(delay, 1.0))
            time.sleep(min(delay, 0.5))
        try:
            yield
        finally:
            self.redis.zrem(holders, token)


class RobotsPolicy:
    """robots.txt of each host, fetched once and cached in Redis (RFC 9309 rules)."""

    def __init__(self, client: redis.Redis, fetch: Callable[[str], FetchResult], *, user_agent: str,
                 ttl: float) -> None:
        self.redis = client
        self.fetch = fetch
        self.agent = user_agent.split("/", 1)[0]  # robots.txt groups name the product token
        self.ttl = ttl
        self._parsed: dict[str, tuple[float, Protego]] = {}

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets newsflow fetch ``url``."""
        return self._rules(url).can_fetch(url, self.agent)

    def _rules(self, url: str) -> Protego:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        cached = self._parsed.get(origin)
        if cached and time.monotonic() - cached[0] < _PARSED_CACHE_SECONDS:
            return cached[1]
        body = self._body(origin)
        rules = Protego.parse(body)
        if len(self._parsed) >= _PARSED_CACHE_SIZE:
            self._parsed.clear()
        self._parsed[origin] = (time.monotonic(), rules)
        return rules

    def _body(self, origin: str) -> str:
        key = keys.robots_key(origin)
        stored: Any = self.redis.get(key)
        if stored is not None:
            return stored.decode("utf-8", errors="replace")
        try:
            result = self.fetch(f"{origin}/robots.txt")
            body = result.body[:_ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        except FinalFetchError as exc:
            if exc.status is None or not 400 <= exc.status < 500:
                raise
            body = ""  # RFC 9309: a robots.txt that is unavailable (4xx) allows everything
        except RetryableFetchError as exc:
            # RFC 9309: unreachable (5xx, timeouts) means disallow for now; retry the page later.
            raise RetryableFetchError(f"robots.txt unreachable: {exc.message}", url=exc.url,
                                      retry_after=_ROBOTS_UNREACHABLE_TTL) from exc
        self.redis.set(key, body, ex=int(self.ttl))
        return body


class PoliteFetcher:
    """A Fetcher that waits for its host's turn and, for article pages, asks robots.txt first."""

    def __init__(self, client: redis.Redis, fetcher: Fetcher, settings: Settings, *,
                 wait: float | None = None) -> None:
        self.fetcher = fetcher
        self.limiter = HostLimiter(client, concurrency=settings.host_concurrency, rate=settings.host_rate)
        self.robots = RobotsPolicy(client, lambda url: self._fetch(url, None, None, "text/plain"),
                                   user_agent=settings.effective_user_agent, ttl=settings.robots_ttl)
        self.wait = settings.host_wait if wait is None else wait

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              accept: str = "*/*", check_robots: bool = False) -> FetchResult:
        """Fetch ``url`` politely; RobotsDisallowed when asked to check robots.txt and it forbids it."""
        if check_robots and not self.robots.allowed(url):
            raise RobotsDisallowed("robots.txt disallows this page", url=url)
        return self._fetch(url, etag, last_modified, accept)

    def _fetch(self, url: str, etag: str | None, last_modified: str | None, accept: str) -> FetchResult:
        with self.limiter.slot(url, wait=self.wait):
            return self.fetcher.fetch(url, etag=etag, last_modified=last_modified, accept=accept)


class RobotsDisallowed(NewsflowError):
    """robots.txt forbids the page: a skip with its reason, not a failure."""

    stage = "robots"
