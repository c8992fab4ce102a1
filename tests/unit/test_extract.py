"""extract_article on the Global Times demo page, field by field, and the feed-entry merge rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline import extract_article
from pipeline.models import FeedEntry

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "newsflow" / "demo" / "site" / "articles" / "global-times-putin-nk.html"
URL = "http://127.0.0.1:8000/articles/global-times-putin-nk.html"
INSTANT = dt.datetime(2017, 9, 6, 16, 18, 40, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def html() -> str:
    return PAGE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def article(html: str):  # type: ignore[no-untyped-def]
    return extract_article(html, URL, feed_entry=None, timezone="Asia/Shanghai")


def test_title_has_no_site_suffix(article) -> None:  # type: ignore[no-untyped-def]
    assert article.title == "Russia won’t recognize NK’s nuclear status: Putin"


def test_authors_from_byline(article) -> None:  # type: ignore[no-untyped-def]
    assert article.authors == ["Yang Sheng"]


def test_source_name_from_byline(article) -> None:  # type: ignore[no-untyped-def]
    assert article.source.name == "Global Times"
    assert article.source.domain == "127.0.0.1"


def test_published_in_configured_zone(article) -> None:  # type: ignore[no-untyped-def]
    assert article.published_at == INSTANT
    assert article.date_zone == "configured"
    assert article.to_dict()["published_at"] == "2017-09-06T16:18:40Z"


def test_published_without_zone_is_marked_unknown(html: str) -> None:
    article = extract_article(html, URL, timezone=None)
    assert article.date_zone == "unknown"
    assert article.published_at == dt.datetime(2017, 9, 7, 0, 18, 40, tzinfo=dt.timezone.utc)


def test_text_is_the_story(article) -> None:  # type: ignore[no-untyped-def]
    text = article.text
    assert text.startswith("Russian President Vladimir Putin said")
    assert text.endswith('not to attack it."')
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 6
    assert all(p.strip() == p and p for p in paragraphs)


@pytest.mark.parametrize(
    "boilerplate",
    ["Disqus", "Please enable JavaScript", "CHINA", "Asia-Pacific", "Related Articles", "Most Popular",
     "Share", "Facebook", "Advertisement", "Copyright", "About Us", "By Yang Sheng", "Home"],
)
def test_text_has_no_boilerplate(article, boilerplate: str) -> None:  # type: ignore[no-untyped-def]
    assert boilerplate not in article.text


def test_clean_html_and_other_fields(article) -> None:  # type: ignore[no-untyped-def]
    assert article.html.startswith("<p>Russian President")
    assert article.html.count("<p>") == 6
    assert article.has_article is True
    assert article.language == "en"
    assert article.tags == ["Putin", "North Korea", "nuclear", "sanctions"]
    assert article.summary and article.summary.startswith("Russian President Vladimir Putin")
    assert article.word_count > 300


def test_feed_entry_with_offset_gives_same_instant(html: str) -> None:
    entry = FeedEntry(
        feed_url="http://127.0.0.1:8000/feeds/world.xml",
        key="gt-1",
        link=URL,
        title="Russia won't recognize NK's nuclear status: Putin",
        published="Thu, 07 Sep 2017 00:18:40 +0800",
        authors=["Feed Author"],
        tags=["World"],
    )
    article = extract_article(html, URL, feed_entry=entry, timezone=None)
    assert article.published_at == INSTANT
    # The feed's date carries its zone, so it wins over the page's zone-less byline date.
    assert article.date_zone == "explicit"
    assert article.feed_url == "http://127.0.0.1:8000/feeds/world.xml"
    # The page's byline names the author; feed authors only fill in when the page has none.
    assert article.authors == ["Yang Sheng"]
    assert article.tags == ["Putin", "North Korea", "nuclear", "sanctions", "World"]


def test_feed_entry_as_dict(html: str) -> None:
    entry = {"feed_url": "http://127.0.0.1:8000/feeds/world.xml", "key": "k", "link": URL,
             "published": "Thu, 07 Sep 2017 00:18:40 +0800"}
    article = extract_article(html, URL, feed_entry=entry, timezone="Asia/Shanghai")
    assert article.published_at == INSTANT


def test_bytes_input(html: str) -> None:
    article = extract_article(html.encode("utf-8"), URL, timezone="Asia/Shanghai",
                              content_type="text/html; charset=utf-8")
    assert article.title == "Russia won’t recognize NK’s nuclear status: Putin"
    assert article.published_at == INSTANT
