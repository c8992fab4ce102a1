"""MinHash near-duplicate fingerprints: copies of one story score high, different stories near zero."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest

from pipeline.extract import extract_article
from pipeline.fingerprint import HASHES, _band_ids, estimate, jaccard, minhash, shingles
from tests.conftest import DEMO_SITE, ROOT


def _texts() -> dict[str, str]:
    out = {}
    for page in sorted((DEMO_SITE / "articles").glob("*.html")):
        article = extract_article(page.read_bytes(), f"http://127.0.0.1/{page.name}")
        if article.word_count > 100:
            out[page.stem] = article.text
    return out


TEXTS = _texts()


def copies(text: str) -> dict[str, str]:
    """How one wire story comes out on other sites."""
    paragraphs = text.split("\n\n")
    return {
        "dateline": "WASHINGTON (AP) — " + text,
        "trailer": text + "\n\nCopyright 2024 The Associated Press. All rights reserved. "
                          "This material may not be published, broadcast, rewritten or redistributed.",
        "edited sentence": text.replace(".", ", officials said.", 1),
        "last paragraph dropped": "\n\n".join(paragraphs[:-1]),
        "first paragraph dropped": "\n\n".join(paragraphs[1:]),
    }


def test_the_demo_corpus_is_big_enough_to_mean_something() -> None:
    assert len(TEXTS) >= 10


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_copies_of_a_story_are_near_duplicates(name: str) -> None:
    original = minhash(TEXTS[name])
    for kind, copy in copies(TEXTS[name]).items():
        exact, estimated = jaccard(TEXTS[name], copy), estimate(original, minhash(copy))
        assert exact >= 0.75, kind
        assert estimated >= 0.7, (kind, estimated)
        assert abs(estimated - exact) <= 0.15, (kind, estimated, exact)
        # What the index looks up: at least one of the 16 bands is identical.
        assert set(_band_ids(original)) & set(_band_ids(minhash(copy))), kind


def test_different_stories_are_not() -> None:
    signatures = {name: minhash(text) for name, text in TEXTS.items()}
    for a, b in itertools.combinations(signatures, 2):
        assert estimate(signatures[a], signatures[b]) <= 0.1, (a, b)
        assert not set(_band_ids(signatures[a])) & set(_band_ids(signatures[b])), (a, b)


def test_case_punctuation_and_width_are_folded() -> None:
    assert shingles("Putin said, on Wednesday: NO.") == shingles("putin said on wednesday no")
    assert shingles("ＡＢＣ def ghi") == shingles("abc def ghi")
    text = next(iter(TEXTS.values()))
    assert estimate(minhash(text), minhash(text.upper())) == 1.0


def test_signature_is_the_same_in_every_process() -> None:
    """Workers compare signatures made by other processes: no per-process hash seed may leak in."""
    text = next(iter(TEXTS.values()))
    code = ("import sys; from pipeline.fingerprint import minhash; "
            "print(','.join(map(str, minhash(sys.stdin.read()))))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True,
                         cwd=ROOT, env=env, check=True).stdout
    assert tuple(int(v) for v in out.strip().split(",")) == minhash(text)
    assert len(minhash(text)) == HASHES


def test_empty_text_has_a_signature() -> None:
    assert minhash("") == (0,) * HASHES and shingles("") == set()
