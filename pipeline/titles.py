"""The headline from a page's <title>: drop the site name and section parts that pages append."""

from __future__ import annotations

import re

__all__ = ["page_title", "strip_site_suffix"]

_SEPARATOR = re.compile(r"\s+[|\-\u2013\u2014\\/>»·•:]{1,2}\s+")
_SEPARATOR_END = re.compile(_SEPARATOR.pattern + "$")
_HIERARCHY = re.compile(r"\s[\\/>»]\s")
_WORD = re.compile(r"\w+")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def page_title(raw: str | None, headings: list[str], hints: list[str], site_name: str | None) -> str | None:
    """The headline: the part of ``raw`` that a heading confirms, else ``raw`` less its site suffix."""
    title = " ".join((raw or "").split())
    if not title:
        return next((h for h in headings if 0 < len(h) < 300), None)
    candidates = [h for h in [*headings, *hints] if h]
    folded = _norm(title)
    # A heading that is the whole <title> or one side of a separator is the headline itself.
    for text in candidates:
        norm = _norm(text)
        if norm == folded:
            return text
    for text in candidates:
        norm = _norm(text)
        if _words(norm) >= 2 and (folded.startswith(norm) or folded.endswith(norm)) and _is_split_point(folded, norm):
            return text
    return strip_site_suffix(title, site_name, candidates)


def _is_split_point(title: str, part: str) -> bool:
    if title.startswith(part):
        return bool(_SEPARATOR.match(title, len(part)))
    return bool(_SEPARATOR_END.search(title[: len(title) - len(part)]))


def strip_site_suffix(title: str, site_name: str | None = None, headings: list[str] | None = None) -> str:
    """``Headline - Site`` -> ``Headline`` (also ``Site | Headline``), readability's rules, site-aware."""
    parts = _SEPARATOR.split(title)
    if len(parts) < 2:
        return _colon_rule(title, headings or [])
    if site_name:
        site = _norm(site_name)
        kept = [p for p in parts if _norm(p) != site]
        if 0 < len(kept) < len(parts):
            return " ".join(kept) if len(kept) == 1 else _join_like(title, kept)
    had_hierarchy = bool(_HIERARCHY.search(title))
    # Drop the last part (the site); if that leaves under three words, drop the first part instead.
    current = title[: _last_separator(title)].strip()
    if _words(current) < 3:
        current = title[_first_separator_end(title):].strip()
    count = _words(current)
    if count <= 4 and (not had_hierarchy or count != _words(_SEPARATOR.sub(" ", title)) - 1):
        return title
    return current or parts[0]


def _join_like(title: str, kept: list[str]) -> str:
    start = title.find(kept[0])
    end = title.rfind(kept[-1]) + len(kept[-1])
    return title[start:end] if 0 <= start < end else kept[0]


def _last_separator(title: str) -> int:
    matches = list(_SEPARATOR.finditer(title))
    return matches[-1].start() if matches else len(title)


def _first_separator_end(title: str) -> int:
    match = _SEPARATOR.search(title)
    return match.end() if match else 0


def _colon_rule(title: str, headings: list[str]) -> str:
    if ": " not in title or any(_norm(h) == _norm(title) for h in headings):
        return title
    after = title[title.rfind(":") + 1:].strip()
    if _words(after) < 3:
        after = title[title.find(":") + 1:].strip()
    elif _words(title[: title.find(":")]) > 5:
        return title
    return after or title
