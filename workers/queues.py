"""Queue names and routes: I/O-bound stages and CPU-bound stages on separate queues."""

from __future__ import annotations

import redis

POLL_QUEUE = "poll"  # dispatcher and feed polls: I/O-bound
FETCH_QUEUE = "fetch"  # article pages: I/O-bound
PROCESS_QUEUE = "process"  # cleaning and extraction: CPU-bound
QUEUES = (POLL_QUEUE, FETCH_QUEUE, PROCESS_QUEUE)
IO_QUEUES = (POLL_QUEUE, FETCH_QUEUE)
CPU_QUEUES = (PROCESS_QUEUE,)

ROUTES = {
    "newsflow.dispatch_due_feeds": {"queue": POLL_QUEUE},
    "newsflow.poll_feed": {"queue": POLL_QUEUE},
    "newsflow.fetch_article": {"queue": FETCH_QUEUE},
    "newsflow.process_article": {"queue": PROCESS_QUEUE},
    "newsflow.trim_topics": {"queue": PROCESS_QUEUE},
}

# Kombu's Redis transport keeps each queue in a list named after it, and messages handed to a
# worker but not yet acknowledged in this hash.
_UNACKED = "unacked"


def queue_depths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting in each queue, plus ``unacked``: taken by a worker, not yet done."""
    with client.pipeline() as pipe:
        for name in QUEUES:
            pipe.llen(name)
        pipe.hlen(_UNACKED)
        counts = pipe.execute()
    return dict(zip([*QUEUES, _UNACKED], (int(c) for c in counts)))


def is_drained(client: redis.Redis) -> bool:
    """True when no queue holds a message and no worker holds an unfinished one."""
    return not any(queue_depths(client).values())
