"""Per-process resources of a worker, made on first use so that each prefork child makes its own."""

from __future__ import annotations

from functools import cache

import redis

from pipeline.deadletters import DeadLetters
from pipeline.fetch import Fetcher
from pipeline.fingerprint import NearDuplicateIndex
from pipeline.politeness import PoliteFetcher
from pipeline.registry import FeedRegistry
from pipeline.settings import Settings
from pipeline.topics import Publisher


@cache
def settings() -> Settings:
    """The worker's settings, from the environment."""
    return Settings()


@cache
def client() -> redis.Redis:
    """The Redis client for registry, topics and dead letters."""
    return redis.Redis.from_url(settings().redis_url or "", health_check_interval=30)


@cache
def _http() -> Fetcher:
    return Fetcher(settings())  # one keep-alive pool per process, for pages and feeds alike


@cache
def fetcher() -> PoliteFetcher:
    """The HTTP fetcher for article pages, polite to every host."""
    return PoliteFetcher(client(), _http(), settings())


@cache
def feed_fetcher() -> PoliteFetcher:
    """The HTTP fetcher for feed polls: a busy host reschedules the poll instead of holding a thread."""
    return PoliteFetcher(client(), _http(), settings(), wait=settings().feed_host_wait)


@cache
def registry() -> FeedRegistry:
    """The feed registry."""
    return FeedRegistry(client(), seen_limit=settings().seen_per_feed)


@cache
def publisher() -> Publisher:
    """The idempotent topic publisher, with the configured routes and retention."""
    return Publisher(client(), config=settings().topics_config)


@cache
def near_duplicates() -> NearDuplicateIndex | None:
    """The near-duplicate index shared by every worker, or None when detection is off."""
    s = settings()
    if not s.near_duplicates:
        return None
    return NearDuplicateIndex(client(), threshold=s.near_duplicate_threshold, window_s=s.near_duplicate_window)


@cache
def dead_letters() -> DeadLetters:
    """The dead-letter stream."""
    return DeadLetters(client())
