"""Why the cleaner kept or dropped each block of a page: the data behind ``newsflow extract --explain``."""

from __future__ import annotations

from pipeline.clean import clean
from pipeline.htmlparse import decode_html, parse_html
from pipeline.metadata import extract_metadata

__all__ = ["explain"]


def explain(html: str | bytes, url: str, *, content_type: str | None = None) -> list[dict[str, str]]:
    """The cleaner's decisions for one page, in order: the chosen container, kept blocks, dropped blocks.

    Each entry has ``action`` ("chose", "kept", "dropped"), ``block`` (tag#id.class), ``reason`` and
    ``text`` (the block's first 80 characters).
    """
    soup = parse_html(decode_html(html, content_type) if isinstance(html, bytes) else html)
    meta = extract_metadata(soup, url)
    return clean(soup, url, title=meta.title_structured or meta.title, explain=True).explain
