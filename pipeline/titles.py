"""The headline from a page's <title>: drop the site name and section parts that pages append."""

from __future__ import annotations

import re

__all__ = ["page_title", "strip_site_suffix"]

_SEPARATOR = re.compile(r"\s+[|\-\u2013\u2014\\/>»·•:]{1,2}\s+")
_SEPARATOR_END = re.compile(_SEPARATOR.pattern + "$")
_COLON = re.compile(r":\s+")
_COLON_END = re.compile(r"\S:\s+$")
_HIERARCHY = re.compile(r"\s[\\/>»]\s")
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"[^\W_]+")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _norm(text: str) -> str:
    # Headings often end in a permalink mark ("¶", "#") that the <title> does not have.
    return " ".join(text.split()).strip(" ¶#§").casefold()


def page_title(raw: str | None, headings: list[str], hints: list[str], site_name: str | None) -> str | None:
    """The headline: the part of ``raw`` that a heading confirms, else ``raw`` less its site suffix."""
    title = " ".join((raw or "").split())
    if not title:
        return next((h for h in headings if 0 < len(h) < 300), None)
    candidates = [h for h in [*headings, *hints] if h]
    folded = _norm(title)
    # A heading that is the whole <title> or one side of a separator is the headline itself;
    # real headings (h1, h2) are asked before elements that are only named "title".
    if any(_norm(text) == folded for text in candidates):
        return title
    confirmed: list[tuple[int, int, str]] = []  # (length, 1 for the leading part, text)
    for text in candidates:
        norm = _norm(text)
        if _words(norm) < 2 or len(norm) > len(folded):
            continue
        if folded.startswith(norm) and _is_split_point(folded, norm):
            confirmed.append((len(norm), 1, _segment(title, text, 0, len(norm))))
        elif folded.endswith(norm) and _is_split_point(folded, norm):
            confirmed.append((len(norm), 0, _segment(title, text, len(folded) - len(norm), len(folded))))
    if confirmed:
        # The site's own name is often a heading too (in the masthead): the headline is the longer
        # part; on a tie, the leading one ("Headline - Site" is the common order).
        return max(confirmed)[2]
    return strip_site_suffix(title, site_name)


def site_from_title(raw: str | None, headline: str | None) -> str | None:
    """What ``<title>`` says besides the headline, when that is one short part: the site's name."""
    title = " ".join((raw or "").split())
    if not title or not headline or headline == title:
        return None
    if title.startswith(headline):
        rest = title[len(headline):]
        parts = [p for p in _SEPARATOR.split(" " + rest.lstrip(":") + " ") if p.strip()]
        candidate = parts[-1] if parts else ""
    elif title.endswith(headline):
        rest = title[: len(title) - len(headline)]
        parts = [p for p in _SEPARATOR.split(" " + rest.rstrip().rstrip(":") + " ") if p.strip()]
        candidate = parts[0] if parts else ""
    else:
        return None
    candidate = candidate.strip(" |-:\u2013\u2014·•»")
    return candidate if 0 < _words(candidate) <= 5 else None


def _segment(title: str, heading: str, start: int, end: int) -> str:
    # The confirmed part as the <title> writes it; the heading's own text if case folding moved offsets.
    if len(title.casefold()) == len(title):
        return title[start:end].strip()
    return " ".join(heading.split()).strip(" ¶#§")


def text_similarity(a: str, b: str) -> float:
    """readability's measure: the share of ``b``'s tokens (by length) that also occur in ``a``."""
    tokens_a = set(_TOKEN.findall(a.lower()))
    tokens_b = _TOKEN.findall(b.lower())
    if not tokens_a or not tokens_b:
        return 0.0
    unique = [t for t in tokens_b if t not in tokens_a]
    return 1 - len(" ".join(unique)) / len(" ".join(tokens_b))


def _is_split_point(title: str, part: str) -> bool:
    # Besides the separators, a heading may confirm "Blog name: Headline" at its colon.
    if title.startswith(part):
        return bool(_SEPARATOR.match(title, len(part)) or _COLON.match(title, len(part)))
    head = title[: len(title) - len(part)]
    return bool(_SEPARATOR_END.search(head) or _COLON_END.search(head))


def strip_site_suffix(title: str, site_name: str | None = None) -> str:
    """``Headline - Site`` -> ``Headline`` (also ``Site | Headline``), readability's rules, site-aware."""
    parts = _SEPARATOR.split(title)
    if len(parts) < 2:
        # No separator: keep it whole. (readability also cuts "Site: Headline" at the colon, but news
        # headlines use colons themselves: "Russia won't recognize NK's status: Putin".)
        return title
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
