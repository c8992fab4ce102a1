"""The main job on one machine: worker and beat processes, their clean stop, and live progress."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import redis

from pipeline.deadletters import DeadLetters
from pipeline.stats import read_counters
from workers.queues import CPU_QUEUES, IO_QUEUES, is_drained, queue_depths

_STOP_GRACE = 30.0


def worker_command(queues: Sequence[str], pool: str, concurrency: int, name: str) -> list[str]:
    """The command line of one Celery worker process."""
    return [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-Q", ",".join(queues),
            "--pool", pool, "--concurrency", str(concurrency), "-n", f"{name}@%h",
            "--loglevel", "INFO", "--without-gossip", "--without-mingle"]


def beat_command(home: Path) -> list[str]:
    """The command line of the beat process (its schedule file lives in the state folder)."""
    return [sys.executable, "-m", "celery", "-A", "workers.app", "beat", "--loglevel", "INFO",
            "-s", str(home / "beat-schedule")]


@dataclass
class Processes:
    """Child processes started by `newsflow run`, stopped together."""

    env: dict[str, str]
    logs: Path
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, command: list[str]) -> None:
        """Start one child; its output goes to ``logs/<name>.log``."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "ab")
        # Own process group: Ctrl-C reaches only us, and we stop the children in order.
        proc = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.children.append((name, proc))

    def failed(self) -> str | None:
        """The name of a child that exited on its own, if any."""
        for name, proc in self.children:
            if proc.poll() is not None:
                return f"{name} exited with status {proc.returncode} (see {self.logs / (name + '.log')})"
        return None

    def stop(self) -> None:
        """Warm shutdown: SIGTERM lets workers finish their current task; SIGKILL after a grace."""
        for _name, proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE
        for _name, proc in self.children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.children.clear()


@contextlib.contextmanager
def running(env: dict[str, str], home: Path, *, beat: bool, websub: bool = False,
            concurrency: int | None = None) -> Iterator[Processes]:
    """Workers (an I/O pool and a CPU pool), beat and the WebSub callback, for the length of the block."""
    procs = Processes(env=env, logs=home / "logs")
    cpus = concurrency or max(1, os.cpu_count() or 1)
    try:
        procs.start("worker-io", worker_command(IO_QUEUES, "threads", 8, "io"))
        procs.start("worker-cpu", worker_command(CPU_QUEUES, "prefork", cpus, "cpu"))
        if beat:
            procs.start("beat", beat_command(home))
        if websub:  # pushes arrive only while the main job runs, like polls
            procs.start("websub", [sys.executable, "-m", "newsflow.cli", "websub", "serve"])
        yield procs
    finally:
        procs.stop()


def progress_line(client: redis.Redis) -> str:
    """One line of live progress: work done, queue depths, dead letters."""
    c = read_counters(client)
    q = queue_depths(client)
    return (f"feeds polled {c.get('feeds_polled', 0)} | pages fetched {c.get('pages_fetched', 0)} | "
            f"articles published {c.get('articles_published', 0)} | "
            f"duplicates {c.get('skipped.duplicate', 0)} | dead letters {DeadLetters(client).count()} | "
            f"queues poll {q['poll']} fetch {q['fetch']} process {q['process']} in-flight {q['unacked']}")


def wait_drained(client: redis.Redis, procs: Processes, progress: Progress, *, settle: float = 1.5,
                 timeout: float = 600.0) -> None:
    """Block until every queue is empty and nothing is in flight (for ``settle`` seconds)."""
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        failure = procs.failed()
        if failure:
            raise RuntimeError(failure)
        if is_drained(client):
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return
        else:
            quiet_since = None
        progress.show(progress_line(client))
        time.sleep(0.25)
    raise TimeoutError(f"queues did not drain within {timeout:.0f} s: {progress_line(client)}")


class Progress:
    """Live progress: rewritten in place on a terminal, a line every few seconds on a pipe."""

    def __init__(self, out: TextIO, every: float = 5.0) -> None:
        self.out = out
        self.every = every
        self.tty = out.isatty()
        self._last = 0.0

    def show(self, line: str) -> None:
        """Show ``line`` as the current state."""
        if self.tty:
            self.out.write("\r\033[K" + line)
            self.out.flush()
        elif time.monotonic() - self._last >= self.every:
            self.out.write(line + "\n")
            self.out.flush()
            self._last = time.monotonic()

    def done(self) -> None:
        """End the in-place line."""
        if self.tty:
            self.out.write("\n")
            self.out.flush()
