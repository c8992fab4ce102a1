"""Person names from bylines and author fields; never a site name, an email, a URL or "Staff"."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Byline", "parse_byline", "clean_authors", "is_person_name"]

# What may follow the names in a byline and so ends them: a source, a date, a role, a separator.
_STOP = (
    r"(?:\s*(?:source|published|updated|posted|modified|photo|photos|reporting|via|filed|last updated"
    r"|date|time|from)\s*:"
    r"|\s+(?:edited|photographs?|photos|illustrations?|translated|reviewed|additional reporting)\s+by\b"
    r"|\s+(?:on|at)\s+(?:\w+day|\w{3,9}\.? \d{1,2}|\d{1,2} \w{3,9}|\d)|\s*[|•·\u2022]"
    r"|\s+[\u2013\u2014-]\s+|\s*\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\s*\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep"
    r"|oct|nov|dec)[a-z]*\.? \d{1,2}\b|\s*\b\d{1,2}:\d\d|\s*\(|\s*\bupdated\b|\s*\bpublished\b|$)"
)
_BY = re.compile(r"^\s*(?:(?:written|posted|reported|story|text|words)\s+)?(?:by|von|par|por|door|di)\s*:?\s+", re.I)
# "Tech Industry by Steven Musil": a short label, then "by" and a capitalized name.
_MID_BY = re.compile(r"^(?:[^\W\d_]+\s+){1,3}(?:by|von|par|por)\s+(?=[A-ZÀ-Þ])")
_NAMES = re.compile(r"(?P<names>.+?)" + _STOP, re.I | re.S)
_SOURCE = re.compile(r"\bsource\s*:\s*(?P<src>.+?)(?=\s*(?:published|updated|posted|date|time)\s*:|\s*[|•]|$)", re.I)
_DATE = re.compile(
    r"\b(?:published|updated|posted|date|last updated)\s*(?:on|at)?\s*:?\s*(?P<date>\d[\d/.: -]+\d"
    r"(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,4}|\s*[+-]\d\d:?\d\d)?)",
    re.I,
)
_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b)\s*", re.I)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_URLISH = re.compile(r"https?:|www\.|\.(?:com|org|net|co|io|info)\b|/", re.I)
_NOT_PERSON = re.compile(
    r"^(?:staff|staff writer|staff reporter|editor|editors|editorial|admin|administrator|reporter|"
    r"correspondent|agencies|agency|news desk|newsroom|team|the editors|guest|anonymous|unknown|author|"
    r"wire|wires|reuters|ap|afp|associated press|press association|contributor|contributors)$",
    re.I,
)
_ROLE_TAIL = re.compile(
    r",?\s+(?:staff writer|staff reporter|correspondent|reporter|editor|contributor|columnist|"
    r"for [A-Z][\w ]+|in [A-Z][a-z]+)$"
)
_DEGREE = re.compile(r"^(?:MA|MD|PhD|Ph\.D\.|RN|MS|MSc|MPH|DO|BSc|BA|Jr\.?|Sr\.?|II|III|Esq\.?)$")
_ROLE_WORDS = re.compile(
    r"\b(?:staff|technologist|editor|writer|reporter|correspondent|senior|director|contributor|columnist|"
    r"producer|analyst|manager|officer|president|professor|chief|head|member|fellow|news|health|press|"
    r"media|team|desk|department|university|institute|project|speech|privacy|technology|updated|ago)\b",
    re.I,
)
_PARTICLES = frozenset("de da di du del della van von der den la le bin al dos das y e ter ten op".split())
_LETTERS_WORD = re.compile(r"[^\W\d_]+")
_CONTACT = re.compile(r"\((?:[^()]*(?:https?:|www\.|@)[^()]*)\)|<[^<>]*@[^<>]*>")
_DIGIT = re.compile(r"\d")  # "CC7567" is a user name, not a person's
_LETTER = re.compile(r"[^\W\d_]")


class Byline(NamedTuple):
    """What a byline line says: person names, the source it credits, a date as written."""

    names: list[str]
    source: str | None
    date: str | None


def parse_byline(text: str) -> Byline:
    """Read ``By A and B Source:X Published: ...`` style lines into their parts."""
    line = " ".join(text.split())
    source = date = None
    if match := _SOURCE.search(line):
        source = match["src"].strip(" .,;:") or None
    if match := _DATE.search(line):
        date = match["date"].strip()
    names: list[str] = []
    by = _BY.match(line) or _MID_BY.match(line)
    rest = line[by.end():] if by else line
    if match := _NAMES.match(rest):
        chunk = match["names"]
        if by or len(chunk.split()) <= 8:
            names = _split(chunk)
        if not by and names and len(_LETTERS_WORD.findall(names[0])) < 2:
            names = []  # a lone word without "By" is a dateline or a label ("CAIRO —"), not a name
    return Byline(names, source, date)


def _split(chunk: str) -> list[str]:
    # Names until the first part that reads as a role or affiliation ("Senior Editor, ACLU ...").
    names: list[str] = []
    for part in _SPLIT.split(chunk):
        part = _ROLE_TAIL.sub("", part).strip(" .,;:-\u2013\u2014|")
        if not part or _DEGREE.match(part):
            continue
        if not _looks_like_name(part):
            if names:
                break
            # "Jane Doe 2 hours ago": keep the leading run of capitalized words, if it is a name.
            lead = []
            for word in part.split():
                if not (word[:1].isupper() or word.lower() in _PARTICLES) or not _LETTER.search(word):
                    break
                lead.append(word)
            part = " ".join(lead)
            if len(lead) < 2 or not _looks_like_name(part):
                break
        names.append(part)
    return names


def _looks_like_name(part: str) -> bool:
    words = part.split()
    if not words or len(words) > 5 or _ROLE_WORDS.search(part):
        return False
    lower = [w for w in words if w[:1].islower() and w.lower() not in _PARTICLES]
    return not lower


def is_person_name(name: str, site_names: tuple[str, ...] = ()) -> bool:
    """True for something that reads as a person's name, not a site, a role, an email or a URL."""
    if not name or len(name) > 60 or len(name.split()) > 6 or not _LETTER.search(name) or _DIGIT.search(name):
        return False
    if name.startswith("@") or _EMAIL.search(name) or _URLISH.search(name) or _NOT_PERSON.match(name):
        return False
    folded = name.casefold()
    return not any(folded == s.casefold() for s in site_names if s)


def clean_authors(values: list[str], site_names: tuple[str, ...] = ()) -> list[str]:
    """Split, tidy and filter raw author values; the order is kept and duplicates dropped."""
    out: dict[str, str] = {}
    for value in values:
        value = _CONTACT.sub(" ", " ".join(value.split())).strip()
        if _BY.match(value):
            candidates = parse_byline(value).names
        else:
            candidates = [p.strip(" .,;:-") for p in _SPLIT.split(value) if p.strip(" .,;:-")]
        for name in candidates:
            name = _EMAIL.sub("", name).strip(" .,;:-")
            if not _DEGREE.match(name) and is_person_name(name, site_names):
                out.setdefault(name.casefold(), name)
    return list(out.values())
