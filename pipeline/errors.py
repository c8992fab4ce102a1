"""The one exception hierarchy of newsflow.

    NewsflowError                  base of everything newsflow raises on purpose
    ├── ConfigError                a bad setting or a bad value from the user (final)
    ├── FetchError                 getting bytes from a URL failed (stage "fetch")
    │   ├── RetryableFetchError    may pass: timeout, connection reset, 5xx, 429
    │   │   └── ThrottledError     our own per-host politeness says wait (not an attempt)
    │   └── FinalFetchError        will not pass: 4xx, blocked address, too large, too many redirects
    │       ├── BlockedAddressError  the SSRF guard refused the address
    │       └── BodyTooLargeError    the body went over the configured cap
    ├── FeedParseError             the bytes are not a feed (stage "parse", final)
    └── ExtractionError            the page could not be turned into an article (stage "extract", final)

Every error names its stage and the URL it was about, so a dead letter or a log line says what
failed where. `retryable` tells the workers whether a retry with back-off can help.
Third-party errors are translated where they enter, with ``raise ... from exc``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "NewsflowError",
    "ConfigError",
    "FetchError",
    "RetryableFetchError",
    "ThrottledError",
    "FinalFetchError",
    "BlockedAddressError",
    "BodyTooLargeError",
    "FeedParseError",
    "ExtractionError",
]


class NewsflowError(Exception):
    """Base class: a message, the stage it happened in and the URL it concerns."""

    stage: ClassVar[str] = "newsflow"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.message = message
        self.url = url
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f" ({self.url})" if self.url else ""
        return f"{self.stage}: {self.message}{where}"

    def to_dict(self) -> dict[str, str | bool | None]:
        """A plain record for dead letters and feed status."""
        return {
            "stage": self.stage,
            "error": type(self).__name__,
            "message": self.message,
            "url": self.url,
            "retryable": self.retryable,
        }


class ConfigError(NewsflowError):
    """A bad setting or user-supplied value."""

    stage = "config"


class FetchError(NewsflowError):
    """Fetching a URL failed."""

    stage = "fetch"

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        self.status = status
        super().__init__(message, url=url)


class RetryableFetchError(FetchError):
    """A fetch failure that can pass: timeouts, resets, 5xx, 429."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, url=url, status=status)


class ThrottledError(RetryableFetchError):
    """The host's politeness budget (concurrency or rate, shared by all workers) is used up for now."""


class FinalFetchError(FetchError):
    """A fetch failure that a retry will not fix."""


class BlockedAddressError(FinalFetchError):
    """The SSRF guard refused to connect to the address a URL resolves to."""


class BodyTooLargeError(FinalFetchError):
    """The response body (compressed or decompressed) went over the cap."""


class FeedParseError(NewsflowError):
    """The fetched bytes are not a usable feed."""

    stage = "parse"


class ExtractionError(NewsflowError):
    """A page could not be turned into an article."""

    stage = "extract"
