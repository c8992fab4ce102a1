"""When to poll a feed next: as often as it publishes, within bounds, backing off on errors.

Pure arithmetic over plain values, after Miniflux's entry-frequency scheduler: a feed that published
``n`` entries in the last week is polled every ``week / n``, never more often than the minimum nor
less often than the maximum interval; errors back off exponentially, and a server's Retry-After is
honoured for the feed that got it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass

WEEK = 7 * 24 * 3600.0


@dataclass(frozen=True)
class PollBounds:
    """The interval bounds of one feed, in seconds."""

    minimum: float
    maximum: float
    default: float

    def clamp(self, seconds: float) -> float:
        """``seconds`` within the bounds."""
        return max(self.minimum, min(self.maximum, seconds))


def entry_frequency_interval(published: Iterable[dt.datetime | None], now: dt.datetime,
                             bounds: PollBounds) -> float:
    """The interval that matches how often the feed published in the last week."""
    dates = [p for p in published if p is not None]
    week_ago = now - dt.timedelta(seconds=WEEK)
    recent = sum(1 for p in dates if week_ago <= p <= now)
    if recent == 0:
        # Dated entries, none this week: a quiet feed. No dates at all: we cannot tell.
        return bounds.maximum if dates else bounds.default
    return bounds.clamp(WEEK / recent)


def error_backoff(errors: int, bounds: PollBounds, retry_after: float | None = None,
                  jitter: float = 0.1) -> float:
    """The delay after ``errors`` failures in a row: exponential from the minimum, capped at the
    maximum, with jitter so that feeds failing together do not come back together."""
    delay = bounds.minimum * 2 ** max(0, errors - 1)
    delay = min(bounds.maximum, delay) * random.uniform(1 - jitter, 1 + jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
