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


def feed_lock_key(url: str) -> str:
    """Held while one poll of the feed runs: a feed is never polled twice at once."""
    return f"{PREFIX}:feed-lock:{url}"


def article_key(article_id: str) -> str:
    """Hash holding an article's publish state (revision, content hash)."""
    return f"{PREFIX}:article:{article_id}"


def article_hashes_key(article_id: str) -> str:
    """Set of every content hash already published for an article."""
    return f"{PREFIX}:article-hashes:{article_id}"


#: Set of every topic an article was published to (for stats, retention and `newsflow topics`).
TOPICS = f"{PREFIX}:topics"


def topic_state_key(topic: str) -> str:
    """Hash of one topic's retention state: entries trimmed, unread entries dropped, held back."""
    return f"{PREFIX}:topic:{topic}"


def minhash_key(article_id: str) -> str:
    """Hash of an article's near-duplicate signature and first-seen time."""
    return f"{PREFIX}:minhash:{article_id}"


#: The near-duplicate index's clock: the last first-seen time handed out, in microseconds.
LSH_CLOCK = f"{PREFIX}:lsh-clock"


def lsh_band_key(band: int, value: str) -> str:
    """Sorted set of article ids whose signature has ``value`` in band ``band``, by first-seen time."""
    return f"{PREFIX}:lsh:{band}:{value}"


def host_slots_key(host: str) -> str:
    """Sorted set of the requests in flight to ``host`` (token -> hold expiry)."""
    return f"{PREFIX}:host-slots:{host}"


def host_next_key(host: str) -> str:
    """The earliest time of the next request to ``host``."""
    return f"{PREFIX}:host-next:{host}"


def robots_key(origin: str) -> str:
    """The cached robots.txt of ``origin``."""
    return f"{PREFIX}:robots:{origin}"


#: Sorted set of WebSub subscription id -> when it needs action next (renewal, or a retry).
WEBSUB_DUE = f"{PREFIX}:websub:due"


def websub_key(subscription_id: str) -> str:
    """Hash holding one WebSub subscription (its id is the last segment of its callback URL)."""
    return f"{PREFIX}:websub:sub:{subscription_id}"


def websub_feed_key(feed_url: str) -> str:
    """String: the id of the WebSub subscription of one feed."""
    return f"{PREFIX}:websub:feed:{feed_url}"
