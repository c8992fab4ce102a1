"""Metadata of a page: title, authors, dates, source, language, canonical URL, description, image, tags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from pipeline.authors import clean_authors, parse_byline
from pipeline.dates import date_from_url, parse_date
from pipeline.jsonld import LinkedData, read_jsonld
from pipeline.selectors import DATE_HINT, DATE_IN_TEXT, AUTHOR_HINT, AUTHOR_NAME, AUTHOR_NOISE, AUTHOR_NOISE_CLASS
from pipeline.titles import page_title, site_from_title, text_similarity

__all__ = ["PageMetadata", "extract_metadata"]


@dataclass(frozen=True)
class PageMetadata:
    """What the page says about itself; dates stay as written (the zone is applied by the caller)."""

    title: str | None = None
    title_structured: str | None = None
    authors: list[str] = field(default_factory=list)
    structured_authors: list[str] = field(default_factory=list)  # from JSON-LD or meta tags only
    site_names: tuple[str, ...] = ()
    published: str | None = None
    updated: str | None = None
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)


# Meta keys in the order they are trusted, per field.
_TITLE_KEYS = ("dc:title", "dcterm:title", "og:title", "weibo:article:title", "title", "twitter:title",
               "parsely-title", "sailthru.title")
_AUTHOR_KEYS = ("dc:creator", "dcterm:creator", "author", "parsely-author", "article:author",
                "og:article:author", "sailthru.author", "byl", "citation_author", "dc.creator")
_PUBLISHED_KEYS = ("article:published_time", "og:article:published_time", "datepublished", "parsely-pub-date",
                   "pubdate", "publishdate", "publish-date", "publish_date", "date", "dc.date", "dc.date.issued",
                   "dcterms.created", "dcterms.date", "sailthru.date", "citation_publication_date",
                   "article.published", "published_time", "og:published_time", "release_date")
_UPDATED_KEYS = ("article:modified_time", "og:updated_time", "datemodified", "dc.date.modified",
                 "dcterms.modified", "lastmod", "last-modified")
_SITE_KEYS = ("og:site_name", "application-name", "twitter:site:name", "publisher", "dc.publisher")
_DESCRIPTION_KEYS = ("description", "og:description", "twitter:description", "dc.description")
_IMAGE_KEYS = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
_LANG_KEYS = ("content-language", "language", "dc.language", "og:locale", "inlanguage")
_URLISH = re.compile(r"^(?:https?:)?//|^www\.", re.I)


@dataclass
class _Index:
    """The parts of the tree that metadata reads, collected in one walk."""

    meta: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)
    headings: list[Tag] = field(default_factory=list)
    times: list[Tag] = field(default_factory=list)
    bylines: list[Tag] = field(default_factory=list)
    jsonld: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    datelines: list[Tag] = field(default_factory=list)


def _index(soup: BeautifulSoup) -> _Index:
    idx = _Index()
    for el in soup.find_all(True):
        name = el.name
        attrs = el.attrs
        if name == "meta":
            keys = str(attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
                       or attrs.get("http-equiv") or "").lower().split()
            content = attrs.get("content")
            if keys and isinstance(content, str) and content.strip():
                for key in keys:  # property="dc:creator twitter:creator" names two keys
                    if key in ("article:tag", "og:article:tag"):
                        idx.tags.append(content.strip())
                    idx.meta.setdefault(key, content.strip())
            continue
        if name == "script":
            if "ld+json" in str(attrs.get("type", "")).lower():
                idx.jsonld.append(el.get_text())
            continue
        if name == "link":
            for rel in str(attrs.get("rel") or "").split():
                href = attrs.get("href")
                if isinstance(href, str) and href.strip():
                    idx.links.setdefault(str(rel).lower(), href.strip())
            continue
        if name == "title" and not idx.titles:
            idx.titles.append(el.get_text())
        elif name in ("h1", "h2", "h3"):
            idx.headings.append(el)
        elif name == "time":
            idx.times.append(el)
        if not attrs:
            continue
        rels = attrs.get("rel")
        itemprop = str(attrs.get("itemprop", ""))
        hint: str = f"{attrs.get('class', '')} {attrs.get('id', '')}"
        if len(idx.hints) < 6 and _HEADLINE_HINT.search(hint):
            text = " ".join(el.get_text(" ").split())
            if 0 < len(text) < 300:
                idx.hints.append(text)
        if len(idx.bylines) < 60 and ((rels and "author" in rels) or "author" in itemprop
                                      or AUTHOR_HINT.search(hint)):
            idx.bylines.append(el)
        elif len(idx.datelines) < 10 and DATE_HINT.search(hint):
            idx.datelines.append(el)
    return idx


def extract_metadata(soup: BeautifulSoup, url: str) -> PageMetadata:
    """Read the page's metadata: JSON-LD first, then meta tags, then the visible page."""
    idx = _index(soup)
    ld = read_jsonld(idx.jsonld)
    meta = idx.meta
    byline_names, byline_source, byline_date = _dom_byline(idx)
    site_name = (_first(meta, _SITE_KEYS, reject=_URLISH) or ld.publisher or byline_source)
    heading_texts = [" ".join(h.get_text(" ").split()) for h in idx.headings[:6]]
    title = page_title(idx.titles[0] if idx.titles else None, heading_texts, idx.hints, site_name)
    declared_site = site_name
    # Last resort for the name: what <title> says besides the headline. Too weak to veto an author
    # (a personal blog's <title> ends in its author's name), so it is not in ``sites`` below.
    site_name = site_name or site_from_title(idx.titles[0] if idx.titles else None, title)
    structured = _ld_title(ld, title) or _first(meta, _TITLE_KEYS)
    if structured:
        structured = " ".join(structured.split())
    sites = tuple(s for s in (declared_site, ld.publisher, byline_source) if s)
    meta_author = _first(meta, _AUTHOR_KEYS, reject=_URLISH)
    # JSON-LD names a Person on purpose: a blog whose site name is its author's name keeps it.
    named = clean_authors(ld.authors) or clean_authors([meta_author] if meta_author else [], sites)
    authors = named or clean_authors(byline_names, sites)
    published = _first_date([ld.published, *(meta.get(k) for k in _PUBLISHED_KEYS), *_time_values(idx, True),
                             byline_date, *_time_values(idx, False), *_dateline_values(idx)])
    if published is None and (day := date_from_url(url)) is not None:
        published = day.isoformat()
    updated = _first_date([ld.modified, *(meta.get(k) for k in _UPDATED_KEYS)])
    html = soup.find("html")
    lang = html.get("lang") or html.get("xml:lang") if isinstance(html, Tag) else None
    canonical = idx.links.get("canonical") or meta.get("og:url")
    image = _first(meta, _IMAGE_KEYS) or ld.image or idx.links.get("image_src")
    keywords = meta.get("keywords") or meta.get("news_keywords") or ""
    tags = idx.tags or ld.keywords or [k.strip() for k in keywords.split(",") if k.strip()]
    return PageMetadata(
        title=title,
        title_structured=structured or None,
        authors=authors,
        structured_authors=named,
        site_names=sites,
        published=published,
        updated=updated,
        site_name=" ".join(site_name.split()) if site_name else None,
        language=str(lang) if lang else (_first(meta, _LANG_KEYS) or ld.language),
        canonical_url=_absolute(url, canonical),
        description=_first(meta, _DESCRIPTION_KEYS) or ld.description,
        image=_absolute(url, image),
        tags=tags[:30],
    )


def _first(meta: dict[str, str], keys: tuple[str, ...], reject: re.Pattern[str] | None = None) -> str | None:
    for key in keys:
        value = meta.get(key)
        if value and not (reject and reject.search(value)):
            return value
    return None


def _ld_title(ld: LinkedData, title: str | None) -> str | None:
    # "name" and "headline" should agree; when they differ, the one the page title resembles wins
    # (some sites put the site's name in "name", others a description in "headline").
    if ld.name and ld.headline and ld.name != ld.headline and title:
        if text_similarity(ld.headline, title) > 0.75 and text_similarity(ld.name, title) <= 0.75:
            return ld.headline
        if text_similarity(ld.name, title) > 0.75:
            return ld.name
        return ld.headline
    return ld.headline or ld.name


def _first_date(values: list[str | None]) -> str | None:
    for value in values:
        if value and parse_date(value) is not None:
            return value.strip()
    return None


def _time_values(idx: _Index, marked: bool) -> list[str]:
    # <time pubdate> or itemprop=datePublished says it is the story's date; a bare <time> may be anything.
    out = []
    for el in idx.times:
        is_marked = el.has_attr("pubdate") or "datepublished" in str(el.get("itemprop", "")).lower()
        if is_marked == marked:
            value = el.get("datetime") or (el.get_text(" ", strip=True) if marked else None)
            if isinstance(value, str):
                out.append(value)
    return out[:3]


def _dateline_values(idx: _Index) -> list[str]:
    # "Posted on 2019-10-12", "June 1, 2022 at 8:00": a date written in an element named for dates.
    out = []
    for el in idx.datelines:
        text = " ".join(el.get_text(" ").split())
        if len(text) <= 200 and (match := DATE_IN_TEXT.search(text)):
            out.append(match[0])
    return out


def _dom_byline(idx: _Index) -> tuple[list[str], str | None, str | None]:
    """Names, source and date from the page's byline elements, the most specific ones first."""
    ranked: list[tuple[int, int, Tag]] = []
    for order, el in enumerate(idx.bylines):
        hint = f"{el.attrs.get('class', '')} {el.attrs.get('id', '')}"
        if AUTHOR_NOISE.search(hint) or _noisy_parent(el):
            continue
        rel = el.attrs.get("rel") or ()
        specific = "author" in rel or "author" in str(el.attrs.get("itemprop", "")) or AUTHOR_NAME.search(hint)
        ranked.append((0 if specific else 1, order, el))
    names: list[str] = []
    source = date = None
    for _rank, _order, el in sorted(ranked, key=lambda r: (r[0], r[1])):
        text = _element_name(el)
        if not text or len(text) > 200:
            continue
        parsed = parse_byline(text)
        source = source or parsed.source
        date = date or parsed.date
        if parsed.names and (not names or _rank == 0 and _order_near(names, parsed.names)):
            names = names + [n for n in parsed.names if n not in names]
    return names, source, date


def _noisy_parent(el: Tag) -> bool:
    parent = el.parent
    for _ in range(8):
        if not isinstance(parent, Tag):
            return False
        if AUTHOR_NOISE_CLASS.search(str(parent.attrs.get("class", ""))):
            return True
        parent = parent.parent
    return False


def _order_near(names: list[str], more: list[str]) -> bool:
    # Several specific name elements list co-authors; keep adding while they are new names.
    return len(names) < 4 and any(n not in names for n in more)


def _element_name(el: Tag) -> str:
    # itemprop=author often holds <meta itemprop=name content=...> rather than text.
    text = " ".join(el.get_text(" ").split())
    if text:
        return text
    inner = el.find(itemprop="name")
    content = inner.get("content") if isinstance(inner, Tag) else el.get("content")
    return content.strip() if isinstance(content, str) else ""


_HEADLINE_HINT = re.compile(r"(?:^|[\s_-])(?:title|headline|heading)(?:$|[\s_-])", re.I)


def _absolute(base: str, value: str | None) -> str | None:
    if not value:
        return None
    try:
        url = urljoin(base, value.strip())
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:  # "http://[::1", "http://x:99999/": not a URL anyone can use
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url
