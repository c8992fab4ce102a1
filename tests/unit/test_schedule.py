import datetime as dt

import pytest

from pipeline.schedule import WEEK, PollBounds, entry_frequency_interval, error_backoff

BOUNDS = PollBounds(minimum=300, maximum=86400, default=900)
NOW = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)


def hours_ago(*hours: float) -> list[dt.datetime | None]:
    return [NOW - dt.timedelta(hours=h) for h in hours]


def test_busy_feed_is_polled_often_but_not_below_the_minimum() -> None:
    assert entry_frequency_interval(hours_ago(*range(1, 41)), NOW, BOUNDS) == pytest.approx(WEEK / 40)
    assert entry_frequency_interval(hours_ago(*[i / 100 for i in range(5000)]), NOW, BOUNDS) == 300


def test_quiet_feed_goes_to_the_maximum_and_undated_feed_to_the_default() -> None:
    assert entry_frequency_interval(hours_ago(24 * 30), NOW, BOUNDS) == 86400
    assert entry_frequency_interval([None, None], NOW, BOUNDS) == 900


def test_error_backoff_is_exponential_capped_and_honours_retry_after() -> None:
    delays = [error_backoff(n, BOUNDS, jitter=0) for n in (1, 2, 3, 4)]
    assert delays == [300, 600, 1200, 2400]
    assert error_backoff(30, BOUNDS, jitter=0) == 86400
    assert error_backoff(1, BOUNDS, retry_after=7200, jitter=0) == 7200
    jittered = {round(error_backoff(3, BOUNDS)) for _ in range(50)}
    assert len(jittered) > 1 and all(1080 <= d <= 1320 for d in jittered)
