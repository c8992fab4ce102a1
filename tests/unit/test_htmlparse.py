"""Decoding page bytes in legacy charsets, with and without a declaration, and the pre-parse strip."""

from __future__ import annotations

import pytest

from pipeline.htmlparse import decode_html, parse_html, prestrip

RUSSIAN = "Президент России заявил, что санкции против Северной Кореи бесполезны и не помогут решить кризис. " * 4
JAPANESE = "東京の天気は晴れです。今日は多くの人々が公園で花見を楽しんでいます。桜の花がとても美しいです。" * 4
CHINESE = "中国外交部发言人表示，各方应保持克制，通过对话和谈判解决朝鲜半岛核问题。这是唯一正确的途径。" * 4
FRENCH = "Le président a déclaré à la presse que les négociations étaient très difficiles, mais nécessaires. " * 4

CASES = [
    ("windows-1251", RUSSIAN, "windows-1251"),
    ("shift_jis", JAPANESE, "Shift_JIS"),
    ("gb2312", CHINESE, "GB2312"),
    ("iso-8859-1", FRENCH, "ISO-8859-1"),
]


def _page(text: str, charset: str | None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<html><head>{meta}<title>t</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize(("codec", "text", "label"), CASES)
def test_meta_charset(codec: str, text: str, label: str) -> None:
    data = _page(text, label).encode(codec)
    assert text in decode_html(data)


@pytest.mark.parametrize(("codec", "text", "label"), CASES)
def test_http_charset(codec: str, text: str, label: str) -> None:
    data = _page(text, None).encode(codec)
    assert text in decode_html(data, f"text/html; charset={label}")


@pytest.mark.parametrize(("codec", "text", "label"), CASES)
def test_detected_without_declaration(codec: str, text: str, label: str) -> None:
    data = _page(text, None).encode(codec)
    assert text in decode_html(data)


def test_http_header_wins_over_meta() -> None:
    data = _page(RUSSIAN, "iso-8859-1").encode("windows-1251")
    assert RUSSIAN in decode_html(data, "text/html; charset=windows-1251")


def test_http_equiv_meta() -> None:
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
            f"</head><body><p>{RUSSIAN}</p></body></html>")
    assert RUSSIAN in decode_html(page.encode("windows-1251"))


def test_gbk_characters_under_gb2312_label() -> None:
    # "镕" is in GBK but not in GB2312: browsers read the label as GBK, so do we.
    text = "朱镕基" + CHINESE
    assert text in decode_html(_page(text, "gb2312").encode("gbk"))


def test_bom_and_utf8_default() -> None:
    assert decode_html(b"\xef\xbb\xbf<p>caf\xc3\xa9</p>") == "<p>café</p>"
    assert decode_html("<p>café</p>".encode()) == "<p>café</p>"
    assert "caf" in decode_html(b"<p>caf\xe9 \xff\xfe</p>", "text/html; charset=bogus-charset")


def test_prestrip_keeps_jsonld_and_drops_scripts() -> None:
    html = ('<script>var a = "<p>no</p>";</script><script type="application/ld+json">{"a": 1}</script>'
            "<!-- c --><style>p{}</style><svg><text>x</text></svg><p>yes</p>")
    out = prestrip(html)
    assert "no" not in out and "p{}" not in out and "<text>" not in out and "c --" not in out
    assert '{"a": 1}' in out and "<p>yes</p>" in out


def test_prestrip_unclosed_script_keeps_rest() -> None:
    assert prestrip("<p>a</p><script>never closed") == "<p>a</p><script>never closed"


def test_br_runs_become_paragraphs() -> None:
    soup = parse_html("<div>one<br><br>two<br/> <br>three<br>four</div>")
    assert [p.get_text() for p in soup.find_all("p")] == ["two", "three<br>four".replace("<br>", "")]


def test_parse_drops_control_characters() -> None:
    soup = parse_html("<p>a\x00b\x07c</p>")
    assert soup.get_text() == "abc"


@pytest.mark.parametrize(
    "label", ["rot13", "base64", "zlib", "idna", "punycode", "utf-7", "undefined", "unicode_escape",
              "raw_unicode_escape", "quopri", "utf-32", "cp037", "utf-16", "x-nonsense", ""],
)
def test_hostile_charset_labels(label: str) -> None:
    data = f'<meta charset="{label}"><p>caf\u00e9 \\x41 %</p>'.encode()
    assert "café \\x41 %" in decode_html(data)
    assert "café \\x41 %" in decode_html(data, f"text/html; charset={label}")
