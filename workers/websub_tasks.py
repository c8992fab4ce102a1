"""WebSub tasks: subscribe at hubs, ingest verified pushes down the poll path, renew leases.

A poll that finds a hub says so in its result (``hub``, ``topic``); the ``task_postrun`` handler at
the end subscribes then, so that polling knows nothing of WebSub.
"""

from __future__ import annotations

import base64
import functools
import time
from typing import Any

import httpx
from celery import Task
from celery.signals import task_postrun

from pipeline.feeds import parse_feed
from pipeline.polling import ingest_entries
from pipeline.stats import incr
from pipeline.websub import PENDING_TIMEOUT, HubTarget, WebSubStore, hub_client, request_subscription
from workers import context
from workers.app import app
from workers.delivery import finish_replay, run_item
from workers.tasks import fetch_article


@functools.cache
def _websub_store() -> WebSubStore:
    return WebSubStore(context.client())


@functools.cache
def _hub_client() -> httpx.Client:
    return hub_client(context.settings())  # SSRF-guarded, like every fetch


@app.task(name="newsflow.websub_subscribe", time_limit=90, soft_time_limit=75)
def websub_subscribe(feed_url: str, hub: str, topic: str, mode: str = "subscribe") -> dict[str, Any]:
    """Ask ``hub`` to (un)subscribe our callback to ``topic``; a failure is retried by websub_renew."""
    chosen = "unsubscribe" if mode == "unsubscribe" else "subscribe"
    sub = request_subscription(_websub_store(), _hub_client(), context.settings(), feed_url,
                               HubTarget(hub, topic), mode=chosen)
    failed = sub.pending_mode is None  # a failed request is recorded with nothing pending
    incr(context.client(), "websub.request_failed" if failed else f"websub.requested.{chosen}")
    return {"id": sub.id, "mode": chosen, "state": sub.state, "error": sub.last_error if failed else None}


@app.task(name="newsflow.websub_ingest", bind=True, max_retries=None, time_limit=120, soft_time_limit=100)
def websub_ingest(self: Task, subscription_id: str, body: str, content_type: str | None = None,
                  replay_of: str | None = None) -> dict[str, Any]:
    """Parse one verified push (base64 bytes) and enqueue its new entries, the same way a poll does."""
    sub = _websub_store().get(subscription_id)
    feed = context.registry().get(sub.feed_url) if sub else None
    if sub is None or feed is None or not feed.enabled:
        incr(context.client(), "websub.push_skipped")
        return {"status": "skipped", "reason": "the subscription or its feed is gone or disabled"}

    def work() -> dict[str, Any]:
        parsed = parse_feed(base64.b64decode(body), feed.url, content_type=content_type,
                            timezone=feed.timezone, language=feed.language)
        new = ingest_entries(feed.url, parsed.entries, registry=context.registry(),
                             enqueue=lambda entry: fetch_article.delay(entry.model_dump(mode="json")))
        incr(context.client(), "entries_new", new)
        finish_replay(replay_of)
        return {"status": "ok", "feed_url": feed.url, "new_entries": new}

    return run_item(self, "push", feed.url, sub.topic, work)


@app.task(name="newsflow.websub_renew", time_limit=60, soft_time_limit=50)
def websub_renew() -> int:
    """Renew leases that end soon, retry what failed, and unsubscribe feeds removed or disabled."""
    if not context.settings().websub_callback_url:
        return 0
    now = time.time()
    due = _websub_store().claim_due(now=now, lease=PENDING_TIMEOUT)
    for sub in due:
        feed = context.registry().get(sub.feed_url)
        if feed is not None and feed.enabled:
            websub_subscribe.delay(sub.feed_url, sub.hub, sub.topic)
        elif sub.expires_at and sub.expires_at > now:
            websub_subscribe.delay(sub.feed_url, sub.hub, sub.topic, "unsubscribe")
        else:
            _websub_store().remove(sub)  # its lease is over: the hub has stopped already
    return len(due)


@task_postrun.connect
def _subscribe_after_poll(sender: Any = None, retval: Any = None, **_: Any) -> None:
    """A poll found a WebSub hub: subscribe once; renewals then come from websub_renew."""
    if getattr(sender, "name", None) != "newsflow.poll_feed" or not isinstance(retval, dict):
        return
    if not retval.get("hub") or not context.settings().websub_callback_url:
        return
    target = HubTarget(retval["hub"], retval.get("topic") or retval["feed_url"])
    if _websub_store().wants_subscription(retval["feed_url"], target):
        websub_subscribe.delay(retval["feed_url"], target.hub, target.topic)
