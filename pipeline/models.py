"""The values that cross newsflow's edges: feed entries in, articles (schema v1) out."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_serializer

SCHEMA_VERSION: Literal[1] = 1

#: How the zone of a date was known: written with the value, taken from the feed's or source's
#: configured zone, or unknown (the wall time was read as UTC).
DateZone = Literal["explicit", "configured", "unknown"]


def rfc3339(value: dt.datetime) -> str:
    """``value`` in UTC as RFC 3339 with a ``Z`` suffix, to the second."""
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(Frozen):
    """Who published the story."""

    name: str | None = Field(description="publisher name, e.g. 'Global Times'")
    domain: str = Field(description="host of the canonical URL, without 'www.'")


class FeedEntry(Frozen):
    """One entry of a feed, as the poll stage hands it to the fetch stage."""

    feed_url: str
    key: str = Field(description="stable key of the entry within its feed")
    link: str
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    published: str | None = Field(default=None, description="the date as the feed wrote it")
    updated: str | None = Field(default=None, description="the update date as the feed wrote it")
    summary: str | None = None
    tags: list[str] = Field(default_factory=list)
    fingerprint: str = Field(default="", description="changes when the entry is updated")
    feed_title: str | None = None
    timezone: str | None = Field(default=None, description="the feed's configured IANA zone")
    language: str | None = Field(default=None, description="the feed's language hint")


class Article(Frozen):
    """One normalized story: the schema v1 document of every output topic."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str = Field(description="stable id, derived from the canonical URL")
    url: str = Field(description="the URL the page was fetched from (after redirects)")
    canonical_url: str
    feed_url: str | None = Field(description="the feed that offered the story, null for a single page")
    source: Source
    title: str | None
    authors: list[str] = Field(description="person names only, never a site name")
    published_at: dt.datetime | None = Field(description="RFC 3339, UTC")
    updated_at: dt.datetime | None = Field(description="RFC 3339, UTC")
    date_zone: DateZone | None = Field(
        description="how the zone of published_at was known; 'unknown': the wall time was read as UTC"
    )
    language: str | None = Field(description="ISO 639-1")
    summary: str | None
    text: str = Field(description="the story's text, paragraphs separated by one blank line")
    html: str = Field(description="a small clean HTML of the story")
    word_count: int
    image: str | None
    tags: list[str]
    has_article: bool = Field(description="false when the page holds no story (home page, error page…)")
    duplicate_of: str | None = Field(default=None, description="id of an earlier near-identical story")
    fetched_at: dt.datetime
    content_hash: str = Field(description="sha256 of title and text: changes when the story changes")
    revision: int = Field(default=0, description="0 until published (newsflow extract); 1 for the first published version, then 2, 3…")

    @field_serializer("published_at", "updated_at", "fetched_at")
    def _dates(self, value: dt.datetime | None) -> str | None:
        return None if value is None else rfc3339(value)

    def to_dict(self) -> dict[str, object]:
        """The schema v1 document as plain values."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """The schema v1 document as JSON text."""
        return orjson.dumps(self.to_dict()).decode()

    @classmethod
    def from_json(cls, data: str | bytes) -> Article:
        """Read back a schema v1 document."""
        return cls.model_validate_json(data)


def content_hash(title: str | None, text: str) -> str:
    """The hash that decides whether a story changed."""
    return hashlib.sha256(f"{title or ''}\n\n{text}".encode()).hexdigest()
