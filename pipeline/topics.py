"""Output topics on Redis Streams: idempotent publishing and consumer groups.

Delivery is at least once: a story reaches ``articles`` at least once, the publish script makes it
appear once per (story, revision), and a consumer that dies before acknowledging gets its messages
delivered again (to itself or, after an idle timeout, to another consumer of its group).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from pipeline import keys
from pipeline.errors import ConfigError
from pipeline.models import SCHEMA_VERSION, Article
from pipeline.retention import TopicReport, Trimmer
from pipeline.routing import TopicsConfig

__all__ = ["PublishOutcome", "Message", "Publisher", "Consumer", "known_topics", "read_topic"]

# Check the content hash and add to every topic in one atomic step: a task retried, redelivered
# or run twice by two workers finds the hash recorded and publishes nothing; a changed story gets
# the next revision on every topic it routes to, written into the document between the two halves
# the caller sends. No MAXLEN here: trimming by length alone would drop entries that a consumer
# group has not read yet; `pipeline.retention` trims after the publish, and holds those back.
_PUBLISH = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  return {0, tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')}
end
local rev = redis.call('HINCRBY', KEYS[1], 'revision', 1)
redis.call('HSET', KEYS[1], 'content_hash', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
local doc = ARGV[2] .. rev .. ARGV[3]
local result = {1, rev}
for i = 4, #KEYS do
  redis.call('SADD', KEYS[3], KEYS[i])
  result[#result + 1] = redis.call('XADD', KEYS[i], '*',
    'schema_version', ARGV[4], 'id', ARGV[5], 'revision', rev, 'article', doc)
end
return result
"""


@dataclass(frozen=True)
class PublishOutcome:
    """What a publish did: published (with the topics and their stream IDs) or skipped as already
    published."""

    published: bool
    revision: int
    stream_ids: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """Why: 'published' or 'duplicate' (the same content was published before)."""
        return "published" if self.published else "duplicate"


@dataclass(frozen=True)
class Message:
    """One message of a topic: its stream ID (the consumer's offset) and the article."""

    topic: str
    id: str
    article: Article


class Publisher:
    """Publishes articles to their routed topics, once per (story, revision), then applies retention."""

    def __init__(self, client: redis.Redis, *, maxlen: int = 1_000_000,
                 config: TopicsConfig | None = None) -> None:
        self.redis = client
        self.config = config or TopicsConfig(default_maxlen=maxlen)
        self.trimmer = Trimmer(client)
        self._script = client.register_script(_PUBLISH)

    def publish(self, article: Article, topics: tuple[str, ...] | None = None,
                feed_tags: list[str] | tuple[str, ...] = ()) -> PublishOutcome:
        """Publish ``article`` to ``topics`` (default: its routes) unless this content was published."""
        topics = topics or self.config.topics_for(article, feed_tags)
        document = article.to_dict()
        document.pop("revision")
        body = orjson.dumps(document)
        head, tail = body[:-1] + b',"revision":', b"}"
        result = self._script(
            keys=[keys.article_key(article.id), keys.article_hashes_key(article.id), keys.TOPICS, *topics],
            args=[article.content_hash, head, tail, SCHEMA_VERSION, article.id],
        )
        published, revision, *ids = result
        if published:
            for topic in topics:
                self.trimmer.trim(topic, self.config.retention_for(topic))
        return PublishOutcome(bool(published), int(revision), tuple(i.decode() for i in ids),
                              topics if published else ())

    def sweep(self) -> int:
        """Trim every known topic one step; returns the entries removed.

        A topic that receives nothing is never trimmed by its own publishes, yet its `max_age` must
        still apply: beat runs this every minute.
        """
        return sum(self.trimmer.trim(topic, self.config.retention_for(topic)).trimmed
                   for topic in known_topics(self.redis))


def _decode_message(topic: str, message_id: bytes, fields: dict[bytes, bytes]) -> Message:
    if b"article" not in fields:
        raise ConfigError(f"{topic} is not an article topic: message {message_id.decode()} has no article field")
    return Message(topic, message_id.decode(), Article.from_json(fields[b"article"]))


def read_topic(
    client: redis.Redis, topic: str = keys.ARTICLES_STREAM, *, from_start: bool = False,
    count: int | None = None, block_ms: int | None = None, after: str | None = None,
) -> list[Message]:
    """Read without a group: from the start, after an ID, or only what arrives from now on."""
    last = after or ("0-0" if from_start else "$")
    reply: Any = client.xread({topic: last}, count=count, block=block_ms)
    return [_decode_message(topic, mid, fields) for _name, items in reply for mid, fields in items]


def known_topics(client: redis.Redis) -> list[str]:
    """Every topic an article was published to, `articles` first."""
    members: Any = client.smembers(keys.TOPICS)
    found = {t.decode() for t in members} - {keys.ARTICLES_STREAM}
    return [keys.ARTICLES_STREAM, *sorted(found)]


def topic_reports(client: redis.Redis, config: TopicsConfig) -> list[TopicReport]:
    """The retention state of every known topic: length, held entries, groups and their lag."""
    trimmer = Trimmer(client)
    return [trimmer.report(topic, config.retention_for(topic)) for topic in known_topics(client)]


class Consumer:
    """A member of a consumer group: reads, acknowledges, and claims what dead members left pending.

    Delivery is at least once: a message is delivered again (to this consumer after a restart, or
    to another one once it was idle ``claim_idle_ms``) until it is acknowledged.
    """

    def __init__(
        self, client: redis.Redis, topic: str = keys.ARTICLES_STREAM, group: str = "default",
        name: str | None = None, *, from_start: bool = True, claim_idle_ms: int = 60_000,
    ) -> None:
        self.redis = client
        self.topic = topic
        self.group = group
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.claim_idle_ms = claim_idle_ms
        #: Pending messages found deleted (trimmed past a topic's hard cap), acknowledged unread.
        self.lost = 0
        self._own_cursor: str | None = "0"
        try:
            client.xgroup_create(topic, group, id="0" if from_start else "$", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read(self, count: int = 10, block_ms: int | None = 1000) -> list[Message]:
        """Messages for this consumer: what it left pending before a restart, then what others left
        idle too long, then new ones."""
        if self._own_cursor is not None:
            own: Any = self.redis.xreadgroup(self.group, self.name, {self.topic: self._own_cursor}, count=count)
            items = [m for _n, batch in own for m in batch]
            # A cursor, not "0" each time: a caller that reads again before acknowledging must
            # not get the same pending messages twice.
            self._own_cursor = items[-1][0].decode() if len(items) == count else None
            if found := self._decode(items):
                return found
        reply: Any = self.redis.xautoclaim(
            self.topic, self.group, self.name, self.claim_idle_ms, "0-0", count=count
        )
        if len(reply) > 2 and reply[2]:  # Redis 7 lists pending entries it found deleted, and drops them
            self.lost += len(reply[2])
        if found := self._decode(list(reply[1])):
            return found
        fresh: Any = self.redis.xreadgroup(self.group, self.name, {self.topic: ">"}, count=count, block=block_ms)
        return self._decode([m for _n, batch in fresh for m in batch])

    def _decode(self, items: list[tuple[bytes, dict[bytes, bytes] | None]]) -> list[Message]:
        # Redis before 7 keeps a pending entry whose message was trimmed and hands it out with no
        # fields; acknowledge it so that it stops coming back, and count it.
        gone = [mid for mid, fields in items if not fields]
        if gone:
            self.redis.xack(self.topic, self.group, *gone)
            self.lost += len(gone)
        return [_decode_message(self.topic, mid, fields) for mid, fields in items if fields]

    def ack(self, message: Message) -> None:
        """Acknowledge ``message``: it will not be delivered to this group again."""
        self.redis.xack(self.topic, self.group, message.id)

    def __iter__(self) -> Iterator[Message]:
        """Messages, forever; acknowledge each one after handling it."""
        while True:
            yield from self.read()
