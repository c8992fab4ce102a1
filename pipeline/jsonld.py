"""JSON-LD (schema.org) blocks: the article object's headline, authors, dates, publisher and more."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["LinkedData", "read_jsonld"]

_ARTICLE_TYPES = frozenset(
    t.lower()
    for t in (
        "Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
        "BackgroundNewsArticle", "ReviewNewsArticle", "BlogPosting", "LiveBlogPosting", "Report",
        "ScholarlyArticle", "SocialMediaPosting", "TechArticle", "APIReference", "Recipe", "MedicalWebPage",
        "WebPage", "ItemPage", "CreativeWork", "VideoObject",
    )
)
_MAX_NODES = 2000  # bound the walk over hostile, huge JSON


@dataclass
class LinkedData:
    """The fields newsflow reads from a page's schema.org article object."""

    headline: str | None = None
    name: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    publisher: str | None = None
    image: str | None = None
    description: str | None = None
    keywords: list[str] = field(default_factory=list)
    language: str | None = None


def read_jsonld(blocks: list[str]) -> LinkedData:
    """The most article-like object among ``blocks`` (invalid JSON is skipped), as LinkedData."""
    best: dict[str, Any] | None = None
    best_rank = 99
    for block in blocks:
        try:
            data = orjson.loads(_unwrap(block))
        except orjson.JSONDecodeError:
            continue
        for obj in _objects(data):
            rank = _rank(obj)
            if rank < best_rank:
                best, best_rank = obj, rank
    return _fields(best) if best is not None else LinkedData()


def _unwrap(block: str) -> str:
    # Pages wrap JSON-LD in CDATA markers (often inside JS comments) for old XHTML parsers.
    text = block.strip()
    if text.startswith(("<![CDATA[", "//<![CDATA[", "/*<![CDATA[*/")):
        text = text.split("<![CDATA[", 1)[1].lstrip("*/ \n")
        text = text.rsplit("]]>", 1)[0].rstrip()
        text = text[:-2] if text.endswith(("//", "/*")) else text
    return text.strip().rstrip(";")


def _objects(data: Any) -> list[dict[str, Any]]:
    # Objects may sit in a list, in @graph, or nested one level under mainEntity.
    out: list[dict[str, Any]] = []
    stack = [data]
    while stack and len(out) < _MAX_NODES:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item[:_MAX_NODES]))
        elif isinstance(item, dict):
            out.append(item)
            for key in ("@graph", "mainEntity", "mainEntityOfPage"):
                if isinstance(item.get(key), (list, dict)):
                    stack.append(item[key])
    return out


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values if v}


def _rank(obj: dict[str, Any]) -> int:
    types = _types(obj) & _ARTICLE_TYPES
    if not types:
        return 99
    if types & {"webpage", "itempage", "creativework", "videoobject", "medicalwebpage"}:
        return 5 if obj.get("headline") else 9
    return 0 if obj.get("headline") or obj.get("articleBody") else 1


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("url")
    if isinstance(value, (str, int, float)) and str(value).strip():
        return " ".join(str(value).split())
    return None


def _names(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in values[:20]:
        if isinstance(item, dict):
            types = _types(item)
            if types & {"organization", "newsmediaorganization", "corporation"}:
                continue
            item = item.get("name")
        if isinstance(item, list):
            out.extend(str(x) for x in item if isinstance(x, str))
        elif isinstance(item, str) and item.strip():
            out.append(item.strip())
    return out


def _fields(obj: dict[str, Any]) -> LinkedData:
    keywords = obj.get("keywords")
    if isinstance(keywords, str):
        tags = [k.strip() for k in keywords.split(",") if k.strip()]
    elif isinstance(keywords, list):
        tags = [str(k).strip() for k in keywords if isinstance(k, str) and k.strip()]
    else:
        tags = []
    image = obj.get("image") or obj.get("thumbnailUrl")
    return LinkedData(
        headline=_text(obj.get("headline")),
        name=_text(obj.get("name")),
        authors=_names(obj.get("author") or obj.get("creator")),
        published=_text(obj.get("datePublished")) or _text(obj.get("dateCreated")),
        modified=_text(obj.get("dateModified")),
        publisher=_text(obj.get("publisher")) or _text(obj.get("sourceOrganization")),
        image=_text(image.get("url") if isinstance(image, dict) else image),
        description=_text(obj.get("description")),
        keywords=tags,
        language=_text(obj.get("inLanguage")),
    )
