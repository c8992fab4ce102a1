"""The cleaner on hand-written fixture pages: the story's blocks kept, boilerplate dropped, clean HTML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.clean import Cleaned, clean
from pipeline.explain import explain
from pipeline.htmlparse import parse_html

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"
URL = "https://courier.example/news/2021/03/04/cycle-lanes"


def _clean(name: str, title: str | None = None) -> Cleaned:
    html = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    return clean(parse_html(html), URL, title=title)


@pytest.fixture(scope="module")
def blog() -> Cleaned:
    return _clean("blog-jsonld", title="City council approves new cycle lanes")


def test_story_paragraphs_in_order(blog: Cleaned) -> None:
    paragraphs = blog.text.split("\n\n")
    assert paragraphs[0].startswith("The city council on Thursday approved")
    assert paragraphs[-1].startswith("Work is due to start in the summer")
    assert "What changes for drivers" in paragraphs
    assert "Bridge Street loses its parking on the north side." in paragraphs
    assert '"This is the biggest change to our streets in a generation," the mayor said.' in paragraphs
    assert "The planned network, in green." in paragraphs


@pytest.mark.parametrize(
    "boilerplate",
    ["cookies", "Accept", "Home", "Tweet", "Get the morning briefing", "newsletter", "Subscribe",
     "Maria Lopez covers transport", "Related", "Bus fares", "12 comments", "Great news for the city",
     "Commento", "All rights reserved", "Privacy", "By Maria Lopez",
     "City council approves new cycle lanes"],
)
def test_boilerplate_dropped(blog: Cleaned, boilerplate: str) -> None:
    assert boilerplate not in blog.text


def test_whitespace_normalized(blog: Cleaned) -> None:
    assert "\n\n\n" not in blog.text
    for paragraph in blog.text.split("\n\n"):
        assert paragraph == paragraph.strip()
        assert "  " not in paragraph


def test_clean_html_uses_only_allowed_tags(blog: Cleaned) -> None:
    tags = set(re.findall(r"</?([a-z0-9]+)", blog.html))
    assert tags <= {"p", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "figure", "figcaption", "a", "img"}
    assert {"p", "h2", "ul", "li", "blockquote", "figure", "figcaption", "a", "img"} <= tags
    assert '<a href="https://courier.example/docs/plan.pdf">published plan</a>' in blog.html
    assert '<img src="https://courier.example/img/lanes-map.png"' in blog.html
    assert "<script" not in blog.html and "style=" not in blog.html and "class=" not in blog.html


def test_byline_seen_and_left_out(blog: Cleaned) -> None:
    assert blog.bylines[0] == "By Maria Lopez and Tom O'Neill"


def test_table_layout_page_with_br_paragraphs() -> None:
    cleaned = _clean("table-layout")
    paragraphs = cleaned.text.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("More than twelve thousand people")
    assert paragraphs[-1] == "Next year's festival will be held on the second weekend of October, as usual."
    for noise in ("Classifieds", "Most popular", "School board", "Advertisement", "Contact us"):
        assert noise not in cleaned.text
    assert cleaned.has_article


def test_home_page_has_no_article() -> None:
    cleaned = _clean("home-page")
    assert cleaned.has_article is False
    assert cleaned.text == "" and cleaned.html == ""


def test_data_table_and_pre_kept() -> None:
    cleaned = _clean("site-name-author", title="Ten years of the open data portal")
    assert "GET /api/v1/datasets?sort=popular" in cleaned.text
    assert "Bus arrivals\t1,204,330" in cleaned.text
    assert "Share on Facebook" not in cleaned.text
    assert "Why we moved to CSV" not in cleaned.text
    assert "Ana Petrova" not in cleaned.text


def test_widget_trailers_dropped() -> None:
    story = "".join(f"<p>Paragraph {i} of the story, with enough words to count as text here.</p>" for i in range(8))
    html = (f"<html><body><div class='story'>{story}<p>blog comments powered by Disqus</p>"
            "<p>Advertisement</p><p>Please enable JavaScript to view the comments.</p></div></body></html>")
    cleaned = clean(parse_html(html), URL)
    assert cleaned.text.endswith("enough words to count as text here.")
    assert "Disqus" not in cleaned.text and "Advertisement" not in cleaned.text


def test_hidden_blocks_dropped() -> None:
    story = "<p>" + "Visible story text, with commas, in a paragraph. " * 12 + "</p>"
    html = (f"<html><body><article>{story}<div style='display: none'>Hidden promo text</div>"
            "<p hidden>Secret</p><div aria-hidden='true'>Screen-reader junk</div></article></body></html>")
    text = clean(parse_html(html), URL).text
    assert "Hidden promo" not in text and "Secret" not in text and "junk" not in text
    assert text.startswith("Visible story text")


def test_explain_lists_kept_and_dropped_blocks() -> None:
    html = (FIXTURES / "blog-jsonld.html").read_text(encoding="utf-8")
    notes = explain(html, URL)
    assert notes[0]["action"] == "chose"
    actions = {n["action"] for n in notes}
    assert {"chose", "kept", "dropped"} <= actions
    reasons = " ".join(n["reason"] for n in notes if n["action"] == "dropped")
    assert "unlikely class/id" in reasons and "byline" in reasons
    assert all(set(n) == {"action", "block", "reason", "text"} for n in notes)


def test_whitespace_collapses_like_a_browser() -> None:
    paragraph = ("<p>Line one\nof the source,\twith a\u00a0no-break space and\u3000an ideographic one.<br>"
                 "After the break, more words so that the paragraph is long enough.</p>")
    html = f"<html><body><article>{paragraph * 6}<pre>keep\n  this</pre></article></body></html>"
    text = clean(parse_html(html), URL).text
    first = text.split("\n\n")[0]
    assert first == ("Line one of the source, with a no-break space and\u3000an ideographic one.\n"
                     "After the break, more words so that the paragraph is long enough.")
    assert text.endswith("keep\n  this")


def test_image_credits_and_author_boxes_dropped() -> None:
    story = "".join(f"<p>Paragraph {i} of the story, with commas, and enough words to be kept.</p>" for i in range(8))
    html = (f"<html><body><article><figure><img src='/a.jpg'><figcaption>The harbour at dawn."
            f"<span class='credit'>Photo: Jane Roe/Agency</span></figcaption></figure>{story}"
            "<div class='about-the-author'><p>John Smith writes about ships and has done so for many years, "
            "for several papers.</p></div></article></body></html>")
    text = clean(parse_html(html), URL).text
    assert "The harbour at dawn." in text
    assert "Jane Roe" not in text and "writes about ships" not in text


def test_metered_story_container_is_kept() -> None:
    # Many sites wrap the story itself in a "paywall" or "subscriber" container.
    story = "".join(f"<p>Paragraph {i} of the story, with commas, and enough words to be kept.</p>" for i in range(8))
    html = f"<html><body><div class='paywall subscriber-only'>{story}</div><div class='sidebar'>x</div></body></html>"
    assert clean(parse_html(html), URL).text.startswith("Paragraph 0 of the story")


def test_links_without_usable_href_keep_only_their_text() -> None:
    paragraph = ("<p>Text with a <a name='x'>named anchor</a>, a <a href='javascript:x()'>script link</a> and "
                 "a <a href='/ok'>real link</a>, long enough to be kept.</p>")
    html = f"<html><body><article>{paragraph * 8}</article></body></html>"
    out = clean(parse_html(html), URL).html
    assert '<a href="https://courier.example/ok">real link</a>' in out
    assert "named anchor" in out and "script link" in out
    assert "<a>" not in out and "javascript:" not in out
    assert out.count("<a ") == out.count("</a>") == 8
