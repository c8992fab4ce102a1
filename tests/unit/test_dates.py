import datetime as dt

import pytest

from pipeline.dates import date_from_url, load_zone, parse_date
from pipeline.errors import ConfigError

UTC = dt.timezone.utc


def test_rfc2822_with_offset_is_explicit() -> None:
    parsed = parse_date("Thu, 07 Sep 2017 00:18:40 +0800")
    assert parsed == (dt.datetime(2017, 9, 6, 16, 18, 40, tzinfo=UTC), "explicit")


def test_wall_time_takes_the_configured_zone() -> None:
    parsed = parse_date("2017/9/7 0:18:40", load_zone("Asia/Shanghai"))
    assert parsed == (dt.datetime(2017, 9, 6, 16, 18, 40, tzinfo=UTC), "configured")


def test_wall_time_without_any_zone_is_marked_unknown() -> None:
    parsed = parse_date("2017-09-07 00:18:40")
    assert parsed == (dt.datetime(2017, 9, 7, 0, 18, 40, tzinfo=UTC), "unknown")


def test_explicit_zone_beats_the_configured_one() -> None:
    parsed = parse_date("2017-09-07T00:18:40+02:00", load_zone("Asia/Shanghai"))
    assert parsed == (dt.datetime(2017, 9, 6, 22, 18, 40, tzinfo=UTC), "explicit")


@pytest.mark.parametrize("value", ["", "   ", "yesterday-ish", "1850-01-01", "9999-01-01", "x" * 500,
                                   "0001-01-01T00:00:00+01:00", "9999-12-31T23:00-05:00"])
def test_implausible_values_give_none(value: str) -> None:
    assert parse_date(value) is None


def test_unknown_zone_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        load_zone("Mars/Olympus")


def test_date_in_url() -> None:
    assert date_from_url("https://x.example/2017/09/07/putin.html") == dt.date(2017, 9, 7)
    assert date_from_url("https://x.example/news/putin.html") is None


def test_zone_abbreviations_are_offsets_and_unknown_ones_take_the_configured_zone() -> None:
    assert parse_date("March 11, 2024 10:00 AM PST") == (dt.datetime(2024, 3, 11, 18, 0, tzinfo=UTC), "explicit")
    assert parse_date("2024-03-11 10:00 CEST") == (dt.datetime(2024, 3, 11, 8, 0, tzinfo=UTC), "explicit")
    paris = load_zone("Europe/Paris")
    assert parse_date("March 11, 2024 10:00 AM XYZT", paris) == (dt.datetime(2024, 3, 11, 9, 0, tzinfo=UTC), "configured")
