"""Dead letters: work that failed for good, kept with what is needed to run it again."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from pipeline import keys

__all__ = ["DeadLetter", "DeadLetters"]


@dataclass(frozen=True)
class DeadLetter:
    """One failed item: where and why it failed, and the task call that replays it."""

    id: str
    stage: str
    error: str
    message: str
    attempts: int
    feed_url: str | None
    url: str | None
    task: str
    args: list[Any]
    failed_at: float

    def to_dict(self) -> dict[str, Any]:
        """A plain record, as `newsflow dlq show` prints it."""
        return dict(self.__dict__)


class DeadLetters:
    """The dead-letter stream."""

    def __init__(self, client: redis.Redis, stream: str = keys.DEAD_LETTER_STREAM) -> None:
        self.redis = client
        self.stream = stream

    def add(self, *, stage: str, error: str, message: str, attempts: int, feed_url: str | None,
            url: str | None, task: str, args: list[Any]) -> str:
        """Record a failed item; returns its ID."""
        fields = {"stage": stage, "error": error, "message": message, "attempts": attempts,
                  "feed_url": feed_url, "url": url, "task": task, "args": args,
                  "failed_at": time.time()}
        letter_id: Any = self.redis.xadd(self.stream, {k: orjson.dumps(v) for k, v in fields.items()})
        return str(letter_id.decode())

    def list(self, count: int | None = None) -> list[DeadLetter]:
        """The dead letters, oldest first."""
        found: Any = self.redis.xrange(self.stream, count=count)
        return [self._decode(mid, f) for mid, f in found]

    def get(self, letter_id: str) -> DeadLetter | None:
        """One dead letter by ID, or None."""
        try:
            found: Any = self.redis.xrange(self.stream, letter_id, letter_id)
        except redis.ResponseError:
            return None
        return self._decode(*found[0]) if found else None

    def remove(self, letter_id: str) -> bool:
        """Delete one dead letter (after a replay succeeded)."""
        return bool(self.redis.xdel(self.stream, letter_id))

    def purge(self) -> int:
        """Delete every dead letter; returns how many there were."""
        # Rename first: a letter added meanwhile lands in a new stream instead of vanishing uncounted.
        doomed = f"{self.stream}:purging"
        try:
            self.redis.rename(self.stream, doomed)
        except redis.ResponseError:  # no such key: nothing to purge
            return 0
        count = int(self.redis.xlen(doomed))
        self.redis.delete(doomed)
        return count

    def count(self) -> int:
        """How many dead letters there are."""
        return int(self.redis.xlen(self.stream))

    @staticmethod
    def _decode(message_id: bytes, fields: dict[bytes, bytes]) -> DeadLetter:
        data = {k.decode(): orjson.loads(v) for k, v in fields.items()}
        return DeadLetter(id=message_id.decode(), **data)
