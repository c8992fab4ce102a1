"""The WebSub core without servers: discovery, requests to hubs, intent checks, signatures, leases."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest

from pipeline.errors import BlockedAddressError, FinalFetchError, RetryableFetchError
from pipeline.feeds import parse_feed
from pipeline.settings import Settings
from pipeline.websub import (
    HubRequest,
    HubTarget,
    Subscription,
    build_request,
    callback_url,
    check_intent,
    discover,
    hub_client,
    parse_link_header,
    renew_at,
    send_hub_request,
    signature_valid,
    subscription_id_from_path,
)

FEED = "http://news.test/feeds/world.xml"
RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>W</title><link>http://news.test/</link>
<atom:link rel="hub" href="/hub"/><atom:link rel="self" href="http://news.test/world.rss"/>
<item><title>One</title><link>http://news.test/1</link><guid>1</guid></item></channel></rss>"""
ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
<link rel="hub" href="https://hub.test/"/><updated>2024-01-01T00:00:00Z</updated></feed>"""
SETTINGS = Settings(websub_callback_url="https://me.test/websub/", websub_lease_seconds=3600)
SUB = Subscription(id="abcdefghijklmnopqrstuvwx", feed_url=FEED, hub="https://hub.test/",
                   topic="http://news.test/world.rss", secret="s3cret", pending_mode="subscribe")


def test_body_links_rss_atom_link_and_relative_hub() -> None:
    parsed = parse_feed(RSS, FEED)
    assert parsed.self_url == "http://news.test/world.rss"
    assert discover({}, parsed, FEED) == HubTarget("http://news.test/hub", "http://news.test/world.rss")


def test_atom_without_self_link_uses_the_fetched_url_as_topic() -> None:
    assert discover({}, parse_feed(ATOM, FEED), FEED) == HubTarget("https://hub.test/", FEED)


def test_link_headers_win_over_the_body() -> None:
    headers = {"link": '<https://push.test/hub>; rel="hub", </t.xml>; rel=self, <https://x.test/>; rel="alternate"'}
    assert discover(headers, parse_feed(RSS, FEED), FEED) == HubTarget("https://push.test/hub", "http://news.test/t.xml")


def test_no_hub_or_no_http_hub_is_no_target() -> None:
    assert discover({}, None, FEED) is None
    assert discover({"link": '<ftp://hub.test/>; rel="hub"'}, None, FEED) is None


def test_link_header_parser_handles_several_rels_and_commas_in_urls() -> None:
    links = parse_link_header('<https://h.test/a,b>; rel="hub self"; title="x, y", <z>; rel=next', FEED)
    assert links == [("https://h.test/a,b", frozenset({"hub", "self"})),
                     ("http://news.test/feeds/z", frozenset({"next"}))]


def test_callback_ids_round_trip_and_junk_paths_are_none() -> None:
    url = callback_url("https://me.test/websub/", SUB.id)
    assert url == "https://me.test/websub/abcdefghijklmnopqrstuvwx"
    assert subscription_id_from_path("/websub/" + SUB.id) == SUB.id
    for junk in ("/", "/websub/short", "/websub/../../etc/passwd", "/websub/" + "x" * 65):
        assert subscription_id_from_path(junk) is None


def test_subscribe_request_carries_callback_lease_and_secret() -> None:
    request = build_request(SUB, "subscribe", SETTINGS)
    assert request.hub == "https://hub.test/"
    assert request.form == {"hub.callback": "https://me.test/websub/" + SUB.id, "hub.mode": "subscribe",
                            "hub.topic": SUB.topic, "hub.lease_seconds": "3600", "hub.secret": "s3cret"}
    assert set(build_request(SUB, "unsubscribe", SETTINGS).form) == {"hub.callback", "hub.mode", "hub.topic"}
    with pytest.raises(FinalFetchError, match="CALLBACK_URL"):
        build_request(SUB, "subscribe", Settings())


def query(**fields: str) -> dict[str, str]:
    return {"hub." + k: v for k, v in fields.items()}


def test_intent_confirmed_only_for_the_pending_mode_and_topic() -> None:
    good = check_intent(SUB, query(mode="subscribe", topic=SUB.topic, challenge="c1", lease_seconds="600"))
    assert good.accepted and good.challenge == "c1" and good.lease_seconds == 600
    refusals = {
        "unknown subscription": (None, query(mode="subscribe", topic=SUB.topic, challenge="c")),
        "not the subscribed one": (SUB, query(mode="subscribe", topic="http://evil.test/", challenge="c",
                                              lease_seconds="600")),
        "no unsubscribe request is pending": (SUB, query(mode="unsubscribe", topic=SUB.topic, challenge="c")),
        "unknown hub.mode": (SUB, query(mode="publish", topic=SUB.topic, challenge="c")),
        "no hub.challenge": (SUB, query(mode="subscribe", topic=SUB.topic, lease_seconds="600")),
        "positive integer": (SUB, query(mode="subscribe", topic=SUB.topic, challenge="c", lease_seconds="-5")),
    }
    for reason, (sub, fields) in refusals.items():
        intent = check_intent(sub, fields)
        assert not intent.accepted and reason in intent.reason, (reason, intent)
    assert not check_intent(SUB, query(mode="subscribe", topic=SUB.topic, challenge="c")).accepted  # no lease
    denied = check_intent(SUB, query(mode="denied", topic=SUB.topic, reason="not allowed"))
    assert denied.accepted and denied.mode == "denied" and denied.reason == "not allowed"


def test_huge_lease_is_capped_at_a_year() -> None:
    intent = check_intent(SUB, query(mode="subscribe", topic=SUB.topic, challenge="c", lease_seconds="9" * 30))
    assert intent.lease_seconds == 365 * 86400


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_signature_each_spec_algorithm(method: str) -> None:
    body = b"<feed/>"
    digest = hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
    assert signature_valid("s3cret", f"{method}={digest}", body)
    assert signature_valid("s3cret", f"{method.upper()}={digest.upper()}", body)
    assert not signature_valid("s3cret", f"{method}={digest}", body + b" ")
    assert not signature_valid("other", f"{method}={digest}", body)


def test_signature_missing_malformed_or_unknown_method_is_invalid() -> None:
    digest = hmac.new(b"s3cret", b"x", hashlib.md5).hexdigest()
    for header in (None, "", "sha256", "sha256=", f"md5={digest}", "nonsense"):
        assert not signature_valid("s3cret", header, b"x")


def test_renewal_comes_before_the_lease_ends() -> None:
    assert renew_at(0, 864000) == 864000 - 86400  # a tenth, at most a day
    assert renew_at(0, 3600) == 3600 - 360
    assert renew_at(0, 1000) == 1000 - 300  # at least five minutes ahead
    assert renew_at(0, 60) == 30  # never more than half the lease


def test_hub_request_follows_307_and_308_with_the_form() -> None:
    seen: list[tuple[str, bytes]] = []

    def hub(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.content))
        if request.url.path == "/old":
            return httpx.Response(308, headers={"Location": "/new"})
        return httpx.Response(202)

    with hub_client(SETTINGS, httpx.MockTransport(hub)) as client:
        assert send_hub_request(client, HubRequest("https://hub.test/old", {"hub.mode": "subscribe"})) == 202
    assert [u for u, _ in seen] == ["https://hub.test/old", "https://hub.test/new"]
    assert seen[1][1] == b"hub.mode=subscribe"


@pytest.mark.parametrize(("status", "error"), [(400, FinalFetchError), (404, FinalFetchError),
                                               (429, RetryableFetchError), (503, RetryableFetchError)])
def test_hub_errors_are_final_or_retryable(status: int, error: type[Exception]) -> None:
    with hub_client(SETTINGS, httpx.MockTransport(lambda r: httpx.Response(status))) as client:
        with pytest.raises(error, match=f"HTTP {status}"):
            send_hub_request(client, HubRequest("https://hub.test/", {"hub.mode": "subscribe"}))


def test_hub_network_errors_are_retryable_and_redirect_loops_final() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with hub_client(SETTINGS, httpx.MockTransport(down)) as client:
        with pytest.raises(RetryableFetchError, match="refused"):
            send_hub_request(client, HubRequest("https://hub.test/", {"hub.mode": "subscribe"}))
    loop = httpx.MockTransport(lambda r: httpx.Response(307, headers={"Location": "/again"}))
    with hub_client(SETTINGS, loop) as client:
        with pytest.raises(FinalFetchError, match="redirected more than 2"):
            send_hub_request(client, HubRequest("https://hub.test/", {"hub.mode": "subscribe"}), max_redirects=2)


def test_hub_client_goes_through_the_ssrf_guard() -> None:
    with hub_client(SETTINGS) as client:  # loopback is not opened in these settings
        with pytest.raises(BlockedAddressError):
            send_hub_request(client, HubRequest("http://127.0.0.1:9/hub", {"hub.mode": "subscribe"}))
