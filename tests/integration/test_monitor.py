import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import redis

from ops.monitor import MonitorServer
from pipeline.deadletters import DeadLetters
from pipeline.registry import Feed, FeedRegistry
from pipeline.stats import incr


@pytest.fixture()
def monitor(redis_client: redis.Redis) -> Iterator[str]:
    server = MonitorServer(redis_client, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def test_metrics_read_the_live_state(redis_client: redis.Redis, monitor: str) -> None:
    registry = FeedRegistry(redis_client)
    registry.add(Feed(url="http://127.0.0.1:9/a.xml"))
    registry.add(Feed(url="http://127.0.0.1:9/b.xml"))
    registry.disable("http://127.0.0.1:9/b.xml", "the feed is gone (HTTP 410)")
    incr(redis_client, "articles_published", 3)
    redis_client.rpush("fetch", "m1", "m2")
    DeadLetters(redis_client).add(stage="fetch", error="E", message="m", attempts=1, feed_url=None,
                                  url=None, task="t", args=[])
    status, text = get(f"{monitor}/metrics")
    assert status == 200
    assert 'newsflow_queue_depth{queue="fetch"} 2.0' in text
    assert 'newsflow_events_total{event="articles_published"} 3.0' in text
    assert 'newsflow_feeds{state="disabled"} 1.0' in text
    assert "newsflow_dead_letters 1.0" in text
    assert 'newsflow_topic_length{topic="articles"} 0.0' in text
    assert "newsflow_topic_dropped_unread_total" in text
    _, page = get(f"{monitor}/")
    assert "the feed is gone (HTTP 410)" in page


def test_healthz(monitor: str) -> None:
    assert get(f"{monitor}/healthz") == (200, "ok\n")


def test_healthz_says_503_when_redis_is_gone() -> None:
    from newsflow.redis_server import free_port

    server = MonitorServer(redis.Redis(port=free_port(), socket_connect_timeout=1), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as info:
            get(f"http://127.0.0.1:{server.server_address[1]}/healthz")
        assert info.value.code == 503 and b"redis unavailable" in info.value.read()
    finally:
        server.shutdown()
        server.server_close()
