"""Metadata of a page: title, authors, dates, source, language, canonical URL, description, image, tags."""

from __future__ import annotations

from dataclasses import dataclass, field

from bs4 import BeautifulSoup


@dataclass(frozen=True)
class PageMetadata:
    """What the page says about itself; dates stay as written (the zone is applied by the caller)."""

    title: str | None = None
    title_structured: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)


def extract_metadata(soup: BeautifulSoup, url: str) -> PageMetadata:
    """Read the page's metadata (placeholder, replaced by the full cascade)."""
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    return PageMetadata(title=title)
