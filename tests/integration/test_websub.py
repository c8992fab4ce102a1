"""WebSub against a tiny hub of our own on 127.0.0.1: subscribe, verify, signed pushes, renewals.

The hub answers 202 to a subscription request, then verifies it with a GET against our callback
(in its own thread, as a real hub does), and POSTs signed content to verified subscribers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import shutil
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import redis

from newsflow.redis_server import RedisServer
from pipeline import keys
from pipeline.feeds import parse_feed
from pipeline.fetch import Fetcher
from pipeline.polling import ingest_entries, poll_once
from pipeline.registry import Feed, FeedRegistry
from pipeline.settings import Settings
from pipeline.stats import read_counters
from pipeline.websub import HubTarget, Subscription, WebSubStore, discover, hub_client, request_subscription
from tests.conftest import GLOBAL_TIMES, Worker, wait_for
from workers.websub_receiver import CallbackApp, CallbackServer

FEED = "http://127.0.0.1:9/feeds/world.xml"  # never fetched: pushes bring its content
RSS = """<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>World</title><link>{base}/</link><atom:link rel="hub" href="{hub}"/>
<atom:link rel="self" href="{topic}"/>{items}</channel></rss>"""
ITEM = "<item><title>{title}</title><link>{base}/articles/{page}</link><guid>{guid}</guid></item>"


class TinyHub:
    """A minimal WebSub hub: subscription requests, verification of intent, signed distribution."""

    def __init__(self, *, lease: int = 600) -> None:
        self.lease = lease
        self.status = 202  # what it answers to subscription requests
        self.verify_topic: str | None = None  # set: verify with this topic instead (a confused hub)
        self.requests: list[dict[str, str]] = []
        self.verifications: list[tuple[str, int, str]] = []  # (mode, callback's status, its body)
        self.subscribers: dict[tuple[str, str], str | None] = {}  # (callback, topic) -> secret
        self._lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                hub.requests.append(form)
                self.send_response(hub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if hub.status == 202:
                    threading.Thread(target=hub._verify, args=(form,), daemon=True).start()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hub"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def _verify(self, form: dict[str, str]) -> None:
        challenge = secrets.token_urlsafe(16)
        params = {"hub.mode": form["hub.mode"], "hub.topic": self.verify_topic or form["hub.topic"],
                  "hub.challenge": challenge}
        if form["hub.mode"] == "subscribe":
            params["hub.lease_seconds"] = str(self.lease)
        answer = httpx.get(form["hub.callback"], params=params, timeout=5)
        with self._lock:
            key = (form["hub.callback"], form["hub.topic"])
            if answer.status_code == 200 and answer.text == challenge:  # confirmed: the spec's test
                if form["hub.mode"] == "subscribe":
                    self.subscribers[key] = form.get("hub.secret")
                else:
                    self.subscribers.pop(key, None)
            # Last: a test that waits for this verification then sees the subscribers as they are.
            self.verifications.append((form["hub.mode"], answer.status_code, answer.text))

    def publish(self, topic: str, body: bytes, *, secret: str | None = None, method: str = "sha256",
                signed: bool = True) -> list[httpx.Response]:
        """POST ``body`` to every subscriber of ``topic``, signed with its secret (or ``secret``)."""
        answers = []
        for (callback, subscribed), own in list(self.subscribers.items()):
            if subscribed != topic:
                continue
            headers = {"Content-Type": "application/rss+xml",
                       "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"'}
            key = secret or own
            if signed and key:
                digest = hmac.new(key.encode(), body, getattr(hashlib, method)).hexdigest()
                headers["X-Hub-Signature"] = f"{method}={digest}"
            answers.append(httpx.post(callback, content=body, headers=headers, timeout=5))
        return answers

    def wait_verifications(self, count: int) -> None:
        """Block until ``count`` verifications were made."""
        wait_for(lambda: len(self.verifications) >= count, timeout=10, what=f"{count} verifications")

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


class Callback:
    """Our callback endpoint on 127.0.0.1 with the pushes it enqueued kept in a list."""

    def __init__(self, client: redis.Redis, max_body_bytes: int = 100_000) -> None:
        self.enqueued: list[tuple[str, bytes, str | None]] = []
        self.store = WebSubStore(client)
        counters = client

        def count(name: str) -> None:
            counters.hincrby(keys.COUNTERS, name, 1)

        app = CallbackApp(self.store, lambda *push: self.enqueued.append(push),
                          max_body_bytes=max_body_bytes, count=count, body_seconds=0.5)
        self.server = CallbackServer(app).start()
        self.settings = Settings(websub_callback_url=self.server.base + "/websub/", allow_networks="127.0.0.0/8",
                                 websub_secret_over_http=True, websub_lease_seconds=3600)

    def subscribe(self, target: HubTarget, mode: str = "subscribe") -> Subscription:
        with hub_client(self.settings) as client:
            return request_subscription(self.store, client, self.settings, FEED, target,
                                        mode=mode)  # type: ignore[arg-type]


@pytest.fixture()
def hub() -> Iterator[TinyHub]:
    server = TinyHub()
    yield server
    server.stop()


@pytest.fixture()
def callback(redis_client: redis.Redis) -> Iterator[Callback]:
    endpoint = Callback(redis_client)
    yield endpoint
    endpoint.server.stop()


def feed_bytes(hub: TinyHub, base: str = "http://127.0.0.1:9", pages: tuple[str, ...] = ("1",)) -> bytes:
    items = "".join(ITEM.format(title=f"Story {p}", base=base, page=p, guid=f"urn:story:{p}") for p in pages)
    return RSS.format(base=base, hub=hub.url, topic=FEED, items=items).encode()


def active(callback: Callback, hub: TinyHub) -> Subscription:
    """Subscribe ``FEED`` at ``hub`` and wait until the hub has verified it."""
    target = discover({}, parse_feed(feed_bytes(hub), FEED), FEED)
    assert target == HubTarget(hub.url, FEED)
    callback.subscribe(target)
    hub.wait_verifications(len(hub.verifications) + 1)
    sub = callback.store.for_feed(FEED)
    assert sub is not None and sub.state == "active"
    return sub


def test_subscribe_verify_and_a_signed_push_goes_through_ingest_entries(
        redis_client: redis.Redis, hub: TinyHub, callback: Callback) -> None:
    FeedRegistry(redis_client).add(Feed(url=FEED))
    sub = active(callback, hub)
    (form,) = hub.requests
    assert form["hub.callback"] == callback.settings.websub_callback_url + sub.id
    assert form["hub.secret"] == sub.secret and len(sub.secret or "") == 64
    assert sub.lease_seconds == 600 and sub.expires_at == pytest.approx(time.time() + 600, abs=5)
    assert hub.verifications == [("subscribe", 200, hub.verifications[0][2])]

    for method in ("sha1", "sha512"):
        (answer,) = hub.publish(FEED, feed_bytes(hub, pages=("1", "2")), method=method)
        assert answer.status_code == 202
    assert [(i, ct) for i, _, ct in callback.enqueued] == [(sub.id, "application/rss+xml")] * 2
    # What the websub_ingest task does with it: the poll's own new-entry detection and dedup.
    registry, fetched = FeedRegistry(redis_client), []
    for _, body, content_type in callback.enqueued:
        parsed = parse_feed(body, FEED, content_type=content_type)
        ingest_entries(FEED, parsed.entries, registry=registry, enqueue=fetched.append)
    assert [e.key for e in fetched] == ["urn:story:1", "urn:story:2"]  # the second, identical push adds nothing
    assert callback.store.get(sub.id).pushes == 2  # type: ignore[union-attr]


def test_forged_or_missing_signature_is_acknowledged_but_discarded(
        redis_client: redis.Redis, hub: TinyHub, callback: Callback) -> None:
    sub = active(callback, hub)
    body = feed_bytes(hub)
    assert [a.status_code for a in hub.publish(FEED, body, secret="guessed")] == [202]
    assert [a.status_code for a in hub.publish(FEED, body, signed=False)] == [202]
    assert callback.enqueued == []
    assert read_counters(redis_client)["websub.bad_signature"] == 2
    assert callback.store.get(sub.id).rejected == 2  # type: ignore[union-attr]
    unknown = httpx.post(callback.server.base + "/websub/" + "z" * 24, content=body, timeout=5)
    assert unknown.status_code == 404
    too_big = httpx.post(callback.server.base + "/websub/" + sub.id, content=b"x" * 100_001, timeout=5)
    assert too_big.status_code == 413 and callback.enqueued == []


def test_a_slow_drip_push_is_cut_off(hub: TinyHub, callback: Callback) -> None:
    sub = active(callback, hub)
    host, port = callback.server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"POST /websub/{sub.id} HTTP/1.0\r\nContent-Length: 1000\r\n\r\n".encode() + b"x" * 10)
        started = time.monotonic()
        answer = sock.recv(1024)  # the body never completes: the server gives up on its own
    assert answer.startswith(b"HTTP/1.0 400") and time.monotonic() - started < 3
    assert callback.enqueued == []


def test_a_challenge_for_another_topic_is_refused(hub: TinyHub, callback: Callback) -> None:
    hub.verify_topic = "http://127.0.0.1:9/someone-elses-feed.xml"
    target = HubTarget(hub.url, FEED)
    callback.subscribe(target)
    hub.wait_verifications(1)
    (mode, status, body), = hub.verifications
    assert (mode, status) == ("subscribe", 404) and "not the subscribed one" in body
    assert hub.subscribers == {}
    sub = callback.store.for_feed(FEED)
    assert sub is not None and sub.state == "pending" and sub.verified_at is None


def test_an_unsolicited_unsubscribe_is_refused(hub: TinyHub, callback: Callback) -> None:
    sub = active(callback, hub)
    forged = httpx.get(callback.server.base + "/websub/" + sub.id, timeout=5,
                       params={"hub.mode": "unsubscribe", "hub.topic": FEED, "hub.challenge": "x"})
    assert forged.status_code == 404 and forged.text != "x"
    assert callback.store.get(sub.id).state == "active"  # type: ignore[union-attr]


def test_expired_lease_is_renewed_with_the_same_callback_and_secret(hub: TinyHub, callback: Callback) -> None:
    hub.lease = 400
    sub = active(callback, hub)
    assert callback.store.claim_due(now=time.time(), lease=60) == []  # not due yet
    (due,) = callback.store.claim_due(now=sub.expires_at + 1, lease=60)  # type: ignore[operator]
    assert due.id == sub.id
    hub.lease = 900
    callback.subscribe(HubTarget(due.hub, due.topic))
    hub.wait_verifications(2)
    renewed = callback.store.get(sub.id)
    assert renewed is not None and renewed.state == "active" and renewed.lease_seconds == 900
    assert renewed.secret == sub.secret and renewed.expires_at > sub.expires_at  # type: ignore[operator]
    assert [r["hub.callback"] for r in hub.requests] == [hub.requests[0]["hub.callback"]] * 2
    assert [a.status_code for a in hub.publish(FEED, feed_bytes(hub))] == [202]
    assert len(callback.enqueued) == 1


def test_hub_refusal_is_recorded_and_retried_later_then_unsubscribe(hub: TinyHub, callback: Callback) -> None:
    hub.status = 500
    sub = callback.subscribe(HubTarget(hub.url, FEED))
    assert sub.state == "failed" and "HTTP 500" in (sub.last_error or "") and sub.attempts == 1
    assert callback.store.claim_due(now=time.time() + 200, lease=60) == []  # backs off 5 minutes
    hub.status = 202
    active(callback, hub)
    callback.subscribe(HubTarget(hub.url, FEED), mode="unsubscribe")
    hub.wait_verifications(2)
    assert hub.verifications[-1][:2] == ("unsubscribe", 200)
    assert callback.store.for_feed(FEED) is None and hub.subscribers == {}


def test_a_poll_reports_the_hub_from_link_headers(redis_client: redis.Redis) -> None:
    registry = FeedRegistry(redis_client)
    registry.add(Feed(url="http://feeds.test/w.xml"))
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title></channel></rss>'
    link = '<https://hub.test/>; rel="hub", <http://feeds.test/self.xml>; rel="self"'
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=rss, headers={"Link": link}))
    with Fetcher(Settings(), transport=transport) as fetcher:
        outcome = poll_once("http://feeds.test/w.xml", fetcher=fetcher, registry=registry, settings=Settings(),
                            enqueue=lambda entry: None)
    assert (outcome.hub, outcome.topic) == ("https://hub.test/", "http://feeds.test/self.xml")
    assert outcome.next_due is not None


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    from newsflow.demo.server import NewsroomServer

    (tmp_path / "articles").mkdir()
    (tmp_path / "feeds").mkdir()
    shutil.copy(GLOBAL_TIMES, tmp_path / "articles" / "gt.html")
    server = NewsroomServer(tmp_path).start()
    yield server.base, tmp_path
    server.stop()


@pytest.fixture()
def push_stack(redis_server: RedisServer, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CallbackServer, Worker]]:
    """The callback endpoint handing pushes to Celery, and a real worker that knows its URL."""
    monkeypatch.setenv("NEWSFLOW_REDIS_URL", redis_server.url)  # for `workers.app`, imported below
    from workers.websub_receiver import app_for

    settings = Settings(redis_url=redis_server.url)
    server = CallbackServer(app_for(redis.Redis.from_url(redis_server.url), settings)).start()
    worker = Worker(redis_server.url, tmp_path / "worker.log", extra_env={
        "NEWSFLOW_WEBSUB_CALLBACK_URL": server.base + "/websub/", "NEWSFLOW_WEBSUB_SECRET_OVER_HTTP": "true"})
    yield server, worker
    worker.stop()
    server.stop()


def test_poll_subscribes_a_push_reaches_articles_and_beat_renews(
        redis_client: redis.Redis, push_stack: tuple[CallbackServer, Worker], hub: TinyHub,
        site: tuple[str, Path]) -> None:
    from workers.tasks import poll_feed
    from workers.websub_tasks import websub_renew

    base, folder = site
    feed_url = f"{base}/feeds/world.xml"
    (folder / "feeds" / "world.xml").write_bytes(
        RSS.format(base=base, hub=hub.url, topic=feed_url, items="").encode())
    FeedRegistry(redis_client).add(Feed(url=feed_url))
    store = WebSubStore(redis_client)
    poll_feed.delay(feed_url)  # the poll finds the hub; the worker subscribes
    hub.wait_verifications(1)
    sub = wait_for(lambda: store.for_feed(feed_url), timeout=10, what="the subscription")
    assert sub.state == "active" and sub.topic == feed_url

    body = RSS.format(base=base, hub=hub.url, topic=feed_url,
                      items=ITEM.format(title="Putin", base=base, page="gt.html", guid="urn:gt")).encode()
    assert [a.status_code for a in hub.publish(feed_url, body)] == [202]
    article = wait_for(lambda: redis_client.xrange(keys.ARTICLES_STREAM), timeout=30, what="an article")
    assert b"Putin" in article[0][1][b"article"] and feed_url.encode() in article[0][1][b"article"]

    redis_client.zadd(keys.WEBSUB_DUE, {sub.id: 0})  # as if its lease were ending
    websub_renew.delay()  # what beat runs every minute
    hub.wait_verifications(2)
    assert len(hub.requests) == 2 and hub.requests[1]["hub.callback"] == hub.requests[0]["hub.callback"]


def test_cli_lists_subscriptions_and_refuses_without_a_callback_url(
        redis_server: RedisServer, hub: TinyHub, callback: Callback, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from newsflow.cli import main

    active(callback, hub)
    monkeypatch.setenv("NEWSFLOW_REDIS_URL", redis_server.url)
    listed = CliRunner().invoke(main, ["websub", "list"])
    assert listed.exit_code == 0 and f"{FEED}  hub {hub.url}  [active, lease ends in 0.2 h" in listed.output
    as_json = CliRunner().invoke(main, ["websub", "list", "--json"])
    assert '"state":"active"' in as_json.output and "secret" not in as_json.output
    monkeypatch.delenv("NEWSFLOW_WEBSUB_CALLBACK_URL", raising=False)
    refused = CliRunner().invoke(main, ["websub", "subscribe", FEED])
    assert refused.exit_code == 1 and "NEWSFLOW_WEBSUB_CALLBACK_URL" in refused.output
