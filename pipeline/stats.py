"""Counters of what the pipeline did, kept in Redis so every worker adds to the same ones."""

from __future__ import annotations

from typing import Any

import redis

from pipeline import keys

__all__ = ["incr", "read_counters"]


def incr(client: redis.Redis, name: str, amount: int = 1) -> None:
    """Add ``amount`` to the counter ``name`` (e.g. ``feeds_polled``, ``skipped.duplicate``)."""
    client.hincrby(keys.COUNTERS, name, amount)


def read_counters(client: redis.Redis) -> dict[str, int]:
    """Every counter, by name."""
    raw: Any = client.hgetall(keys.COUNTERS)  # bytes, as the client does not decode responses
    return {k.decode(): int(v) for k, v in raw.items()}
