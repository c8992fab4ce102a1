"""The cleaner: the story's own blocks, without navigation, share bars, comments and trailers."""

from __future__ import annotations

from dataclasses import dataclass

from bs4 import BeautifulSoup


@dataclass(frozen=True)
class Cleaned:
    """The story's text (paragraphs separated by a blank line) and a small clean HTML of it."""

    text: str
    html: str
    has_article: bool


def clean(soup: BeautifulSoup, url: str) -> Cleaned:
    """Reduce the page to its story (placeholder, replaced by the scoring cleaner)."""
    paragraphs = [p.get_text(" ", strip=True) for p in soup.find_all("p")]
    paragraphs = [p for p in paragraphs if p]
    return Cleaned(text="\n\n".join(paragraphs), html="", has_article=bool(paragraphs))
