"""The metadata cascade: JSON-LD, meta tags, visible page; titles, authors, dates, names, language."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.authors import clean_authors, parse_byline
from pipeline.htmlparse import parse_html
from pipeline.metadata import PageMetadata, extract_metadata
from pipeline.titles import page_title, site_from_title, strip_site_suffix

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"
URL = "https://courier.example/news/2021/03/04/cycle-lanes"


def _meta(name: str) -> PageMetadata:
    return extract_metadata(parse_html((FIXTURES / f"{name}.html").read_text(encoding="utf-8")), URL)


def test_jsonld_first() -> None:
    meta = _meta("blog-jsonld")
    assert meta.title_structured == "City council approves new cycle lanes"
    assert meta.authors == ["Maria Lopez", "Tom O'Neill"]
    assert meta.published == "2021-03-04T09:30:00+00:00"
    assert meta.updated == "2021-03-04T12:00:00Z"
    assert meta.site_name == "The Riverside Courier"
    assert meta.language == "en-GB"
    assert meta.canonical_url == "https://courier.example/news/2021/03/04/cycle-lanes"
    assert meta.description == "Councillors voted 9-2 for a network of protected lanes."
    assert meta.image == "https://courier.example/img/lanes.jpg"
    assert meta.tags == ["Transport", "Council"]


def test_title_suffix_removed_and_staff_rejected() -> None:
    meta = _meta("table-layout")
    assert meta.title == "Harvest festival draws record crowds"
    assert meta.authors == []  # meta author "Staff" is no person
    assert meta.published == "2019-10-12"  # from the dateline element
    assert meta.tags == ["festival", "harvest", "valley"]


def test_site_name_is_never_an_author() -> None:
    meta = _meta("site-name-author")
    assert meta.authors == ["Ana Petrova"]  # rel=author; meta author equals og:site_name; article:author is a URL
    assert meta.title == "Ten years of the open data portal"
    assert meta.published == "2022-06-01T08:00:00-04:00"


def test_home_page_title() -> None:
    assert _meta("home-page").title == "News, Sport, Weather"


@pytest.mark.parametrize(
    ("raw", "site", "expected"),
    [
        ("Russia won’t recognize NK’s nuclear status: Putin - Global Times", None,
         "Russia won’t recognize NK’s nuclear status: Putin"),
        ("Site Name | A headline that is long enough", "Site Name", "A headline that is long enough"),
        ("A headline that is long enough — Example News", None, "A headline that is long enough"),
        ("Short - Site", None, "Short - Site"),
        ("No separator in this title at all", None, "No separator in this title at all"),
    ],
)
def test_strip_site_suffix(raw: str, site: str | None, expected: str) -> None:
    assert strip_site_suffix(raw, site) == expected


def test_heading_confirms_headline() -> None:
    title = page_title("Budget passes after all-night session - Metro - The Daily",
                       ["Budget passes after all-night session"], [], None)
    assert title == "Budget passes after all-night session"


@pytest.mark.parametrize(
    ("line", "names", "source", "date"),
    [
        ("By Yang Sheng Source:Global Times Published: 2017/9/7 0:18:40", ["Yang Sheng"], "Global Times",
         "2017/9/7 0:18:40"),
        ("By Alice Smith and Bob Jones | May 3, 2020", ["Alice Smith", "Bob Jones"], None, None),
        ("By Daniel Kahn Gillmor, Senior Staff Technologist, ACLU", ["Daniel Kahn Gillmor"], None, None),
        ("Dan Goodin - Apr 16, 2015 8:02 pm UTC", ["Dan Goodin"], None, None),
        ("Written by Rob Ewaschuk Edited by Betsy Beyer", ["Rob Ewaschuk"], None, None),
        ("Tech Industry by Steven Musil January 18, 2017", ["Steven Musil"], None, None),
        ("CAIRO —", [], None, None),
    ],
)
def test_parse_byline(line: str, names: list[str], source: str | None, date: str | None) -> None:
    parsed = parse_byline(line)
    assert parsed.names == names
    assert parsed.source == source
    assert parsed.date == date


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Staff"], []),
        (["news@example.com"], []),
        (["https://social.example/jane"], []),
        (["@janedoe"], []),
        (["Global Times"], []),
        (["CC7567"], []),
        (["Jane Doe, PhD"], ["Jane Doe"]),
        (["Bradley M. Kuhn (http://ebb.org/bkuhn/)"], ["Bradley M. Kuhn"]),
        (["Jane Doe", "jane doe"], ["Jane Doe"]),
        (["Ana María de la Vega"], ["Ana María de la Vega"]),
    ],
)
def test_clean_authors(values: list[str], expected: list[str]) -> None:
    assert clean_authors(values, ("Global Times",)) == expected


def test_meta_keys_and_dates_from_markup() -> None:
    html = ('<html lang="fr"><head><meta property="dc:creator twitter:site_name" content="Marie Curie">'
            '<meta name="author" content="Ignored Second">'
            '<script type="application/ld+json">not json</script></head>'
            '<body><time pubdate datetime="2020-05-01T10:00:00+02:00">1 mai</time></body></html>')
    meta = extract_metadata(parse_html(html), "https://x.example/a")
    assert meta.authors == ["Marie Curie"]
    assert meta.published == "2020-05-01T10:00:00+02:00"
    assert meta.language == "fr"


def test_date_from_url_when_page_has_none() -> None:
    meta = extract_metadata(parse_html("<html><body><p>x</p></body></html>"), "https://x.example/2019/07/04/story")
    assert meta.published == "2019-07-04"


def test_empty_document() -> None:
    meta = extract_metadata(parse_html(""), "https://x.example/")
    assert meta.title is None and meta.authors == [] and meta.published is None


def test_blog_name_colon_headline_and_site_from_title() -> None:
    html = ("<html><head><title>The Quiet Compiler: Why our collector paused for 900 ms</title></head><body>"
            "<h1><a href='/'>The Quiet Compiler</a></h1><h3 class='entry-header'>Why our collector paused for"
            " 900 ms</h3><p>Text.</p></body></html>")
    meta = extract_metadata(parse_html(html), "https://blog.example/p/1")
    assert meta.title == "Why our collector paused for 900 ms"
    assert meta.site_name == "The Quiet Compiler"


@pytest.mark.parametrize(
    ("raw", "headline", "site"),
    [("Headline here - Section - The Daily", "Headline here", "The Daily"),
     ("Site | Headline here", "Headline here", "Site"),
     ("Headline here", "Headline here", None)],
)
def test_site_from_title(raw: str, headline: str, site: str | None) -> None:
    assert site_from_title(raw, headline) == site
