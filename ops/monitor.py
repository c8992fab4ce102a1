"""The monitor service: Prometheus ``/metrics``, ``/healthz`` and a live status page.

Every scrape reads the current state from Redis (queues, counters, feeds, topics, dead letters),
so the monitor holds no state of its own and any number of them can run.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from pipeline.deadletters import DeadLetters
from pipeline.registry import FeedRegistry
from pipeline.retention import gauges
from pipeline.settings import Settings
from pipeline.stats import read_counters
from pipeline.topics import known_topics, topic_reports
from workers.queues import queue_depths


def snapshot(client: redis.Redis) -> dict[str, Any]:
    """Everything the monitor shows, read from Redis in one go."""
    feeds = FeedRegistry(client).list()
    topics = known_topics(client)
    return {
        "queues": queue_depths(client),
        "counters": read_counters(client),
        "feeds": {
            "total": len(feeds),
            "enabled": sum(f.enabled for f in feeds),
            "failing": sum(1 for f in feeds if f.enabled and f.error_count),
            "disabled": [{"url": f.url, "reason": f.disabled_reason} for f in feeds if not f.enabled],
        },
        "topics": {t: int(client.xlen(t)) for t in topics},
        "dead_letters": DeadLetters(client).count(),
    }


_RETENTION_HELP = {
    "newsflow_topic_length": "Entries in an output topic",
    "newsflow_topic_held_entries": "Entries past retention kept because a live group has not read them",
    "newsflow_topic_headroom_entries": "Entries that may still be held before unread ones are dropped",
    "newsflow_topic_trimmed_total": "Entries trimmed by retention",
    "newsflow_topic_dropped_unread_total": "Unread entries dropped at the hard cap",
    "newsflow_group_pending": "Entries delivered to a consumer group but not acknowledged",
    "newsflow_group_lag": "Entries a consumer group has not read yet",
    "newsflow_group_at_risk_entries": "Unread entries of a group that retention would trim",
    "newsflow_group_live": "1 when the group has a consumer active within the idle limit",
}


class RedisCollector:
    """A Prometheus collector that reads the pipeline's state on each scrape."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def collect(self) -> Iterable[Metric]:
        """The metrics of one scrape."""
        state = snapshot(self.client)
        yield from self._retention()
        queues = GaugeMetricFamily("newsflow_queue_depth", "Messages waiting in a queue", labels=["queue"])
        for name, depth in state["queues"].items():
            queues.add_metric([name], depth)
        yield queues
        counters = CounterMetricFamily("newsflow_events", "Pipeline events by kind (polls, publishes, skips)",
                                       labels=["event"])
        for name, value in sorted(state["counters"].items()):
            counters.add_metric([name], value)
        yield counters
        feeds = GaugeMetricFamily("newsflow_feeds", "Registered feeds by state", labels=["state"])
        feeds.add_metric(["enabled"], state["feeds"]["enabled"])
        feeds.add_metric(["failing"], state["feeds"]["failing"])
        feeds.add_metric(["disabled"], len(state["feeds"]["disabled"]))
        yield feeds
        yield GaugeMetricFamily("newsflow_dead_letters", "Items in the dead-letter stream",
                                value=state["dead_letters"])

    def _retention(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for name, labels, value in gauges(topic_reports(self.client, self.settings.topics_config)):
            if name not in families:
                kind = CounterMetricFamily if name.endswith("_total") else GaugeMetricFamily
                families[name] = kind(name.removesuffix("_total"), _RETENTION_HELP[name],
                                      labels=list(labels))
            families[name].add_metric(list(labels.values()), value)
        yield from families.values()


class _Handler(BaseHTTPRequestHandler):
    server: MonitorServer

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        try:
            self._route(self.path.split("?", 1)[0])
        except redis.RedisError as exc:  # say so, instead of dropping the connection
            self._send(503, f"redis unavailable: {exc}\n".encode(), "text/plain")

    def _route(self, path: str) -> None:
        if path == "/metrics":
            self._send(200, generate_latest(self.server.metrics), CONTENT_TYPE_LATEST)
        elif path == "/healthz":  # a Redis that does not answer becomes a 503 in do_GET
            self.server.client.ping()
            self._send(200, b"ok\n", "text/plain")
        elif path == "/status.json":
            self._send(200, json.dumps(snapshot(self.server.client)).encode(), "application/json")
        elif path == "/":
            self._send(200, _page(snapshot(self.server.client)).encode(), "text/html; charset=utf-8")
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes every few seconds would drown the log."""


class MonitorServer(ThreadingHTTPServer):
    """The monitor's HTTP server."""

    daemon_threads = True

    def __init__(self, client: redis.Redis, host: str = "127.0.0.1", port: int = 9108,
                 settings: Settings | None = None) -> None:
        self.client = client
        self.metrics = CollectorRegistry(auto_describe=False)
        self.metrics.register(RedisCollector(client, settings or Settings()))  # type: ignore[arg-type]
        super().__init__((host, port), _Handler)


def _rows(items: Iterator[tuple[str, Any]] | Iterable[tuple[str, Any]]) -> str:
    return "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in items)


def _page(state: dict[str, Any]) -> str:
    disabled = "".join(f"<li>{html.escape(d['url'])}: {html.escape(d['reason'] or '')}</li>"
                       for d in state["feeds"]["disabled"]) or "<li>none</li>"
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>newsflow status</title><style>body{{font-family:sans-serif;margin:2em}}td{{padding:0 1em}}</style>
</head><body><h1>newsflow</h1>
<h2>Queues</h2><table>{_rows(state["queues"].items())}</table>
<h2>Topics</h2><table>{_rows(state["topics"].items())}</table>
<h2>Feeds</h2><p>{state["feeds"]["enabled"]} enabled, {state["feeds"]["failing"]} failing,
dead letters: {state["dead_letters"]}</p><ul>{disabled}</ul>
<h2>Counters</h2><table>{_rows(sorted(state["counters"].items()))}</table>
</body></html>"""
