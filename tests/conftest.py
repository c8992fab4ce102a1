"""Shared fixtures: a private redis-server on a free loopback port, started by the test session.

No test talks to the machine's own Redis (a user's machine has none), and none sends traffic
outside 127.0.0.0/8.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from newsflow.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = ROOT / "newsflow" / "demo" / "site"
GLOBAL_TIMES = DEMO_SITE / "articles" / "global-times-putin-nk.html"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server for the whole session."""
    server = RedisServer(tmp_path_factory.mktemp("redis"), persistent=False)
    server.start()
    yield server
    server.stop()


def reset_redis(client: redis.Redis) -> None:
    """Delete newsflow's state but keep kombu's exchange bindings, which a live worker relies on."""
    doomed = [k for k in client.scan_iter(count=1000) if not k.startswith(b"_kombu.binding.")]
    if doomed:
        client.delete(*doomed)


@pytest.fixture()
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of the session's Redis, with a clean state for each test."""
    client = redis.Redis.from_url(redis_server.url)
    reset_redis(client)
    yield client
    client.close()


class Worker:
    """A real Celery worker in a subprocess, consuming every newsflow queue."""

    def __init__(self, redis_url: str, log: Path, extra_env: dict[str, str] | None = None) -> None:
        self.log = log
        env = dict(os.environ, NEWSFLOW_REDIS_URL=redis_url, NEWSFLOW_ALLOW_NETWORKS="127.0.0.0/8",
                   **(extra_env or {}))
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-Q", "poll,fetch,process",
                 "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO", "-n", "test@%h",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited at start:\n{self.log.read_text()[-3000:]}")
            if b" ready." in self.log.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"celery worker not ready in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Warm shutdown, then kill."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def celery_worker(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A real worker for the tests of one module."""
    worker = Worker(redis_server.url, tmp_path_factory.mktemp("worker") / "worker.log")
    yield worker
    worker.stop()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
