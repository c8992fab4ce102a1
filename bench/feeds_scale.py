#!/usr/bin/env python3
"""Polling at scale: 10,000 feeds on loopback, polled through the real beat -> Celery worker path.

    python bench/feeds_scale.py [--feeds 10000] [--cycle 900] [--window 120]
                                [--rates 50,100,150,200,300,400] [--step 30] [--workers 1]

What runs, all on this machine and all on 127.0.0.0/8:

* a private ``redis-server`` (newsflow's RedisServer: AOF everysec, noeviction) on a free port;
* a fixture server (a subprocess of this script, asyncio) listening on ``--hosts`` loopback
  addresses (127.0.1.1, 127.0.1.2, ...), so that per-host politeness applies as it would to real
  feeds spread over many sites; the default host limits (4 in flight, 2 requests/s per host) stay on.
  It answers a conditional GET with 304 when the ETag matches, and on ``--new-share`` of the
  conditional requests publishes one new entry first (200, the feed with ``--items`` items);
* ``celery beat`` (dispatch_due_feeds every NEWSFLOW_DISPATCH_EVERY s) and ``--workers`` Celery
  worker processes on the ``poll`` queue, started with the same command line ``newsflow run`` uses
  (threads pool, concurrency 8). No worker consumes ``fetch``: the fetch_article messages that polls
  enqueue are counted and deleted by the bench every second.

Phases:

1. register ``--feeds`` feeds (each on a 15-minute cycle: min = max interval = ``--cycle``), all due
   now as `newsflow feeds import` leaves them, and let the workers poll each once (every answer a
   200 with ``--items`` new entries). Redis memory per feed is ``used_memory`` after that cycle
   minus before registering, over the feed count (feed hashes, schedule, seen-sets).
2. the target load: the due times of all feeds spread over one ``--cycle`` (10,000 / 900 s =
   11.1 polls/s), run for ``--window`` seconds of that cycle.
3. a sweep: the same with due times spread at each rate of ``--rates`` for ``--step`` seconds, until
   a rate is not sustained or the time budget (``--budget``) runs out.

For each phase: polls/s, CPU seconds per 1,000 polls and % of one core for the worker processes
(user + sys of each worker's process tree, dispatcher task included), beat, Redis, and the fixture
server separately; and lateness = the poll's ``last_polled_at`` (written right after the fetch)
minus the due time the bench set, p50/p99/max over the feeds due in the window (a feed not polled by
the end of the drain counts with its lateness so far). A rate is *sustained* when every feed due
was polled and the lateness projected over a full cycle (observed max + slope x the rest of the
cycle) stays within 60 s. A benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LATE_LIMIT = 60.0


# --------------------------------------------------------------------------- the fixture server

def host_address(index: int) -> str:
    """The loopback address of fixture host ``index`` (127.0.1.1 ... 127.0.1.250, 127.0.2.1 ...)."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


def feed_url(index: int, hosts: int, port: int) -> str:
    """The URL of feed ``index``; feeds are dealt round-robin over the hosts."""
    return f"http://{host_address(index % hosts)}:{port}/feeds/{index}.xml"


class _Feeds:
    """Each feed's version; a version is one more entry at the top."""

    def __init__(self, count: int, items: int, new_share: float, seed: int) -> None:
        self.versions = [items] * count
        self.items = items
        self.new_share = new_share
        self.random = random.Random(seed)
        self.answers = {200: 0, 304: 0, 404: 0}

    def answer(self, path: bytes, if_none_match: bytes | None) -> bytes:
        try:
            index = int(path.rsplit(b"/", 1)[1].split(b".", 1)[0])
            self.versions[index]
        except (ValueError, IndexError):
            self.answers[404] += 1
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        if if_none_match is not None and self.random.random() < self.new_share:
            self.versions[index] += 1
        version = self.versions[index]
        etag = b'"%d-%d"' % (index, version)
        if if_none_match == etag:
            self.answers[304] += 1
            return b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\n\r\n"
        self.answers[200] += 1
        body = self._body(index, version)
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\nETag: " + etag
                + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    def _body(self, index: int, version: int) -> bytes:
        items = []
        for number in range(version, max(0, version - self.items), -1):
            # An hour between entries, the newest a minute ago: dated like a real feed.
            when = time.gmtime(time.time() - 60 - 3600 * (version - number))
            items.append(
                f"<item><title>Story {number} of feed {index}</title>"
                f"<link>http://127.0.0.1/articles/{index}/{number}.html</link>"
                f"<guid isPermaLink=\"false\">{index}-{number}</guid>"
                f"<pubDate>{time.strftime('%a, %d %b %Y %H:%M:%S +0000', when)}</pubDate>"
                f"<description>A short summary of story {number}, as feeds carry.</description></item>"
            )
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Feed {index}</title><link>http://127.0.0.1/</link>"
                f"<description>bench feed</description>{''.join(items)}</channel></rss>").encode()


class _Http(asyncio.Protocol):
    """Just enough HTTP/1.1 for GET with keep-alive."""

    feeds: _Feeds

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            inm = None
            close = False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"if-none-match":
                    inm = value.strip()
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            self.transport.write(self.feeds.answer(parts[1] if len(parts) > 1 else b"/", inm))  # type: ignore[attr-defined]
            if close:
                self.transport.close()
                return


def serve(port: int, hosts: int, feeds: int, items: int, new_share: float, lifetime: float) -> None:
    """Run the fixture server until stdin closes, SIGTERM, or ``lifetime`` seconds."""
    _Http.feeds = _Feeds(feeds, items, new_share, seed=port)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        servers = [await loop.create_server(_Http, host_address(h), port, reuse_address=True, backlog=512)
                   for h in range(hosts)]
        print("ready", flush=True)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_reader(sys.stdin.fileno(), stop.set)  # the bench closes our stdin when it ends
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), lifetime)
        for server in servers:
            server.close()
        print(f"answers {_Http.feeds.answers}", file=sys.stderr, flush=True)

    asyncio.run(main())


# --------------------------------------------------------------------------- the bench

@dataclass
class Phase:
    """The figures of one load phase."""

    name: str
    rate: float
    feeds_due: int
    seconds: float
    polls: int
    cpu: dict[str, float]
    lateness: list[float]
    unpolled: int
    slope: float
    cycle: float
    peak_queue: int
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def polls_per_s(self) -> float:
        return self.polls / self.seconds

    def cpu_per_1000(self, who: str) -> float:
        return 1000 * self.cpu[who] / self.polls if self.polls else float("nan")

    def core_share(self, who: str) -> float:
        return 100 * self.cpu[who] / self.seconds

    def pct(self, q: float) -> float:
        if not self.lateness:
            return float("nan")
        ordered = sorted(self.lateness)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def projected_max(self) -> float:
        """The max lateness if this rate ran for a whole cycle: observed max plus the drift."""
        rest = max(0.0, self.cycle - self.feeds_due / self.rate)
        return max(self.lateness, default=0.0) + max(0.0, self.slope) * rest

    @property
    def sustained(self) -> bool:
        return self.unpolled == 0 and self.projected_max <= LATE_LIMIT


def cpu_seconds(pid: int) -> float:
    """user + sys of ``pid`` and its live descendants."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


class Bench:
    """The processes of one run and the measurements over them."""

    def __init__(self, args: argparse.Namespace, home: Path) -> None:
        import redis

        from newsflow.redis_server import RedisServer

        self.args = args
        self.home = home
        self.started = time.monotonic()
        self.redis_server = RedisServer(home / "redis", persistent=True)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.server: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.discarded = 0
        self.peak_queue = 0
        self._sampling = threading.Event()
        self._sampler: threading.Thread | None = None
        self.urls: list[str] = []
        from pipeline.settings import Settings

        # The children get no NEWSFLOW_* but ours, so they run with the default period unless asked.
        self.dispatch_every = args.dispatch_every or float(Settings.model_fields["dispatch_every"].default)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
        self.env.update(NEWSFLOW_ALLOW_NETWORKS="127.0.0.0/8", NEWSFLOW_HOME=str(home), PYTHONPATH=str(ROOT))
        if args.dispatch_every:
            self.env["NEWSFLOW_DISPATCH_EVERY"] = str(args.dispatch_every)
        # Last, so that nothing after it can fail before run() is inside the try that stops it.
        self.url = self.redis_server.start()
        self.env["NEWSFLOW_REDIS_URL"] = self.url
        self.client = redis.Redis.from_url(self.url)

    # ---- processes

    def start_server(self) -> None:
        from newsflow.redis_server import free_port

        for _attempt in range(5):
            self.port = free_port()
            cmd = [sys.executable, __file__, "--serve", "--port", str(self.port), "--hosts", str(self.args.hosts),
                   "--feeds", str(self.args.feeds), "--items", str(self.args.items),
                   "--new-share", str(self.args.new_share), "--lifetime", str(self.args.budget + 300)]
            log = open(self.home / "server.log", "ab")
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                    start_new_session=True)
            log.close()
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() == b"ready":
                self.server = proc
                return
            proc.kill()
            proc.wait()
        raise RuntimeError(f"fixture server did not start; see {self.home / 'server.log'}")

    def start_celery(self) -> None:
        from newsflow.runner import beat_command, worker_command
        from workers.queues import POLL_QUEUE

        for n in range(self.args.workers):
            cmd = worker_command([POLL_QUEUE], "threads", self.args.concurrency, f"bench{n}")
            self._spawn(f"worker{n}", cmd)
        for n in range(self.args.workers):
            self._wait_log(f"worker{n}", b" ready.")
        self._spawn("beat", beat_command(self.home))

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = open(self.home / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        log.close()

    def _wait_log(self, name: str, marker: bytes, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        path = self.home / f"{name}.log"
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited at start:\n{path.read_text(errors='replace')[-2000:]}")
            if marker in path.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} not ready in {timeout:.0f} s; see {path}")

    def stop(self) -> None:
        self._sampling.set()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.server is not None and self.server.poll() is None:
            assert self.server.stdin is not None
            self.server.stdin.close()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        with contextlib.suppress(Exception):
            self.client.close()
        self.redis_server.stop()

    # ---- measurements

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of workers, beat, Redis and the fixture server."""
        workers = sum(cpu_seconds(p.pid) for n, p in self.procs.items() if n.startswith("worker"))
        return {"workers": workers, "beat": cpu_seconds(self.procs["beat"].pid),
                "redis": cpu_seconds(self.redis_server.process.pid),  # type: ignore[union-attr]
                "server": cpu_seconds(self.server.pid)}  # type: ignore[union-attr]

    def counters(self) -> dict[str, int]:
        from pipeline.stats import read_counters

        return read_counters(self.client)

    def left(self) -> float:
        """Seconds left of the time budget."""
        return self.args.budget - (time.monotonic() - self.started)

    def start_sampler(self) -> None:
        """Every second: count and delete the fetch_article messages, note the poll queue's depth."""
        from workers.queues import FETCH_QUEUE, POLL_QUEUE

        def run() -> None:
            while not self._sampling.wait(1.0):
                with contextlib.suppress(Exception):
                    with self.client.pipeline(transaction=True) as pipe:
                        pipe.llen(FETCH_QUEUE)
                        pipe.delete(FETCH_QUEUE)
                        pipe.llen(POLL_QUEUE)
                        fetches, _, polls = pipe.execute()
                    self.discarded += int(fetches)
                    self.peak_queue = max(self.peak_queue, int(polls))

        self._sampler = threading.Thread(target=run, daemon=True)
        self._sampler.start()

    def idle(self, timeout: float) -> bool:
        """Wait until the poll queue is empty and no poll is in flight."""
        from workers.queues import queue_depths

        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            depths = queue_depths(self.client)
            quiet = quiet + 1 if depths["poll"] == 0 and depths["unacked"] == 0 else 0
            if quiet >= 3:
                return True
            time.sleep(0.5)
        return False

    def polled_at(self, urls: list[str]) -> list[float | None]:
        """``last_polled_at`` of each of ``urls``."""
        import orjson

        from pipeline import keys

        values: list[float | None] = []
        for start in range(0, len(urls), 2000):
            with self.client.pipeline(transaction=False) as pipe:
                for url in urls[start:start + 2000]:
                    pipe.hget(keys.feed_key(url), "last_polled_at")
                values += [orjson.loads(v) if v else None for v in pipe.execute()]
        return values

    def set_due(self, dues: dict[str, float]) -> None:
        """Due times for ``dues``; every other feed out of the way (ten days on)."""
        from pipeline import keys

        later = time.time() + 10 * 86400
        for start in range(0, len(self.urls), 2000):
            with self.client.pipeline(transaction=False) as pipe:
                for url in self.urls[start:start + 2000]:
                    pipe.zadd(keys.FEEDS_DUE, {url: dues.get(url, later)}, xx=True)
                pipe.execute()

    # ---- phases

    def register(self) -> tuple[int, float]:
        """Register every feed (due now); returns the memory before and the seconds it took."""
        from pipeline.registry import Feed, FeedRegistry

        before = int(self.client.info("memory")["used_memory"])
        registry = FeedRegistry(self.client)
        self.urls = [feed_url(i, self.args.hosts, self.port) for i in range(self.args.feeds)]
        began = time.monotonic()
        for url in self.urls:
            registry.add(Feed(url=url, min_interval=self.args.cycle, max_interval=self.args.cycle))
        return before, time.monotonic() - began

    def first_cycle(self) -> tuple[float, int, bool]:
        """Wait until every feed was polled once; returns the seconds, the polls and whether all were."""
        began = time.monotonic()
        polls0 = self.counters().get("feeds_polled", 0)
        deadline = began + min(self.args.first_timeout, max(10.0, self.left() - 60))
        while time.monotonic() < deadline:
            if self.counters().get("feeds_polled", 0) - polls0 >= len(self.urls):
                break
            time.sleep(0.5)
        self.idle(30.0)
        done = all(p is not None for p in self.polled_at(self.urls))
        return time.monotonic() - began, self.counters().get("feeds_polled", 0) - polls0, done

    def idle_cpu(self, seconds: float) -> dict[str, float]:
        """% of one core that each process uses with no feed due: the floor under every phase."""
        self.set_due({})
        self.idle(30.0)
        cpu0, t0 = self.cpu(), time.time()
        time.sleep(seconds)
        cpu1, t1 = self.cpu(), time.time()
        return {k: 100 * (cpu1[k] - cpu0[k]) / (t1 - t0) for k in cpu1}

    def phase(self, name: str, rate: float, seconds: float, cycle: float) -> Phase:
        """Feeds due at ``rate`` for ``seconds``; measure CPU over that window, lateness after a drain."""
        self.idle(30.0)
        order = list(self.urls)
        random.Random(int(rate * 1000)).shuffle(order)
        # CPU and polls are counted from one dispatcher period after the first due time (the first
        # dispatch has run by then) to the last, over a whole number of periods.
        settle = self.dispatch_every
        count = min(len(order), int(rate * seconds))
        seconds = max(2 * settle, settle * (count / rate // settle))
        count = int(rate * seconds)
        start = time.time() + 2.0
        dues = {url: start + k / rate for k, url in enumerate(order[:count])}
        self.set_due(dues)
        while time.time() < start + settle:
            time.sleep(0.01)
        self.peak_queue = 0
        cpu0, counts0, t0 = self.cpu(), self.counters(), time.time()
        while time.time() < start + seconds:
            time.sleep(0.01)
        cpu1, counts1, t1 = self.cpu(), self.counters(), time.time()
        peak = self.peak_queue
        urls = list(dues)
        drain_until = time.monotonic() + min(LATE_LIMIT + 10, max(5.0, self.left() - 20))
        while True:
            polled = self.polled_at(urls)
            if all(p is not None and p >= dues[u] - 1 for u, p in zip(urls, polled)):
                break
            if time.monotonic() > drain_until:
                break
            time.sleep(1.0)
        now = time.time()
        lateness, unpolled, points = [], 0, []
        for url, at in zip(urls, polled):
            if at is None or at < dues[url] - 1:
                unpolled += 1
                lateness.append(now - dues[url])
            else:
                lateness.append(max(0.0, at - dues[url]))
                points.append((dues[url] - start, at - dues[url]))
        slope = _slope(points)
        statuses = {k.split(".", 1)[1]: counts1.get(k, 0) - counts0.get(k, 0)
                    for k in counts1 if k.startswith("polls.")}
        return Phase(name, rate, count, t1 - t0, counts1.get("feeds_polled", 0) - counts0.get("feeds_polled", 0),
                     {k: cpu1[k] - cpu0[k] for k in cpu1}, lateness, unpolled, slope, cycle, peak, statuses)


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of lateness over due time: > 0 when polling falls behind."""
    if len(points) < 10:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def report(args: argparse.Namespace, phases: list[Phase], memory: dict[str, float], first: tuple[float, int, bool],
           register_s: float, discarded: int, idle: dict[str, float]) -> None:
    """Print the tables."""
    out = sys.stdout
    print(f"\nfeeds {args.feeds} on {args.hosts} loopback hosts, {args.items} items each, cycle {args.cycle:.0f} s, "
          f"{args.new_share:.0%} of conditional polls get a new entry; {args.workers} worker process(es) x "
          f"{args.concurrency} threads; cpus {os.cpu_count()}", file=out)
    secs, polls, done = first
    print(f"register {args.feeds} feeds: {register_s:.1f} s; first cycle (every feed 200, {args.items} new entries): "
          f"{polls} polls in {secs:.1f} s = {polls / secs:.1f} polls/s{'' if done else ' (NOT all polled)'}", file=out)
    print(f"Redis memory: {memory['delta'] / 1e6:.1f} MB for {args.feeds} feeds = {memory['per_feed']:.0f} bytes/feed "
          f"(one feed: hash {memory['hash']:.0f} B, seen-set {memory['seen']:.0f} B, "
          f"seen-order {memory['order']:.0f} B)", file=out)
    print(f"idle floor (no feed due, {args.idle:.0f} s): workers {idle['workers']:.1f}%, beat {idle['beat']:.1f}%, "
          f"Redis {idle['redis']:.1f}% of one core", file=out)
    print(f"fetch_article messages enqueued by polls, counted and deleted (no worker consumes 'fetch'): {discarded}",
          file=out)
    head = (f"{'phase':<12}{'rate':>7}{'polls/s':>9}{'polls':>7}{'304/200':>9}"
            f"{'wkr s/1k':>9}{'wkr %core':>10}{'beat %':>7}{'redis %':>8}{'redis s/1k':>11}{'srv %':>7}"
            f"{'late p50':>9}{'p99':>7}{'max':>7}{'drift':>7}{'proj max':>9}{'queue':>6}  sustained")
    print("\n" + head, file=out)
    print("-" * len(head), file=out)
    for p in phases:
        ok = p.statuses.get("ok", 0)
        nm = p.statuses.get("not-modified", 0)
        print(f"{p.name:<12}{p.rate:>7.1f}{p.polls_per_s:>9.1f}{p.polls:>7}{f'{nm}/{ok}':>9}"
              f"{p.cpu_per_1000('workers'):>9.2f}{p.core_share('workers'):>10.1f}{p.core_share('beat'):>7.1f}"
              f"{p.core_share('redis'):>8.1f}{p.cpu_per_1000('redis'):>11.2f}{p.core_share('server'):>7.1f}"
              f"{p.pct(0.5):>9.1f}{p.pct(0.99):>7.1f}{max(p.lateness, default=0):>7.1f}{p.slope:>7.3f}"
              f"{p.projected_max:>9.1f}{p.peak_queue:>6}  {'yes' if p.sustained else 'NO'}"
              f"{'' if not p.unpolled else f' ({p.unpolled} not polled)'}", file=out)
    print("\nrate: polls/s asked (due times spread at that rate); wkr s/1k: CPU s of the worker processes per 1,000 "
          "polls;\n%core: CPU s / wall s x 100 over the window; late: last_polled_at - due, seconds; drift: slope of "
          "lateness over due time;\nproj max: max lateness projected over a whole cycle; queue: peak poll-queue depth.",
          file=out)
    target = phases[0] if phases else None
    if target:
        polling = target.core_share("workers") + target.core_share("beat")
        verdict = "met" if target.sustained and polling < 10 else "NOT met"
        print(f"\ntarget {args.feeds} feeds / {args.cycle:.0f} s = {target.rate:.1f} polls/s: workers + beat "
              f"{polling:.1f}% of one core (+ Redis {target.core_share('redis'):.1f}%), max lateness "
              f"{max(target.lateness, default=0):.1f} s -> {verdict}", file=out)
    best = max((p.rate for p in phases if p.sustained), default=None)
    print(f"highest sustained rate: {best:.1f} polls/s" if best else "highest sustained rate: none", file=out)


def run(args: argparse.Namespace) -> int:
    """The whole bench."""
    from pipeline import keys

    home = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    print(f"state and logs in {home}", flush=True)
    bench = Bench(args, home)
    phases: list[Phase] = []
    try:
        bench.start_server()
        bench.start_celery()
        bench.start_sampler()
        print(f"redis {bench.url}, fixture server on {args.hosts} addresses port {bench.port}", flush=True)
        before, register_s = bench.register()
        print(f"registered {args.feeds} feeds in {register_s:.1f} s; first cycle...", flush=True)
        first = bench.first_cycle()
        print(f"first cycle: {first[1]} polls in {first[0]:.1f} s", flush=True)
        time.sleep(1.5)  # the sampler deletes the last fetch messages
        after = int(bench.client.info("memory")["used_memory"])
        sample = bench.urls[0]
        memory = {"delta": after - before, "per_feed": (after - before) / args.feeds,
                  "hash": bench.client.memory_usage(keys.feed_key(sample)) or 0,
                  "seen": bench.client.memory_usage(keys.feed_seen_key(sample)) or 0,
                  "order": bench.client.memory_usage(keys.feed_seen_order_key(sample)) or 0}
        idle = bench.idle_cpu(args.idle)
        print(f"idle: workers {idle['workers']:.1f}%, beat {idle['beat']:.1f}%, redis {idle['redis']:.1f}% of one core",
              flush=True)
        target = args.feeds / args.cycle
        print(f"target load {target:.1f} polls/s for {args.window:.0f} s...", flush=True)
        phases.append(bench.phase("15-min cycle", target, args.window, args.cycle))
        print(f"  max lateness {max(phases[-1].lateness, default=0):.1f} s", flush=True)
        for rate in args.rates:
            if bench.left() < args.step + LATE_LIMIT + 40:
                print(f"time budget: stopping the sweep before {rate:g} polls/s", flush=True)
                break
            print(f"sweep {rate:g} polls/s...", flush=True)
            phases.append(bench.phase(f"sweep", rate, args.step, args.cycle))
            last = phases[-1]
            print(f"  {last.polls_per_s:.1f} polls/s, max lateness {max(last.lateness, default=0):.1f} s, "
                  f"drift {last.slope:.3f}, {'sustained' if last.sustained else 'NOT sustained'}", flush=True)
            if not last.sustained:
                break
    finally:
        bench.stop()
    report(args, phases, memory, first, register_s, bench.discarded, idle)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=250, help="loopback addresses the feeds are spread over")
    parser.add_argument("--items", type=int, default=10, help="entries per feed body")
    parser.add_argument("--new-share", type=float, default=0.03, help="share of conditional polls with a new entry")
    parser.add_argument("--cycle", type=float, default=900.0, help="seconds between two polls of a feed")
    parser.add_argument("--window", type=float, default=120.0, help="seconds of the target load measured")
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",") if r],
                        default=[50.0, 100.0, 150.0, 200.0, 300.0, 400.0], help="sweep rates, polls/s")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of the idle measurement")
    parser.add_argument("--step", type=float, default=30.0, help="seconds per sweep rate")
    parser.add_argument("--workers", type=int, default=1, help="poll worker processes")
    parser.add_argument("--concurrency", type=int, default=8, help="threads per worker (newsflow run uses 8)")
    parser.add_argument("--dispatch-every", type=float, default=None,
                        help="seconds between dispatcher runs (NEWSFLOW_DISPATCH_EVERY); default: the setting's default")
    parser.add_argument("--first-timeout", type=float, default=240.0, help="cap on the first cycle, seconds")
    parser.add_argument("--budget", type=float, default=540.0, help="seconds the whole bench may take")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--lifetime", type=float, default=900.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.hosts, args.feeds, args.items, args.new_share, args.lifetime)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
