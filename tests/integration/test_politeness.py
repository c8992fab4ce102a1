"""Per-host limits and robots.txt, shared through the real Redis."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest
import redis

from pipeline.errors import RetryableFetchError, ThrottledError
from pipeline.fetch import Fetcher
from pipeline.politeness import HostLimiter, PoliteFetcher, RobotsDisallowed, host_of
from pipeline.settings import Settings

PAGE = "http://news.test/2024/story.html"


def test_host_of_includes_the_port() -> None:
    assert host_of("https://News.Test/a") == "news.test:443"
    assert host_of("http://news.test:8080/a") == "news.test:8080"


def test_concurrency_is_shared_and_a_busy_host_throttles(redis_client: redis.Redis) -> None:
    first = HostLimiter(redis_client, concurrency=1, rate=1000)
    second = HostLimiter(redis_client, concurrency=1, rate=1000)  # another worker
    with first.slot(PAGE, wait=1):
        with pytest.raises(ThrottledError, match="news.test:80") as info:
            with second.slot(PAGE, wait=0.2):
                pass
        assert info.value.retry_after and info.value.retry_after >= 1
        with second.slot("http://other.test/", wait=0.2):  # other hosts are not held up
            pass
    with second.slot(PAGE, wait=0.2):  # released
        pass


def test_a_waiting_request_gets_the_slot_when_it_frees(redis_client: redis.Redis) -> None:
    limiter = HostLimiter(redis_client, concurrency=1, rate=1000)
    got: list[float] = []

    def later() -> None:
        with limiter.slot(PAGE, wait=5):
            got.append(time.monotonic())

    with limiter.slot(PAGE, wait=1):
        thread = threading.Thread(target=later)
        thread.start()
        time.sleep(0.3)
        released = time.monotonic()
    thread.join(5)
    assert got and got[0] >= released


def test_rate_limit_spaces_requests(redis_client: redis.Redis) -> None:
    limiter = HostLimiter(redis_client, concurrency=10, rate=10)
    start = time.monotonic()
    for _ in range(5):
        with limiter.slot(PAGE, wait=5):
            pass
    assert time.monotonic() - start >= 0.38


def test_a_dead_holder_releases_its_slot_after_the_hold(redis_client: redis.Redis) -> None:
    dying = HostLimiter(redis_client, concurrency=1, rate=1000, hold=0.3)
    dying._acquire(keys=["newsflow:host-slots:news.test:80", "newsflow:host-next:news.test:80"],
                   args=[time.time(), "never-released", 1, 0.0, 0.3])
    with HostLimiter(redis_client, concurrency=1, rate=1000).slot(PAGE, wait=2):
        pass


def polite(client: redis.Redis, robots: httpx.Response, hits: Counter[str]) -> PoliteFetcher:
    def handler(request: httpx.Request) -> httpx.Response:
        hits[request.url.path] += 1
        if request.url.path == "/robots.txt":
            return robots
        return httpx.Response(200, text="<html>ok</html>")

    settings = Settings(host_rate=1000)
    return PoliteFetcher(client, Fetcher(settings, transport=httpx.MockTransport(handler)), settings)


def test_robots_rules_are_honoured_and_cached_across_workers(redis_client: redis.Redis) -> None:
    hits: Counter[str] = Counter()
    rules = httpx.Response(200, text="User-agent: newsflow\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n")
    one, two = polite(redis_client, rules, hits), polite(redis_client, rules, hits)
    assert one.fetch(PAGE, check_robots=True).status == 200
    with pytest.raises(RobotsDisallowed):
        two.fetch("http://news.test/private/x.html", check_robots=True)
    assert hits["/robots.txt"] == 1 and hits["/private/x.html"] == 0
    assert one.fetch("http://news.test/private/feed.xml").status == 200  # feeds do not ask robots


def test_missing_robots_allows_and_unreachable_robots_retries_later(redis_client: redis.Redis) -> None:
    hits: Counter[str] = Counter()
    assert polite(redis_client, httpx.Response(404), hits).fetch(PAGE, check_robots=True).status == 200
    with pytest.raises(RetryableFetchError, match="robots.txt unreachable"):
        polite(redis_client, httpx.Response(503), hits).fetch("http://down.test/a", check_robots=True)
    assert hits["/a"] == 0
