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


BARE = ("<html><head><title>Bare page - Site</title></head><body><div class='story'>"
        + "<p>A paragraph of the story, with commas, long enough to be kept as text.</p>" * 8
        + "</div></body></html>")
OG = ('<html lang="de"><head><meta property="og:title" content="Page headline">'
      '<meta property="article:published_time" content="2020-01-02T10:00:00+01:00">'
      '<meta name="author" content="Erika Mustermann"><meta name="description" content="Page summary">'
      '<meta property="article:tag" content="Politik"></head><body><article>'
      + "<p>Ein Absatz der Geschichte, mit Kommas, lang genug, um als Text zu gelten.</p>" * 8
      + "</article></body></html>")


def _entry(**fields: object) -> FeedEntry:
    return FeedEntry.model_validate({"feed_url": "http://127.0.0.1:8000/feed.xml", "key": "k",
                                     "link": "http://127.0.0.1:8000/a", **fields})


def test_merge_feed_fills_what_the_page_lacks() -> None:
    entry = _entry(title="Feed headline", authors=["Jane Feed", "Staff"], published="2021-05-06T07:08:09Z",
                   summary="<p>Feed <b>summary</b></p>", tags=["News"], language="fr")
    article = extract_article(BARE, "http://127.0.0.1:8000/a", feed_entry=entry)
    assert article.title == "Feed headline"  # feed title beats the page's <title> heuristic
    assert article.authors == ["Jane Feed"]  # feed authors are filtered like the page's
    assert article.published_at == dt.datetime(2021, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    assert article.date_zone == "explicit"
    assert article.summary == "Feed summary"
    assert article.tags == ["News"]
    assert article.language == "fr"


def test_merge_page_wins_where_it_speaks() -> None:
    entry = _entry(title="Feed headline", authors=["Jane Feed"], published="2020-01-02T11:30:00+02:00",
                   summary="Feed summary", tags=["politik", "Welt"], language="fr")
    article = extract_article(OG, "http://127.0.0.1:8000/a", feed_entry=entry)
    assert article.title == "Page headline"  # structured page headline beats the feed title
    assert article.authors == ["Erika Mustermann"]
    # Both dates carry a zone: the page's wins the tie.
    assert article.published_at == dt.datetime(2020, 1, 2, 9, 0, tzinfo=dt.timezone.utc)
    assert article.summary == "Page summary"
    assert article.tags == ["Politik", "Welt"]  # union, case-insensitive
    assert article.language == "de"


def test_merge_feed_zone_for_zoneless_dates() -> None:
    entry = _entry(published="2021-05-06 07:08:09", timezone="Asia/Tokyo")
    article = extract_article(BARE, "http://127.0.0.1:8000/a", feed_entry=entry)
    assert article.published_at == dt.datetime(2021, 5, 5, 22, 8, 9, tzinfo=dt.timezone.utc)
    assert article.date_zone == "configured"


def test_language_detected_when_undeclared() -> None:
    assert extract_article(BARE, "http://127.0.0.1:8000/a").language == "en"
