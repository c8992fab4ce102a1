"""One page in, one article out: decode, read metadata, clean, merge with the feed entry."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url

from pipeline.authors import clean_authors, parse_byline
from pipeline.clean import Cleaned, clean
from pipeline.dates import ParsedDate, load_zone, parse_date
from pipeline.htmlparse import decode_html, parse_html, without_surrogates
from pipeline.language import detect_language, normalize_language
from pipeline.metadata import PageMetadata, extract_metadata
from pipeline.models import Article, FeedEntry, Source, content_hash

__all__ = ["extract_article", "article_id"]

_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]+>")


def article_id(canonical_url: str) -> str:
    """The stable id of a story: a hash of its canonical URL, normalized."""
    try:
        normalized = canonicalize_url(canonical_url)
    except ValueError:  # a URL that cannot be normalized still needs a stable id
        normalized = canonical_url
    return hashlib.sha256(normalized.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def extract_article(
    html: str | bytes,
    url: str,
    feed_entry: FeedEntry | dict[str, Any] | None = None,
    timezone: str | None = None,
    *,
    content_type: str | None = None,
    fetched_at: dt.datetime | None = None,
) -> Article:
    """Turn one page into a schema v1 article; never raises on any page content.

    ``timezone`` (an IANA name) is the zone of the source; dates written without a zone take it,
    else the feed entry's zone (an unknown zone name is the caller's mistake: ConfigError).

    Merge rule with the feed entry, field by field (page = what the HTML says):

    ==============  ==========================================================================
    title           page's structured headline (JSON-LD, og:, twitter:) > feed title > page's
                    <h1>/<title> (site suffix removed)
    authors         page (JSON-LD > meta > byline) > feed authors
    published_at    a date whose zone is written > one whose zone is configured > unknown zone;
                    between equals the page wins (``_merge_date``); same for updated_at
    language        page's declaration (html lang, meta) > feed language > detected from text
    summary         page description > feed summary (tags stripped)
    tags            page tags, then feed tags not already there (case-insensitive)
    source.name     page (og:site_name, JSON-LD publisher, byline "Source:")
    ==============  ==========================================================================
    """
    url = without_surrogates(url)
    entry = FeedEntry.model_validate(feed_entry) if isinstance(feed_entry, dict) else feed_entry
    zone = load_zone(timezone or (entry.timezone if entry else None))
    soup = parse_html(decode_html(html, content_type) if isinstance(html, bytes) else html)
    try:
        meta = extract_metadata(soup, url)
    except Exception:  # noqa: BLE001 - a bad page must still give an article; fields stay empty
        meta = PageMetadata()
    try:
        cleaned = clean(soup, url, title=meta.title_structured or meta.title)
    except Exception as exc:  # noqa: BLE001 - same: no text rather than no article
        cleaned = Cleaned("", "", False, [{"action": "error", "block": "page", "reason": repr(exc), "text": ""}])

    canonical = meta.canonical_url or url
    published = _merge_date(meta.published, entry.published if entry else None, zone)
    updated = _merge_date(meta.updated, entry.updated if entry else None, zone)
    title = _merge_title(meta, entry)
    text = cleaned.text
    language = (
        normalize_language(meta.language)
        or normalize_language(entry.language if entry else None)
        or detect_language(text)
    )
    return Article(
        id=article_id(canonical),
        url=url,
        canonical_url=canonical,
        feed_url=entry.feed_url if entry else None,
        source=Source(name=meta.site_name, domain=_domain(canonical)),
        title=title,
        authors=_merge_authors(meta, cleaned, entry),
        published_at=published.instant if published else None,
        updated_at=updated.instant if updated else None,
        date_zone=published.zone if published else None,
        language=language,
        summary=meta.description or _plain(entry.summary if entry else None),
        text=text,
        html=cleaned.html,
        word_count=len(_WORD.findall(text)),
        image=meta.image,
        tags=_merge_tags(meta.tags, entry.tags if entry else []),
        has_article=cleaned.has_article,
        fetched_at=fetched_at or dt.datetime.now(dt.timezone.utc),
        content_hash=content_hash(title, text),
    )


def _merge_title(meta: PageMetadata, entry: FeedEntry | None) -> str | None:
    # The page's structured headline is the editor's; a feed title comes next; heuristics last.
    return meta.title_structured or (entry.title if entry and entry.title else None) or meta.title


def _merge_authors(meta: PageMetadata, cleaned: Cleaned, entry: FeedEntry | None) -> list[str]:
    # JSON-LD and meta tags first; then the first byline outside boilerplate (the cleaner saw those
    # in page order, with sidebars and related lists already gone); then any byline element; then the feed.
    if meta.structured_authors:
        return meta.structured_authors
    for line in cleaned.bylines:
        names = clean_authors(parse_byline(line).names, meta.site_names)
        if names:
            return names
    return meta.authors or clean_authors(entry.authors if entry else [], meta.site_names)


def _merge_date(page: str | None, feed: str | None, zone: Any) -> ParsedDate | None:
    # A date whose zone is written wins over one whose zone is configured or unknown;
    # between equals, the page's own date wins over the feed's.
    candidates = [d for d in (parse_date(page, zone), parse_date(feed, zone)) if d is not None]
    rank = {"explicit": 0, "configured": 1, "unknown": 2}
    return min(candidates, key=lambda d: rank[d.zone], default=None)


def _merge_tags(page: list[str], feed: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for tag in [*page, *feed]:
        tag = tag.strip()
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return list(seen.values())


def _plain(html: str | None) -> str | None:
    if not html:
        return None
    text = " ".join(_TAG.sub(" ", html).split())
    return text or None


def _domain(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host
