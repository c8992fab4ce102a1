"""Bytes to text to a tree: charset detection and the lxml-backed BeautifulSoup parse."""

from __future__ import annotations

from bs4 import BeautifulSoup, UnicodeDammit


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Decode page bytes using the HTTP charset, then the page's own declaration, then detection."""
    declared = []
    if content_type and "charset=" in content_type.lower():
        declared.append(content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'"))
    dammit = UnicodeDammit(data, known_definite_encodings=declared, is_html=True)
    return dammit.unicode_markup or data.decode("utf-8", errors="replace")


def parse_html(text: str) -> BeautifulSoup:
    """Parse ``text`` with lxml."""
    return BeautifulSoup(text, "lxml")
