"""Retention on a real Redis: bounded topics that hold back what a live group has not read yet."""

from __future__ import annotations

import time

import redis

from pipeline.retention import Trimmer, gauges
from pipeline.routing import Retention
from pipeline.topics import Consumer
from tests.integration.test_topics import article

TOPIC = "articles.test"


def fill(client: redis.Redis, n: int, start_ms: int = 1_000) -> list[str]:
    """``n`` messages with IDs 1000-1, 1001-1, … (fixed timestamps keep the test deterministic)."""
    doc = article().to_json()
    return [client.xadd(TOPIC, {"schema_version": 1, "id": "a1", "revision": 1, "article": doc},
                        id=f"{start_ms + i}-1").decode() for i in range(n)]


def ids(client: redis.Redis) -> list[str]:
    return [mid.decode() for mid, _f in client.xrange(TOPIC)]


def test_maxlen_trims_exactly_when_no_group_reads(redis_client: redis.Redis) -> None:
    written = fill(redis_client, 10)
    result = Trimmer(redis_client).trim(TOPIC, Retention(maxlen=4, hard_maxlen=8))
    assert (result.trimmed, result.dropped_unread, result.length, result.held) == (6, 0, 4, 0)
    assert ids(redis_client) == written[6:]


def test_max_age_trims_by_minimum_id(redis_client: redis.Redis) -> None:
    now = time.time()
    old = fill(redis_client, 3, start_ms=int((now - 7200) * 1000))
    new = fill(redis_client, 2, start_ms=int((now - 60) * 1000))
    result = Trimmer(redis_client).trim(TOPIC, Retention(maxlen=100, max_age_s=3600, hard_maxlen=200), now=now)
    assert result.trimmed == len(old) and ids(redis_client) == new


def test_unread_and_pending_entries_of_a_live_group_are_held_up_to_the_hard_cap(redis_client: redis.Redis) -> None:
    written = fill(redis_client, 3)
    consumer = Consumer(redis_client, TOPIC, group="slow", name="c1")
    taken = consumer.read(count=2, block_ms=None)  # read, never acknowledged: pending
    assert [m.id for m in taken] == written[:2]
    trimmer, retention = Trimmer(redis_client), Retention(maxlen=2, hard_maxlen=5)
    more = fill(redis_client, 2, start_ms=2_000)
    result = trimmer.trim(TOPIC, retention)
    # 5 entries, maxlen 2: three are due, but the group still needs all of them.
    assert (result.trimmed, result.length, result.held) == (0, 5, 3)
    report = trimmer.report(TOPIC, retention)
    assert (report.held, report.headroom, report.dropped_unread) == (3, 0, 0)
    (group,) = report.groups
    assert (group.name, group.live, group.pending, group.lag, group.at_risk) == ("slow", True, 2, 3, 3)
    assert report.warning and "3 entries held" in report.warning
    # Past the hard cap the oldest go although unread (2 pending, 1 never delivered), and are counted.
    fill(redis_client, 3, start_ms=3_000)
    result = trimmer.trim(TOPIC, retention)
    assert (result.trimmed, result.dropped_unread, result.length) == (3, 3, 5)
    assert ids(redis_client)[0] == more[0]
    assert trimmer.report(TOPIC, retention).dropped_unread == 3
    # A restarted member acknowledges its pending entries that were dropped, and counts them.
    restarted = Consumer(redis_client, TOPIC, group="slow", name="c1")
    assert [m.id for m in restarted.read(count=10, block_ms=None)] == ids(redis_client)
    assert restarted.lost == 2
    assert redis_client.xpending(TOPIC, "slow")["pending"] == 5


def test_acknowledged_entries_are_trimmed_to_maxlen(redis_client: redis.Redis) -> None:
    written = fill(redis_client, 6)
    consumer = Consumer(redis_client, TOPIC, group="g", name="c1")
    trimmer, retention = Trimmer(redis_client), Retention(maxlen=2, hard_maxlen=100)
    for message in consumer.read(count=3, block_ms=None):
        consumer.ack(message)
    assert trimmer.trim(TOPIC, retention).trimmed == 3  # read and acknowledged: free to go
    assert ids(redis_client) == written[3:]
    assert trimmer.trim(TOPIC, retention).held == 1  # the 4th is due, but not read yet


def test_an_abandoned_group_no_longer_holds_retention(redis_client: redis.Redis) -> None:
    fill(redis_client, 5)
    Consumer(redis_client, TOPIC, group="gone", name="c1").read(count=1, block_ms=None)
    retention = Retention(maxlen=2, hard_maxlen=100, group_idle_s=0.2)
    trimmer = Trimmer(redis_client)
    assert trimmer.trim(TOPIC, retention).trimmed == 0
    time.sleep(0.3)  # every member idle longer than group_idle_s
    assert trimmer.trim(TOPIC, retention).trimmed == 3
    assert not trimmer.report(TOPIC, retention).groups[0].live


def test_a_group_created_without_members_holds_from_its_start(redis_client: redis.Redis) -> None:
    fill(redis_client, 4)
    redis_client.xgroup_create(TOPIC, "new", id="0")  # e.g. from redis-cli, no consumer yet
    assert Trimmer(redis_client).trim(TOPIC, Retention(maxlen=1, hard_maxlen=10)).held == 3


def test_trim_budget_and_trim_all(redis_client: redis.Redis) -> None:
    fill(redis_client, 50)
    trimmer = Trimmer(redis_client, budget=7)
    assert trimmer.trim(TOPIC, Retention(maxlen=10, hard_maxlen=20)).trimmed == 7
    assert trimmer.trim_all(TOPIC, Retention(maxlen=10, hard_maxlen=20)) == 33
    assert redis_client.xlen(TOPIC) == 10


def test_gauges_name_every_figure(redis_client: redis.Redis) -> None:
    fill(redis_client, 3)
    Consumer(redis_client, TOPIC, group="g", name="c").read(count=1, block_ms=None)
    report = Trimmer(redis_client).report(TOPIC, Retention(maxlen=1, hard_maxlen=4))
    values = {(name, labels.get("group", "")): v for name, labels, v in gauges([report])}
    assert values[("newsflow_topic_length", "")] == 3
    assert values[("newsflow_topic_held_entries", "")] == 2
    assert values[("newsflow_group_pending", "g")] == 1
    assert values[("newsflow_group_lag", "g")] == 2
