"""Retries, attempt counting and dead letters around each per-item task."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import redis
from celery import Task
from celery.exceptions import Retry, SoftTimeLimitExceeded

from pipeline import keys
from pipeline.errors import NewsflowError, ThrottledError
from pipeline.stats import incr
from workers import context

_ATTEMPTS_TTL = 7 * 24 * 3600
_BACKOFF_BASE = 5.0
_BACKOFF_CAP = 600.0


def backoff(retries: int, retry_after: float | None = None) -> float:
    """Seconds before the next try: exponential with jitter, at least Retry-After, always well
    inside the broker's visibility timeout."""
    delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2**retries) * random.uniform(0.5, 1.5)
    if retry_after:
        delay = max(delay, retry_after)
    return min(delay, context.settings().visibility_timeout / 2)


def run_item(task: Task, stage: str, feed_url: str | None, url: str | None,
             work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work`` for one item: retry what can pass, dead-letter what cannot.

    Attempts are counted in Redis per task ID, across retries and redeliveries, so a page that
    kills its worker every time ends in the dead letters instead of coming back forever.
    """
    max_attempts = context.settings().max_attempts
    attempts_key = f"{keys.PREFIX}:attempts:{task.request.id}"
    attempts = int(context.client().incr(attempts_key))
    context.client().expire(attempts_key, _ATTEMPTS_TTL)
    if attempts > max_attempts:
        return _dead_letter(task, stage, feed_url, url, attempts - 1, "AttemptsExhausted",
                            f"gave up after {attempts - 1} attempts: the worker died or hit its time "
                            "limit each time")
    try:
        result = work()
    except Retry:
        raise
    except ThrottledError as exc:
        # Waiting for a host's turn is not a failed attempt.
        context.client().decr(attempts_key)
        incr(context.client(), f"throttled.{stage}")
        raise task.retry(exc=exc, countdown=exc.retry_after, max_retries=None) from exc
    except NewsflowError as exc:
        if exc.retryable and attempts < max_attempts:
            incr(context.client(), f"retried.{stage}")
            raise task.retry(exc=exc, countdown=backoff(task.request.retries,
                                                        getattr(exc, "retry_after", None)))
        return _dead_letter(task, stage, feed_url, url, attempts, type(exc).__name__, exc.message)
    except redis.RedisError as exc:
        # Our own state store blinked: transient by nature, so retry, never dead-letter.
        raise task.retry(exc=exc, countdown=backoff(task.request.retries), max_retries=None) from exc
    except SoftTimeLimitExceeded:
        if attempts < max_attempts:
            raise task.retry(countdown=backoff(task.request.retries))
        return _dead_letter(task, stage, feed_url, url, attempts, "TimeLimitExceeded",
                            "the task went over its time limit on every attempt")
    except Exception as exc:  # a bug or an input we did not foresee: keep the item, say why
        return _dead_letter(task, stage, feed_url, url, attempts, type(exc).__name__, str(exc))
    context.client().delete(attempts_key)
    return result


def finish_replay(replay_of: str | None) -> None:
    """A replayed dead letter made it through: remove it from the dead letters."""
    if replay_of:
        context.dead_letters().remove(replay_of)


def _dead_letter(task: Task, stage: str, feed_url: str | None, url: str | None, attempts: int,
                 error: str, message: str) -> dict[str, Any]:
    context.dead_letters().add(stage=stage, error=error, message=message, attempts=attempts,
                               feed_url=feed_url, url=url, task=str(task.name),
                               args=list(task.request.args or []))
    # A replay that failed again is replaced by its new dead letter, not kept twice.
    finish_replay((task.request.kwargs or {}).get("replay_of"))
    context.client().delete(f"{keys.PREFIX}:attempts:{task.request.id}")
    incr(context.client(), f"dead_letters.{stage}")
    return {"status": "dead-letter", "error": error, "message": message}
