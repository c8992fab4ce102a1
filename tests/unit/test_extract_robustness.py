"""extract_article never raises on any str or bytes, and stays bounded on hostile pages."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import extract_article
from pipeline.models import Article

URL = "http://example.test/news/2020/05/01/story.html"
TAGS = ["div", "p", "span", "a", "table", "tr", "td", "ul", "li", "script", "style", "article", "section",
        "h1", "h2", "br", "img", "meta", "title", "head", "body", "html", "noscript", "svg", "pre", "time",
        "blockquote", "figure", "form", "nav", "footer", "!--", "![CDATA["]
ATTRS = ['class="content"', 'id="comments"', 'class="byline author"', 'rel="author"', 'style="display:none"',
         'hidden', 'property="og:title" content="T"', 'type="application/ld+json"', 'href="javascript:x"',
         'src="//x/y.png"', 'charset="shift_jis"', 'itemprop="datePublished" datetime="2020-13-45"',
         'lang="zz-ZZ"', 'name="author" content="By Staff"', 'aria-hidden="true"', 'role="navigation"']
WORDS = ["Story", "text,", "By John Smith", "Published: 2017/9/7 0:18:40", "{\"@type\": \"NewsArticle\"",
         "]]>", "&amp;", "&#0;", "\x00", "\ufeff", "日本語", "Привет", "<", ">", "\"", "'", "\n", " ", "é"]

fragment = st.one_of(
    st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(TAGS).map(lambda t: f"</{t}>"),
    st.tuples(st.sampled_from(TAGS), st.sampled_from(ATTRS)).map(lambda ta: f"<{ta[0]} {ta[1]}>"),
    st.sampled_from(WORDS),
    st.text(max_size=20),
)
html_like = st.lists(fragment, max_size=60).map("".join)


def _check(article: Article) -> None:
    assert isinstance(article.text, str)
    assert article.has_article or article.text == ""
    article.to_json()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_like)
def test_never_raises_on_html_like_text(html: str) -> None:
    _check(extract_article(html, URL))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_any_text(html: str) -> None:
    _check(extract_article(html, URL, timezone="Europe/Paris"))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([None, "text/html", "text/html; charset=utf-16",
                                                 "text/html; charset=nonsense", "text/html; charset=gb2312"]))
def test_never_raises_on_any_bytes(data: bytes, content_type: str | None) -> None:
    _check(extract_article(data, URL, content_type=content_type))


@settings(max_examples=60, deadline=None)
@given(html_like, st.integers(min_value=0, max_value=2000), st.binary(min_size=1, max_size=8))
def test_never_raises_on_mutated_page(extra: str, position: int, noise: bytes) -> None:
    page = ("<html><head><title>A - Site</title></head><body><article><p>" + "Words, words. " * 40
            + "</p></article></body></html>")
    cut = position % len(page)
    mutated = page[:cut] + extra + noise.decode("latin-1") + page[cut:]
    _check(extract_article(mutated, URL))
    _check(extract_article(mutated.encode("utf-8", "surrogatepass"), URL))


def test_deep_nesting_has_no_recursion_error() -> None:
    story = "<p>" + "A sentence of the story, with commas, that goes on. " * 20 + "</p>"
    for tag in ("div", "section", "table", "ul", "span", "blockquote"):
        html = f"<html><body>{f'<{tag}>' * 10_000}{story}{f'</{tag}>' * 10_000}</body></html>"
        article = extract_article(html, URL)
        article.to_json()
        assert "A sentence of the story" in article.text


def test_five_megabyte_page_in_bounded_time() -> None:
    item = ('<div class="post"><h2>Heading</h2><p>Paragraph of text with a <a href="/x">link</a>, and commas, '
            "long enough to be scored as part of a story.</p><ul class=\"menu\"><li><a href=\"/a\">A</a></li>"
            "</ul><script>var x = 1;</script></div>\n")
    html = "<html><body><main>" + item * (5_000_000 // len(item)) + "</main></body></html>"
    start = time.perf_counter()
    article = extract_article(html, URL)
    assert time.perf_counter() - start < 60
    assert article.has_article and article.word_count > 100_000


def test_unclosed_scripts_and_comments_do_not_blow_up() -> None:
    html = "<p>x</p>" + "<script>" * 20_000 + "<!--" * 20_000 + "<svg>" * 20_000
    start = time.perf_counter()
    _check(extract_article(html, URL))
    assert time.perf_counter() - start < 20


def test_page_without_article() -> None:
    nav = "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(40))
    for body in (
        f"<header><ul class='menu'>{nav}</ul></header><footer>Copyright</footer>",
        "<form><input name=user><input type=password name=pw><button>Log in</button></form><p>Please log in.</p>",
        "<h1>404 Not Found</h1><p>The page you requested could not be found.</p>",
        "",
        # A big page of nothing but link lists: the looser retries find text, but it is all links.
        f"<div class='block'><ul class='menu'>{nav}</ul></div>" * 50,
    ):
        article = extract_article(f"<html><head><title>Home</title></head><body>{body}</body></html>", URL)
        assert article.has_article is False
        assert article.text == ""
        assert article.word_count == 0


def test_inputs_that_bs4_would_warn_about() -> None:
    # filterwarnings = error: a warning from the parser would fail here.
    for html in ("http://example.com/x", "story.html", "C:\\pages\\a.htm",
                 "<?xml version='1.0'?><rss><channel><item><title>x</title></item></channel></rss>",
                 "<?xml version='1.0' encoding='utf-8'?><html xmlns='http://www.w3.org/1999/xhtml'>"
                 "<body><p>x</p></body></html>"):
        _check(extract_article(html, URL))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=20), st.binary(max_size=200))
def test_never_raises_on_any_declared_charset(label: str, body: bytes) -> None:
    data = f'<meta charset="{label}">'.encode("utf-8", "surrogatepass") + body
    _check(extract_article(data, URL, content_type=f"text/html; charset={label}"))


def test_lone_surrogates_and_unusable_urls() -> None:
    for value in ("\ud800", "a\udcff b", "http://[::1", "http://[zz]/", "http://ex.com:99999/", "javascript:x"):
        html = (f'<title>{value}</title><link rel="canonical" href="{value}"><meta property="og:image" '
                f'content="{value}"><p><a href="{value}">x{value}</a><img src="{value}"></p>')
        for url in (URL, value):
            _check(extract_article(html, url))
