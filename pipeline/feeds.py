"""Feed parsing: bytes that newsflow fetched itself in, feed entries out.

feedparser is only ever handed bytes, never a URL: given a URL or a path it would open it itself,
local files included, and read without limits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import feedparser

from pipeline.errors import FeedParseError
from pipeline.models import FeedEntry

__all__ = ["ParsedFeed", "parse_feed", "entry_key"]


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed: its title, its site link, its WebSub hub, its entries and its own (self) URL."""

    title: str | None
    link: str | None
    hub: str | None
    entries: list[FeedEntry]
    self_url: str | None = None  # <atom:link rel="self">: the topic URL to subscribe to at the hub
    warning: str | None = None  # what was wrong with a feed that parsed despite it


def parse_feed(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    timezone: str | None = None,
    language: str | None = None,
) -> ParsedFeed:
    """Parse feed ``body`` fetched from ``url``; FeedParseError when it holds no feed."""
    if not isinstance(body, bytes):
        raise TypeError("parse_feed takes the fetched bytes, never a URL or a path")
    if not body.strip():
        raise FeedParseError("empty body, no feed in it", url=url)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    if not parsed.get("version") and not parsed.entries:
        raise FeedParseError(f"not an RSS or Atom feed ({_what_it_is(body)})", url=url)
    meta = parsed.feed
    title = _text(meta.get("title"))
    entries = [e for e in (_entry(raw, url, title, timezone, language) for raw in parsed.entries) if e]
    hub = next((link.get("href") for link in meta.get("links", []) if link.get("rel") == "hub"), None)
    self_url = next((link.get("href") for link in meta.get("links", []) if link.get("rel") == "self"), None)
    return ParsedFeed(title=title, link=meta.get("link"), hub=hub, entries=entries, self_url=self_url,
                      warning=_warning(parsed, len(entries)))


def entry_key(raw: Any) -> str:
    """The stable key of an entry: its id/guid, else its link, else a hash of title and date."""
    for candidate in (raw.get("id"), raw.get("link")):
        if candidate and str(candidate).strip():
            return str(candidate).strip()
    basis = f"{raw.get('title', '')}|{_raw(raw, 'published') or _raw(raw, 'updated') or ''}"
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()


def _entry(
    raw: Any, feed_url: str, feed_title: str | None, timezone: str | None, language: str | None
) -> FeedEntry | None:
    link = raw.get("link")
    if not link:
        return None  # nothing to fetch; such entries carry no story page
    summary = raw.get("summary")
    content = " ".join(c.get("value", "") for c in raw.get("content", []))
    updated = _raw(raw, "updated")
    # A changed `updated` or a changed body makes a new revision of the same entry.
    fingerprint = hashlib.sha256(
        f"{updated or ''}|{raw.get('title', '')}|{summary or ''}|{content}".encode()
    ).hexdigest()[:32]
    return FeedEntry(
        feed_url=feed_url,
        key=entry_key(raw),
        link=str(link),
        title=_text(raw.get("title")),
        authors=_authors(raw),
        published=_raw(raw, "published"),
        updated=updated if updated != _raw(raw, "published") else None,
        summary=summary,
        tags=[t["term"] for t in raw.get("tags", []) if t.get("term")],
        fingerprint=fingerprint,
        feed_title=feed_title,
        timezone=timezone,
        language=language,
    )


def _warning(parsed: Any, count: int) -> str | None:
    # feedparser recovers what it can from broken XML and wrong declared encodings ("bozo"):
    # keep the entries, and say what was wrong so that the feed's status shows it.
    if not parsed.get("bozo"):
        return None
    reason = parsed.get("bozo_exception")
    return f"malformed feed, {count} entries recovered: {type(reason).__name__}: {reason}"


def _raw(raw: Any, name: str) -> Any:
    # dict.get skips feedparser's deprecated fallback from `updated` to `published` (and back),
    # which would blur the two dates.
    return dict.get(raw, name)


def _what_it_is(body: bytes) -> str:
    head = body[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "it is an HTML page"
    if head.startswith(b"<"):
        return "XML without an rss, feed or RDF root"
    return "it is not XML"


def _authors(raw: Any) -> list[str]:
    names = [a.get("name") for a in raw.get("authors", []) if a.get("name")]
    if not names and raw.get("author"):
        names = [raw["author"]]
    return [str(n).strip() for n in names if str(n).strip()]


def _text(value: Any) -> str | None:
    if not value:
        return None
    text = " ".join(str(value).split())
    return text or None
