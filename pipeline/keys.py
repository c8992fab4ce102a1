"""Every Redis key and stream name newsflow uses, in one place.

Operators and downstream consumers see these names, so they are part of the contract:
change them only with a migration.
"""

from __future__ import annotations

PREFIX = "newsflow"

#: The main output topic: every normalized article.
ARTICLES_STREAM = "articles"
#: Failed work after its last retry.
DEAD_LETTER_STREAM = "newsflow:dead-letters"

#: Sorted set of feed URL -> next due time (unix seconds).
FEEDS_DUE = f"{PREFIX}:feeds:due"
#: Set of every registered feed URL.
FEEDS_ALL = f"{PREFIX}:feeds:all"

#: Counters shown by `newsflow stats` and the monitor.
COUNTERS = f"{PREFIX}:counters"


def feed_key(url: str) -> str:
    """Hash holding one feed's registry record."""
    return f"{PREFIX}:feed:{url}"


def feed_seen_key(url: str) -> str:
    """Hash of entry key -> entry fingerprint for one feed (new-entry detection)."""
    return f"{PREFIX}:feed-seen:{url}"


def feed_seen_order_key(url: str) -> str:
    """Sorted set of entry key -> first-seen time, to bound the seen-set of one feed."""
    return f"{PREFIX}:feed-seen-order:{url}"


def article_key(article_id: str) -> str:
    """Hash holding an article's publish state (revision, content hash)."""
    return f"{PREFIX}:article:{article_id}"


def article_hashes_key(article_id: str) -> str:
    """Set of every content hash already published for an article."""
    return f"{PREFIX}:article-hashes:{article_id}"
