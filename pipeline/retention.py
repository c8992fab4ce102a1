"""Bounded topics that never drop, silently, what a consumer group has not read yet.

The rule, per topic (its ``Retention``): an entry is *due* for trimming when the stream holds more
than ``maxlen`` entries from it onwards, or when it is older than ``max_age``. A due entry is trimmed once
every live group has read and acknowledged it. A group is live unless all its consumers have been
idle for ``group_idle_s`` (a group without consumers yet counts as live). Due entries that a live
group still needs are *held*: reported as the gap, in `newsflow stats` and to the metrics. Only when
the stream would grow beyond ``hard_maxlen`` are the oldest dropped although unread; they are
counted in ``dropped_unread`` and logged, and stats warn as the headroom to the hard cap shrinks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from pipeline import keys
from pipeline.routing import Retention

__all__ = ["GroupReport", "TopicReport", "TrimResult", "Trimmer", "gauges"]

log = logging.getLogger(__name__)

_LUA_IDS = """
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return {tonumber(ms), tonumber(seq)}
end
local function less(a, b)
  return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2])
end
local function fields(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end
-- The first ID that a live group still needs (nil: none does): its oldest pending entry, else the
-- entry after the last one delivered to it.
local function needed(stream, idle_ms)
  local first = nil
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    g = fields(g)
    local live = true
    local members = redis.call('XINFO', 'CONSUMERS', stream, g['name'])
    if #members > 0 then
      live = false
      for _, c in ipairs(members) do
        if tonumber(fields(c)['idle']) < idle_ms then live = true end
      end
    end
    if live then
      local bound = parse(g['last-delivered-id'])
      bound = {bound[1], bound[2] + 1}
      if tonumber(g['pending']) > 0 then
        local oldest = parse(redis.call('XPENDING', stream, g['name'])[2])
        if less(oldest, bound) then bound = oldest end
      end
      if first == nil or less(bound, first) then first = bound end
    end
  end
  return first
end
"""

# Trim one topic by the rule above, at most ARGV[5] entries per call, so that a publish stays cheap
# and a large backlog drains over successive calls (or `newsflow topics trim`).
_TRIM = _LUA_IDS + """
local stream, state = KEYS[1], KEYS[2]
local maxlen, minid, hard = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local idle_ms, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local length = redis.call('XLEN', stream)
if length == 0 then return {0, 0, 0, 0} end
local age = nil
if minid ~= '' then age = parse(minid) end
local first = needed(stream, idle_ms)
local trimmed, dropped, last, start = 0, 0, nil, '-'
local done = false
while not done and trimmed < budget do
  local batch = redis.call('XRANGE', stream, start, '+', 'COUNT', math.min(64, budget - trimmed))
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    local id = parse(entry[1])
    local remaining = length - trimmed
    local due = remaining > maxlen or (age ~= nil and less(id, age))
    if not due or trimmed >= budget then done = true break end
    if first ~= nil and not less(id, first) then
      if remaining <= hard then done = true break end
      dropped = dropped + 1
    end
    trimmed, last = trimmed + 1, entry[1]
  end
  start = '(' .. batch[#batch][1]
end
if last then
  local id = parse(last)
  redis.call('XTRIM', stream, 'MINID', id[1] .. '-' .. (id[2] + 1))
  redis.call('HINCRBY', state, 'trimmed', trimmed)
  if dropped > 0 then redis.call('HINCRBY', state, 'dropped_unread', dropped) end
end
length = length - trimmed
-- Due entries left are held for a group; count the ones due by length (exact) and say whether
-- the oldest is due by age too, for the caller's warning.
local held = math.max(0, length - maxlen)
local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
if held == 0 and age ~= nil and oldest and less(parse(oldest[1]), age) then held = 1 end
return {trimmed, dropped, length, held}
"""

# Count entries in [ARGV[1], ARGV[2]] (exclusive bounds with '('), up to ARGV[3].
_COUNT = """
local n, start, cap = 0, ARGV[1], tonumber(ARGV[3])
while n < cap do
  local batch = redis.call('XRANGE', KEYS[1], start, ARGV[2], 'COUNT', math.min(1000, cap - n))
  if #batch == 0 then break end
  n = n + #batch
  start = '(' .. batch[#batch][1]
end
return n
"""

#: Counting is capped so that stats stay cheap on a huge backlog; a capped figure is a lower bound.
COUNT_CAP = 1_000_000
#: Warn when entries are held and the backlog has used this share of the room between ``maxlen``
#: and ``hard_maxlen``: the alert comes before anything unread is dropped.
WARN_USED = 0.8


def near_hard_cap(held: int, length: int, retention: Retention) -> bool:
    """True when unread entries will be dropped soon unless the slow groups catch up."""
    room = retention.hard_maxlen - retention.maxlen
    return held > 0 and length - retention.maxlen >= room * WARN_USED


@dataclass(frozen=True)
class TrimResult:
    """What one trim did: entries removed, of which unread by a live group; what is left and held."""

    trimmed: int
    dropped_unread: int
    length: int
    held: int


@dataclass(frozen=True)
class GroupReport:
    """One consumer group of a topic: how far behind it is, and how much of that retention wants."""

    name: str
    consumers: int
    live: bool
    idle_ms: int | None
    pending: int
    lag: int
    at_risk: int


@dataclass(frozen=True)
class TopicReport:
    """One topic's size, retention, gap and groups, for `newsflow stats` and the metrics."""

    topic: str
    length: int
    maxlen: int
    hard_maxlen: int
    max_age_s: float | None
    held: int
    headroom: int
    trimmed: int
    dropped_unread: int
    groups: list[GroupReport] = field(default_factory=list)

    @property
    def warning(self) -> str | None:
        """A line for the operator when unread entries are dropped or about to be."""
        retention = Retention(maxlen=self.maxlen, hard_maxlen=self.hard_maxlen)
        if near_hard_cap(self.held, self.length, retention):
            return (f"{self.topic}: {self.held} entries held for slow groups, {self.headroom} left "
                    f"before unread entries are dropped (hard_maxlen {self.hard_maxlen})")
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain values for `--json` output."""
        return {**asdict(self), "warning": self.warning}


def _minid(retention: Retention, now: float) -> str:
    return "" if retention.max_age_s is None else f"{int((now - retention.max_age_s) * 1000)}-0"


class Trimmer:
    """Applies retention to topics and reports their gap."""

    def __init__(self, client: redis.Redis, *, budget: int = 1000) -> None:
        self.redis = client
        self.budget = budget
        self._trim = client.register_script(_TRIM)
        self._count = client.register_script(_COUNT)
        self._last_warning: dict[str, float] = {}
        self._dropped: dict[str, int] = {}

    def trim(self, topic: str, retention: Retention, *, now: float | None = None) -> TrimResult:
        """Trim ``topic`` by the rule, at most ``budget`` entries, and warn when unread are at risk."""
        now = time.time() if now is None else now
        result = TrimResult(*(int(v) for v in self._trim(
            keys=[topic, keys.topic_state_key(topic)],
            args=[retention.maxlen, _minid(retention, now), retention.hard_maxlen,
                  int(retention.group_idle_s * 1000), self.budget])))
        # At most one line a minute per topic and process: enough to alert, not a line per article.
        # The exact counts are in Redis (`dropped_unread`, shown by stats and the metrics).
        self._dropped[topic] = self._dropped.get(topic, 0) + result.dropped_unread
        if now - self._last_warning.get(topic, 0) >= 60:
            if self._dropped[topic]:
                self._last_warning[topic] = now
                log.warning("%s: dropped %d entries not yet read by a live group (over hard_maxlen %d)",
                            topic, self._dropped.pop(topic), retention.hard_maxlen)
            elif near_hard_cap(result.held, result.length, retention):
                self._last_warning[topic] = now
                log.warning("%s: %d entries due for trimming are held for slow groups; %d left before "
                            "unread entries are dropped", topic, result.held,
                            retention.hard_maxlen - result.length)
        return result

    def trim_all(self, topic: str, retention: Retention) -> int:
        """Trim ``topic`` until nothing more may go; returns how many entries were removed."""
        total = 0
        while (step := self.trim(topic, retention)).trimmed:
            total += step.trimmed
        return total

    def count(self, topic: str, start: str, end: str, cap: int = COUNT_CAP) -> int:
        """Entries of ``topic`` between two IDs (inclusive; '(' makes a bound exclusive)."""
        return int(self._count(keys=[topic], args=[start, end, cap]))

    def report(self, topic: str, retention: Retention, *, now: float | None = None) -> TopicReport:
        """Length, held gap, headroom and each group's lag and entries at risk."""
        now = time.time() if now is None else now
        length = int(self.redis.xlen(topic))
        minid = _minid(retention, now)
        by_age = self.count(topic, "-", f"({minid}") if minid and length else 0
        due = max(length - retention.maxlen, by_age, 0)
        raw: Any = self.redis.hgetall(keys.topic_state_key(topic))
        state = {k.decode(): int(v) for k, v in raw.items()}
        groups = self._groups(topic, due, retention) if length or self.redis.exists(topic) else []
        live_at_risk = [g.at_risk for g in groups if g.live]
        return TopicReport(
            topic=topic, length=length, maxlen=retention.maxlen, hard_maxlen=retention.hard_maxlen,
            max_age_s=retention.max_age_s, held=max(live_at_risk, default=0),
            headroom=max(retention.hard_maxlen - length, 0), trimmed=state.get("trimmed", 0),
            dropped_unread=state.get("dropped_unread", 0), groups=groups)

    def _groups(self, topic: str, due: int, retention: Retention) -> list[GroupReport]:
        out = []
        for g in self.redis.xinfo_groups(topic):
            name = g["name"].decode()
            members = self.redis.xinfo_consumers(topic, name)
            idle = min((int(c["idle"]) for c in members), default=None)
            live = idle is None or idle < retention.group_idle_s * 1000
            last = g["last-delivered-id"].decode()
            lag = g.get("lag")
            if lag is None:  # Redis before 7, or a lag Redis cannot tell: count
                lag = self.count(topic, f"({last}", "+")
            pending = int(g["pending"])
            at_risk = 0
            if due:
                # Due entries this group has not finished: the due ones minus those before its
                # oldest pending entry (or up to its last delivered one when none is pending).
                summary: Any = self.redis.xpending(topic, name) if pending else None
                oldest = summary["min"] if summary else None
                end = f"({oldest.decode()}" if oldest else last
                at_risk = max(due - self.count(topic, "-", end, cap=due), 0)
            out.append(GroupReport(name=name, consumers=len(members), live=live, idle_ms=idle,
                                   pending=pending, lag=int(lag), at_risk=at_risk))
        return out


def gauges(reports: list[TopicReport]) -> list[tuple[str, dict[str, str], float]]:
    """The reports as (metric name, labels, value) for a Prometheus exporter."""
    out: list[tuple[str, dict[str, str], float]] = []
    for r in reports:
        t = {"topic": r.topic}
        out += [("newsflow_topic_length", t, r.length), ("newsflow_topic_held_entries", t, r.held),
                ("newsflow_topic_headroom_entries", t, r.headroom),
                ("newsflow_topic_trimmed_total", t, r.trimmed),
                ("newsflow_topic_dropped_unread_total", t, r.dropped_unread)]
        for g in r.groups:
            labels = {"topic": r.topic, "group": g.name}
            out += [("newsflow_group_pending", labels, g.pending), ("newsflow_group_lag", labels, g.lag),
                    ("newsflow_group_at_risk_entries", labels, g.at_risk),
                    ("newsflow_group_live", labels, 1.0 if g.live else 0.0)]
    return out
