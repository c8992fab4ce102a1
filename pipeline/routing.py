"""The topics configuration: routing rules, retention per topic, and topics kept free of duplicates.

It is one YAML (or JSON) document, given in ``NEWSFLOW_TOPICS`` either inline or as a file path::

    routes:                       # every article goes to `articles`, and to each topic a rule derives
      - by: language              # language | tag | feed_tag | source
        topic: articles.lang.{value}
      - by: tag                   # the article's tags (page and feed entry)
        values: [politics, economy]
      - by: feed_tag              # the tags of the feed in the registry
        topic: articles.feed.{value}
    retention:                    # per topic, exact name or glob; the first match wins
      articles: {maxlen: 1000000}
      "articles.*": {maxlen: 100000, max_age: 7d, hard_maxlen: 150000}
    exclude_duplicates: ["articles.tag.*"]   # near-duplicates stay out of these topics
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline import keys
from pipeline.errors import ConfigError
from pipeline.models import Article

__all__ = ["Retention", "Route", "TopicsConfig", "load_topics_config", "slug"]

#: What a route may derive a topic from.
RouteBy = Literal["language", "tag", "feed_tag", "source"]
_DEFAULT_TOPIC = {"language": "articles.lang.{value}", "tag": "articles.tag.{value}",
                  "feed_tag": "articles.tag.{value}", "source": "articles.source.{value}"}
_SLUG = re.compile(r"[^\w.-]+", re.UNICODE)
_TOPIC = re.compile(r"^[\w.:-]+$", re.UNICODE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

#: A group whose members have all been idle this long no longer holds retention back.
DEFAULT_GROUP_IDLE_S = 7 * 86400


def slug(value: str) -> str:
    """A tag, language or domain as it appears in a topic name: 'Asia Pacific' -> 'asia-pacific'."""
    return _SLUG.sub("-", value.strip().casefold()).strip("-.")


def parse_duration(value: float | str) -> float:
    """Seconds from a number or a string such as '90s', '30m', '12h', '7d', '2w'."""
    if isinstance(value, (int, float)):
        return float(value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a duration (like 3600, '30m', '12h', '7d')")
    return float(match.group(1)) * _UNIT[match.group(2)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Route(_Model):
    """One routing rule: the topic derived from one property of the article."""

    by: RouteBy
    topic: str | None = Field(default=None, description="template with {value}; default articles.<by>.{value}")
    values: frozenset[str] | None = Field(default=None, description="only these values (compared as slugs)")

    @field_validator("values")
    @classmethod
    def _slugged(cls, value: frozenset[str] | None) -> frozenset[str] | None:
        return None if value is None else frozenset(slug(v) for v in value)

    def topics(self, candidates: list[str]) -> list[str]:
        """The topics this rule derives from the values the article has."""
        template = self.topic or _DEFAULT_TOPIC[self.by]
        out = []
        for value in (slug(c) for c in candidates if c):
            if value and (self.values is None or value in self.values):
                out.append(template.replace("{value}", value))
        return out


class RetentionSpec(_Model):
    """Retention of one topic as written in the configuration; unset fields take the defaults."""

    maxlen: int | None = Field(default=None, gt=0)
    max_age: float | None = Field(default=None, gt=0, description="seconds, or '12h', '7d'")
    hard_maxlen: int | None = Field(default=None, gt=0)
    group_idle: float | None = Field(default=None, gt=0)

    @field_validator("max_age", "group_idle", mode="before")
    @classmethod
    def _duration(cls, value: float | str | None) -> float | None:
        return None if value is None else parse_duration(value)


class Retention(_Model):
    """How much of a topic is kept, and when unread entries may be dropped (see docs/consumers.md).

    Entries beyond ``maxlen`` or older than ``max_age`` are trimmed once every live group has read
    and acknowledged them; past ``hard_maxlen`` the oldest go even if unread, and are counted.
    """

    maxlen: int
    max_age_s: float | None = None
    hard_maxlen: int
    group_idle_s: float = DEFAULT_GROUP_IDLE_S


class TopicsConfig(_Model):
    """The parsed topics configuration."""

    routes: tuple[Route, ...] = ()
    retention: dict[str, RetentionSpec] = Field(default_factory=dict)
    exclude_duplicates: tuple[str, ...] = ()
    default_maxlen: int = Field(default=1_000_000, gt=0)

    @field_validator("retention")
    @classmethod
    def _valid_patterns(cls, value: dict[str, RetentionSpec]) -> dict[str, RetentionSpec]:
        for pattern, spec in value.items():
            if spec.maxlen and spec.hard_maxlen and spec.hard_maxlen < spec.maxlen:
                raise ValueError(f"retention of {pattern!r}: hard_maxlen is below maxlen")
        return value

    def topics_for(self, article: Article, feed_tags: list[str] | tuple[str, ...] = ()) -> tuple[str, ...]:
        """Every topic ``article`` goes to: `articles`, then each routed one, once, in rule order."""
        found = [keys.ARTICLES_STREAM]
        for route in self.routes:
            candidates = {"language": [article.language or ""], "tag": list(article.tags),
                          "feed_tag": list(feed_tags), "source": [article.source.domain]}[route.by]
            found.extend(route.topics(candidates))
        unique = [t for i, t in enumerate(found) if t not in found[:i] and _TOPIC.match(t)]
        if article.duplicate_of:
            unique = [t for t in unique if not any(fnmatch.fnmatchcase(t, p) for p in self.exclude_duplicates)]
        return tuple(t for t in unique if not t.startswith(f"{keys.PREFIX}:"))

    def retention_for(self, topic: str) -> Retention:
        """The retention of ``topic``: its exact entry, else the first matching glob, else defaults."""
        spec = self.retention.get(topic) or next(
            (s for p, s in self.retention.items() if fnmatch.fnmatchcase(topic, p)), RetentionSpec())
        maxlen = spec.maxlen or self.default_maxlen
        return Retention(maxlen=maxlen, max_age_s=spec.max_age,
                         hard_maxlen=max(spec.hard_maxlen or 2 * maxlen, maxlen),
                         group_idle_s=spec.group_idle or DEFAULT_GROUP_IDLE_S)


def load_topics_config(value: str, *, default_maxlen: int = 1_000_000) -> TopicsConfig:
    """Parse ``NEWSFLOW_TOPICS``: the document itself when it starts with '{' or '[' or spans lines,
    else a path to a YAML or JSON file. Empty: no routes, default retention."""
    text = value.strip()
    if not text:
        return TopicsConfig(default_maxlen=default_maxlen)
    if not text.startswith(("{", "[")) and "\n" not in text:
        try:
            text = Path(text).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"NEWSFLOW_TOPICS: cannot read {value!r}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"NEWSFLOW_TOPICS is neither YAML nor JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("NEWSFLOW_TOPICS must be a mapping with routes, retention, exclude_duplicates")
    try:
        return TopicsConfig.model_validate({"default_maxlen": default_maxlen, **data})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"NEWSFLOW_TOPICS: {where}: {first['msg']}") from exc
