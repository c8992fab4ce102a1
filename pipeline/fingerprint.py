"""Near-duplicates across sources: MinHash signatures of word shingles, with LSH bands in Redis.

Copies of one wire story differ by a dateline, a headline, a trailer or a dropped paragraph; the
Jaccard similarity of their 3-word shingles stays high (0.8 and more) while two different stories
share almost none (under 0.05). A 64-value MinHash signature estimates that similarity; cut into
16 bands of 4 values, two stories with similarity 0.7 share at least one band with probability
0.99 (1 - (1 - 0.7**4)**16) and two unrelated ones almost never, so a lookup of the article's own
16 band buckets finds the candidates without scanning, and their signatures decide.

(A 64-bit simhash was measured first: a 15-word trailer or a dropped paragraph moved it by up to
9 bits, beyond what its 3-bit LSH bands can find; see docs/consumers.md.)
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from dataclasses import dataclass

import redis

from pipeline import keys
from pipeline.models import Article

__all__ = ["BANDS", "HASHES", "Match", "NearDuplicateIndex", "estimate", "jaccard", "minhash", "shingles"]

HASHES = 64
BANDS = 16
ROWS = HASHES // BANDS
SHINGLE = 3
#: Below this many words a few shared phrases swing the estimate: short items are not compared.
MIN_WORDS = 30

_WORD = re.compile(r"\w+", re.UNICODE)
_PRIME = (1 << 61) - 1


def _seeded(i: int, salt: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(salt + i.to_bytes(2, "big"), digest_size=8).digest(), "big")


# Fixed hash functions h_i(x) = (a_i * x + b_i) mod p: the same in every process and every run,
# so that signatures written by one worker compare with those of another.
_A = [_seeded(i, b"newsflow-minhash-a") % (_PRIME - 1) + 1 for i in range(HASHES)]
_B = [_seeded(i, b"newsflow-minhash-b") % _PRIME for i in range(HASHES)]

# Record the article in its band buckets and find who else is in them, in one step: of two copies
# processed at the same time by two workers, the second always sees the first. Redis's clock
# orders them, not the workers' clocks, in microseconds made strictly increasing by KEYS[#KEYS-1]
# (two scripts in the same microsecond still get distinct times, so exactly one is the first). A
# story keeps its first-seen time across revisions, so an original that is corrected later never
# becomes a duplicate of its own copies.
_RECORD = """
local t = redis.call('TIME')
local clock_key, sig_key = KEYS[#KEYS - 1], KEYS[#KEYS]
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', clock_key) or '0')
if now <= last then now = last + 1 end
local window_ms, id = tonumber(ARGV[1]), ARGV[2]
local own = tonumber(redis.call('HGET', sig_key, 'at') or '0')
if own == 0 then
  own = now
  redis.call('SET', clock_key, string.format('%d', now))
end
redis.call('HSET', sig_key, 'at', string.format('%d', own), 'sig', ARGV[3])
redis.call('PEXPIRE', sig_key, window_ms)
local horizon = string.format('%d', now - window_ms * 1000)
local seen, out = {}, {}
for i = 1, #KEYS - 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. horizon)
  local members = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
  for j = 1, #members, 2 do
    local other, at = members[j], tonumber(members[j + 1])
    if other ~= id and not seen[other] and at < own then
      seen[other] = true
      out[#out + 1] = other
      out[#out + 1] = string.format('%d', at)
    end
  end
  redis.call('ZADD', KEYS[i], string.format('%d', own), id)
  redis.call('PEXPIRE', KEYS[i], window_ms)
end
return out
"""


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """The word shingles of ``text``, with case, width variants and punctuation folded away."""
    words = _words(text)
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: str, b: str) -> float:
    """The exact Jaccard similarity of two texts' shingle sets (what ``estimate`` approximates)."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def minhash(text: str) -> tuple[int, ...]:
    """The MinHash signature of ``text``: for each hash function, the least value over its shingles."""
    values = [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big")
              for s in shingles(text)]
    if not values:
        return (0,) * HASHES
    # 32 bits per value are plenty (a false match costs 2**-32) and halve what Redis keeps.
    return tuple(min((a * x + b) % _PRIME for x in values) & 0xFFFFFFFF for a, b in zip(_A, _B))


def estimate(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """The Jaccard similarity estimated from two signatures: the share of equal values."""
    return sum(x == y for x, y in zip(a, b)) / HASHES


def _band_ids(signature: tuple[int, ...]) -> list[str]:
    return [hashlib.blake2b(struct.pack(f">{ROWS}I", *signature[i * ROWS:(i + 1) * ROWS]),
                            digest_size=8).hexdigest() for i in range(BANDS)]


@dataclass(frozen=True)
class Match:
    """An earlier story that this one nearly duplicates, and their estimated similarity."""

    original_id: str
    similarity: float


class NearDuplicateIndex:
    """MinHash signatures and LSH band buckets in Redis, each kept for a time window."""

    def __init__(self, client: redis.Redis, *, threshold: float = 0.7, window_s: float = 7 * 86400) -> None:
        if not 0 < threshold <= 1:
            raise ValueError("near-duplicate threshold must be in (0, 1]")
        self.redis = client
        self.threshold = threshold
        self.window_ms = int(window_s * 1000)
        self._script = client.register_script(_RECORD)

    def check(self, article_id: str, text: str) -> Match | None:
        """Record ``text`` under ``article_id``; return the earliest earlier story at least
        ``threshold`` similar, if any."""
        if len(_words(text)) < MIN_WORDS:
            return None
        signature = minhash(text)
        bucket_keys = [keys.lsh_band_key(i, band) for i, band in enumerate(_band_ids(signature))]
        packed = struct.pack(f">{HASHES}I", *signature)
        found = self._script(keys=[*bucket_keys, keys.LSH_CLOCK, keys.minhash_key(article_id)],
                             args=[self.window_ms, article_id, packed])
        candidates = sorted((int(at), other.decode()) for other, at in zip(found[::2], found[1::2]))
        if not candidates:
            return None
        with self.redis.pipeline(transaction=False) as pipe:
            for _at, other in candidates:
                pipe.hget(keys.minhash_key(other), "sig")
            stored = pipe.execute()
        for (_at, other), raw in zip(candidates, stored):
            if raw is None or len(raw) != 4 * HASHES:  # expired since the lookup
                continue
            similarity = estimate(signature, struct.unpack(f">{HASHES}I", raw))
            if similarity >= self.threshold:
                return Match(other, similarity)
        return None

    def mark(self, article: Article) -> Article:
        """``article`` with ``duplicate_of`` set to the earliest near-identical story, or None."""
        if not article.has_article:
            return article
        match = self.check(article.id, article.text)
        original = match.original_id if match else None
        return article if original == article.duplicate_of else article.model_copy(
            update={"duplicate_of": original})
