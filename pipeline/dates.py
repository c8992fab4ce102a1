"""Dates with their zone: parse what pages and feeds write, into UTC instants."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

from pipeline.errors import ConfigError
from pipeline.models import DateZone

_EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.timezone.utc)
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|\b)")


class ParsedDate(NamedTuple):
    """A UTC instant and how its zone was known."""

    instant: dt.datetime
    zone: DateZone


def load_zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone called ``name``; a clear ConfigError for a name that does not exist."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown time zone {name!r} (expected an IANA name such as Asia/Shanghai)") from exc


def parse_date(value: str | None, zone: dt.tzinfo | None = None) -> ParsedDate | None:
    """Parse ``value``; a value without a zone takes ``zone``, else is read as UTC and marked unknown.

    Returns None for anything that is not a plausible publication date.
    """
    if not value:
        return None
    text = value.strip()
    if not text or len(text) > 200:
        return None
    parsed = _parse_rfc2822(text) or _parse_other(text)
    if parsed is None:
        return None
    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        how: DateZone = "explicit"
    elif zone is not None:
        parsed, how = parsed.replace(tzinfo=zone), "configured"
    else:
        parsed, how = parsed.replace(tzinfo=dt.timezone.utc), "unknown"
    try:
        instant = parsed.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):  # placeholders such as 0001-01-01T00:00:00+01:00
        return None
    latest = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
    if not _EARLIEST <= instant <= latest:
        return None
    return ParsedDate(instant, how)


def date_from_url(url: str) -> dt.date | None:
    """A date written in a URL path such as ``/2017/09/07/``."""
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _parse_rfc2822(text: str) -> dt.datetime | None:
    if not re.match(r"^\s*(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}", text):
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    # email.utils marks "-0000" (zone unknown by RFC 2822) as naive: keep that meaning.
    return parsed


# Zone abbreviations that news sites write after a time. Only the unambiguous ones (and the US
# readings of CST, which US sites mean far more often than China's): an unknown name is dropped,
# and the date then takes the configured zone like any date written without one.
_HOUR = 3600
_ABBREVIATIONS = {
    "UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0, "BST": _HOUR, "WEST": _HOUR, "CET": _HOUR,
    "CEST": 2 * _HOUR, "EET": 2 * _HOUR, "EEST": 3 * _HOUR, "MSK": 3 * _HOUR, "JST": 9 * _HOUR,
    "KST": 9 * _HOUR, "HKT": 8 * _HOUR, "SGT": 8 * _HOUR, "AEST": 10 * _HOUR, "AEDT": 11 * _HOUR,
    "NZST": 12 * _HOUR, "NZDT": 13 * _HOUR, "EST": -5 * _HOUR, "EDT": -4 * _HOUR, "CST": -6 * _HOUR,
    "CDT": -5 * _HOUR, "MST": -7 * _HOUR, "MDT": -6 * _HOUR, "PST": -8 * _HOUR, "PDT": -7 * _HOUR,
    "AKST": -9 * _HOUR, "AKDT": -8 * _HOUR, "HST": -10 * _HOUR,
}


def _zone_named(name: str | None, offset: int | None) -> dt.tzinfo | None:
    if offset is not None:
        return dt.timezone(dt.timedelta(seconds=offset))
    abbreviation = (name or "").upper()
    seconds = _ABBREVIATIONS.get(abbreviation)
    return None if seconds is None else dt.timezone(dt.timedelta(seconds=seconds), abbreviation)


def _parse_other(text: str) -> dt.datetime | None:
    try:
        return dateutil_parser.isoparse(text)
    except (ValueError, OverflowError):
        pass
    if not re.search(r"\d", text):
        return None
    try:
        return dateutil_parser.parse(text, fuzzy=False, tzinfos=_zone_named)
    except (ValueError, OverflowError, TypeError):
        return None
