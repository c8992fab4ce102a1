"""WebSub subscriber core (W3C Recommendation, 2018): discovery, subscriptions, hub requests, checks.

A poll finds a feed's hub and topic (:func:`discover`); :func:`request_subscription` records a pending
subscription in Redis, with a random id (the last segment of its callback URL) and a secret, and asks
the hub; the hub's verification GET is answered by :func:`check_intent` + :meth:`WebSubStore.apply`;
each push is accepted only with a valid ``X-Hub-Signature`` (:func:`signature_valid`); leases are
renewed before they end (:func:`renew_at`, :meth:`WebSubStore.claim_due`). Every request to a hub
goes through the SSRF guard. The callback server and the tasks live in ``workers/``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson
import redis
from pydantic import BaseModel, ConfigDict

from pipeline import keys
from pipeline.errors import FetchError, FinalFetchError, RetryableFetchError
from pipeline.feeds import ParsedFeed
from pipeline.settings import Settings
from pipeline.ssrf import GuardedTransport

__all__ = [
    "HubTarget", "Subscription", "WebSubStore", "Intent", "HubRequest", "SIGNATURE_METHODS",
    "parse_link_header", "discover", "callback_url", "subscription_id_from_path", "build_request",
    "hub_client", "send_hub_request", "request_subscription", "check_intent", "signature_valid",
    "renew_at",
]

Mode = Literal["subscribe", "unsubscribe"]
State = Literal["pending", "active", "denied", "failed"]

#: The algorithms the spec names for X-Hub-Signature (section 7.1).
SIGNATURE_METHODS: dict[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512,
}
PENDING_TIMEOUT = 900.0  # a hub that has not verified by then gets the request again
_MAX_LEASE = 365 * 86400  # a longer grant is read as a year: we renew at least that often anyway
_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]*)*)')
_REL = re.compile(r'rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))', re.IGNORECASE)
_HUB_ANSWER_CAP = 64 * 1024  # a hub's answer is read this far at most: we only need its status

_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
end
return due
"""


@dataclass(frozen=True)
class HubTarget:
    """Where to subscribe: the hub, and the topic URL to name there."""

    hub: str
    topic: str


def parse_link_header(value: str | None, base: str) -> list[tuple[str, frozenset[str]]]:
    """The (absolute URL, rel values) of each link in an HTTP Link header (RFC 8288)."""
    links = []
    for match in _LINK.finditer(value or ""):
        rel = _REL.search(match.group(2))
        rels = (rel.group(1) or rel.group(2) or "").lower().split() if rel else []
        links.append((urllib.parse.urljoin(base, match.group(1).strip()), frozenset(rels)))
    return links


def discover(headers: Mapping[str, str], parsed: ParsedFeed | None, url: str) -> HubTarget | None:
    """The hub and topic of a fetched feed; HTTP Link headers win over links in the body."""
    links = parse_link_header(headers.get("link") or headers.get("Link"), url)
    hub = next((href for href, rels in links if "hub" in rels), None)
    topic = next((href for href, rels in links if "self" in rels), None)
    if hub is None and parsed is not None:
        hub, topic = parsed.hub, topic or parsed.self_url
    if not hub or not hub.startswith(("http://", "https://")):
        return None
    return HubTarget(hub, topic or url)  # no self link: the URL it was fetched from is the topic


class Subscription(BaseModel):
    """One feed's subscription at its hub, and its state."""

    model_config = ConfigDict(extra="ignore")

    id: str
    feed_url: str
    hub: str
    topic: str
    secret: str | None = None
    state: State = "pending"
    pending_mode: Mode | None = None
    requested_at: float | None = None
    verified_at: float | None = None
    lease_seconds: int | None = None
    expires_at: float | None = None
    attempts: int = 0
    last_error: str | None = None
    pushes: int = 0
    rejected: int = 0


def callback_url(base: str, subscription_id: str) -> str:
    """The callback URL of one subscription under the public base URL."""
    return base.rstrip("/") + "/" + subscription_id


def subscription_id_from_path(path: str) -> str | None:
    """The subscription id in a callback path (its last segment), or None when it is not one."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last if _ID.fullmatch(last) else None


@dataclass(frozen=True)
class HubRequest:
    """A subscribe or unsubscribe request: the hub URL and its form fields."""

    hub: str
    form: dict[str, str]


def build_request(sub: Subscription, mode: Mode, settings: Settings) -> HubRequest:
    """The form POSTed to the hub (section 5.1)."""
    if not settings.websub_callback_url:
        raise FinalFetchError("NEWSFLOW_WEBSUB_CALLBACK_URL is not set", url=sub.hub)
    form = {"hub.callback": callback_url(settings.websub_callback_url, sub.id),
            "hub.mode": mode, "hub.topic": sub.topic}
    if mode == "subscribe":
        form["hub.lease_seconds"] = str(settings.websub_lease_seconds)
        if sub.secret:
            form["hub.secret"] = sub.secret
    return HubRequest(sub.hub, form)


def hub_client(settings: Settings, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An HTTP client for hubs whose every connection goes through the SSRF guard."""
    return httpx.Client(
        transport=transport or GuardedTransport(settings.allowed_networks),
        follow_redirects=False, trust_env=False,  # proxies would resolve names behind the guard's back
        timeout=httpx.Timeout(settings.fetch_timeout, connect=settings.connect_timeout),
        headers={"User-Agent": settings.effective_user_agent},
    )


def send_hub_request(client: httpx.Client, request: HubRequest, *, max_redirects: int = 5) -> int:
    """POST ``request``; the hub's 2xx status, else a retryable (5xx, 429, network) or final error."""
    url = request.hub
    for _hop in range(max_redirects + 1):
        try:
            with client.stream("POST", url, data=request.form) as response:
                for _chunk in response.iter_bytes():  # drain a little so the connection is reused
                    if response.num_bytes_downloaded > _HUB_ANSWER_CAP:
                        break
                status, location = response.status_code, response.headers.get("location")
        except httpx.HTTPError as exc:
            raise RetryableFetchError(f"hub request failed: {exc or type(exc).__name__}", url=url) from exc
        if 200 <= status < 300:
            return status
        if status in (307, 308) and location:  # the only redirects that keep the POST and its form
            url = urllib.parse.urljoin(url, location)
            continue
        message = f"hub answered HTTP {status} to {request.form['hub.mode']}"
        if status == 429 or status >= 500:
            raise RetryableFetchError(message, url=url, status=status)
        raise FinalFetchError(message, url=url, status=status)
    raise FinalFetchError(f"hub redirected more than {max_redirects} times", url=request.hub)


@dataclass(frozen=True)
class Intent:
    """The verdict on a hub's verification request (section 5.3)."""

    accepted: bool
    reason: str
    mode: str | None = None
    challenge: str | None = None
    lease_seconds: int | None = None


def check_intent(sub: Subscription | None, query: Mapping[str, str]) -> Intent:
    """Confirm only what we asked for: the mode we are waiting on, for this subscription's topic."""
    mode, topic = query.get("hub.mode"), query.get("hub.topic")
    if sub is None:
        return Intent(False, "unknown subscription")
    if topic != sub.topic:
        return Intent(False, f"topic {topic!r} is not the subscribed one")
    if mode == "denied":
        return Intent(True, query.get("hub.reason") or "denied by the hub", mode)
    if mode not in ("subscribe", "unsubscribe"):
        return Intent(False, f"unknown hub.mode {mode!r}")
    if mode != sub.pending_mode:
        return Intent(False, f"no {mode} request is pending")  # e.g. a forged unsubscribe
    challenge = query.get("hub.challenge")
    if not challenge:
        return Intent(False, "no hub.challenge")
    lease = None
    if mode == "subscribe":
        raw = query.get("hub.lease_seconds", "")
        if not raw.isdigit() or int(raw) == 0:
            return Intent(False, f"hub.lease_seconds must be a positive integer, got {raw!r}")
        lease = min(int(raw), _MAX_LEASE)
    return Intent(True, "verified", mode, challenge, lease)


def signature_valid(secret: str, header: str | None, body: bytes) -> bool:
    """True when ``header`` ("method=hexdigest") is the HMAC of ``body`` under ``secret``."""
    method, _, digest = (header or "").strip().partition("=")
    algorithm = SIGNATURE_METHODS.get(method.strip().lower())
    if algorithm is None or not digest:
        return False
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return hmac.compare_digest(expected, digest.strip().lower())  # constant time: no timing oracle


def renew_at(verified_at: float, lease: int) -> float:
    """When to renew: a tenth of the lease ahead, at least 5 minutes, at most a day, at most half."""
    return verified_at + lease - min(lease / 2, max(lease / 10, 300.0), 86400.0)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _retry_delay(attempts: int) -> float:
    return min(300.0 * 2 ** max(0, attempts - 1), 86400.0)


class WebSubStore:
    """Subscriptions in Redis: a hash each, a feed -> id index, and a sorted set of next actions."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._claim = client.register_script(_CLAIM_DUE)

    def get(self, subscription_id: str) -> Subscription | None:
        """The subscription with this id, or None."""
        raw: dict[bytes, bytes] = self.redis.hgetall(keys.websub_key(subscription_id))  # type: ignore[assignment]
        return Subscription.model_validate({_text(k): orjson.loads(v) for k, v in raw.items()}) if raw else None

    def for_feed(self, feed_url: str) -> Subscription | None:
        """The subscription of ``feed_url``, or None."""
        sub_id = self.redis.get(keys.websub_feed_key(feed_url))
        return self.get(_text(sub_id)) if sub_id else None

    def all(self) -> list[Subscription]:
        """Every subscription, in the order of their next action."""
        ids = [_text(i) for i in self.redis.zrange(keys.WEBSUB_DUE, 0, -1)]
        return [s for s in (self.get(i) for i in ids) if s is not None]

    def wants_subscription(self, feed_url: str, target: HubTarget) -> bool:
        """True when ``feed_url`` has no subscription yet, or one at another hub or topic."""
        sub = self.for_feed(feed_url)
        return sub is None or (sub.hub, sub.topic) != (target.hub, target.topic)

    def begin(self, feed_url: str, target: HubTarget, mode: Mode, *, with_secret: bool,
              now: float) -> Subscription:
        """Record a pending (un)subscription; a renewal keeps its id and secret."""
        sub = self.for_feed(feed_url)
        if sub is None:
            sub = Subscription(id=secrets.token_urlsafe(18), feed_url=feed_url, hub=target.hub,
                               topic=target.topic, secret=secrets.token_hex(32) if with_secret else None)
        elif with_secret and not sub.secret:
            sub = sub.model_copy(update={"secret": secrets.token_hex(32)})
        # A request the hub never verified counts as a failed attempt: ask again, less and less often.
        attempts = sub.attempts + 1 if sub.pending_mode else sub.attempts
        sub = sub.model_copy(update={"hub": target.hub, "topic": target.topic, "pending_mode": mode,
                                     "requested_at": now, "attempts": attempts})
        self._save(sub, due=now + max(PENDING_TIMEOUT, _retry_delay(attempts)))
        return sub

    def apply(self, sub: Subscription, intent: Intent, *, now: float) -> None:
        """Store what an accepted verification means: active, denied, or gone."""
        if intent.mode == "unsubscribe":
            self.remove(sub)
        elif intent.mode == "denied":
            self._save(sub.model_copy(update={"state": "denied", "pending_mode": None,
                                              "last_error": intent.reason}), due=now + 86400.0)
        elif intent.mode == "subscribe" and intent.lease_seconds:
            lease = intent.lease_seconds
            self._save(sub.model_copy(update={
                "state": "active", "pending_mode": None, "verified_at": now, "lease_seconds": lease,
                "expires_at": now + lease, "attempts": 0, "last_error": None}), due=renew_at(now, lease))

    def record_failure(self, sub: Subscription, error: str, *, now: float) -> Subscription:
        """A hub request failed: keep an active lease as it is and try again after a back-off."""
        attempts = sub.attempts + 1
        failed = sub.model_copy(update={"attempts": attempts, "last_error": error, "pending_mode": None,
                                        "state": "active" if sub.state == "active" else "failed"})
        due = now + _retry_delay(attempts)
        if failed.expires_at and failed.expires_at > now:
            due = min(due, max(now + 60.0, renew_at(now, int(failed.expires_at - now))))
        self._save(failed, due=due)
        return failed

    def note_push(self, sub: Subscription, *, accepted: bool) -> None:
        """Count one push of ``sub``, accepted or rejected."""
        self.redis.hincrby(keys.websub_key(sub.id), "pushes" if accepted else "rejected", 1)

    def claim_due(self, *, now: float, lease: float, limit: int = 200) -> list[Subscription]:
        """Subscriptions to renew or retry at ``now``, each held for ``lease`` seconds."""
        ids = self._claim(keys=[keys.WEBSUB_DUE], args=[now, now + lease, limit])
        return [s for s in (self.get(_text(i)) for i in ids) if s is not None]

    def remove(self, sub: Subscription) -> None:
        """Forget ``sub`` (unsubscribed, or its feed is gone)."""
        with self.redis.pipeline() as pipe:
            pipe.delete(keys.websub_key(sub.id))
            pipe.zrem(keys.WEBSUB_DUE, sub.id)
            pipe.delete(keys.websub_feed_key(sub.feed_url))
            pipe.execute()

    def _save(self, sub: Subscription, *, due: float) -> None:
        # Counters are kept by HINCRBY only, so a save never overwrites a push counted meanwhile.
        fields = sub.model_dump(exclude={"pushes", "rejected"})
        with self.redis.pipeline() as pipe:
            pipe.hset(keys.websub_key(sub.id), mapping={k: orjson.dumps(v) for k, v in fields.items()})
            pipe.set(keys.websub_feed_key(sub.feed_url), sub.id)
            pipe.zadd(keys.WEBSUB_DUE, {sub.id: due})
            pipe.execute()


def request_subscription(store: WebSubStore, client: httpx.Client, settings: Settings, feed_url: str,
                         target: HubTarget, *, mode: Mode = "subscribe",
                         now: float | None = None) -> Subscription:
    """Record a pending (un)subscription of ``feed_url``, then ask the hub; a failure is stored."""
    now = time.time() if now is None else now
    # The spec: send hub.secret over https only, unless the operator chose otherwise.
    with_secret = target.hub.startswith("https://") or settings.websub_secret_over_http
    sub = store.begin(feed_url, target, mode, with_secret=with_secret, now=now)
    try:
        # Recorded before the request: a hub may verify before it answers.
        send_hub_request(client, build_request(sub, mode, settings), max_redirects=settings.max_redirects)
    except FetchError as exc:
        return store.record_failure(sub, str(exc), now=now)
    return sub
