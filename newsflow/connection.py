"""Which Redis a command talks to: NEWSFLOW_REDIS_URL, else the embedded one under NEWSFLOW_HOME."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from newsflow.redis_server import embedded_redis
from pipeline.settings import Settings


@contextlib.contextmanager
def redis_url(settings: Settings) -> Iterator[str]:
    """The Redis URL to use for the length of the block."""
    if settings.redis_url:
        yield settings.redis_url
        return
    with embedded_redis(settings.home) as url:
        yield url
