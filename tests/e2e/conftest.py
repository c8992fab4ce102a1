from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from newsflow.redis_server import RedisServer


@pytest.fixture(scope="session", autouse=True)
def _tasks_go_to_the_test_redis(redis_server: RedisServer) -> Iterator[None]:
    """`workers.app` reads NEWSFLOW_REDIS_URL when first imported: point it at the session's Redis."""
    previous = os.environ.get("NEWSFLOW_REDIS_URL")
    os.environ["NEWSFLOW_REDIS_URL"] = redis_server.url
    yield
    if previous is None:
        os.environ.pop("NEWSFLOW_REDIS_URL", None)
    else:
        os.environ["NEWSFLOW_REDIS_URL"] = previous
