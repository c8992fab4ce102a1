"""Bytes to text to a tree: charset detection and the lxml-backed BeautifulSoup parse."""

from __future__ import annotations

import codecs
import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

__all__ = ["decode_html", "parse_html", "prestrip", "without_surrogates"]

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
# Browsers read these labels as the superset encodings (WHATWG Encoding Standard); so must we, or
# pages that say "gb2312" but use GBK characters turn into replacement characters.
_SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "us-ascii": "cp1252", "ascii": "cp1252", "shift_jis": "cp932", "shift-jis": "cp932",
    "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932", "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "tis-620": "cp874", "iso-8859-9": "cp1254", "big5": "big5hkscs", "utf8": "utf-8",
}
_NOT_PAGE_ENCODINGS = frozenset(
    ["idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "utf-7", "unicode-internal",
     "utf-32", "utf-32-le", "utf-32-be"]
)
_SNIFF_BYTES = 4096
_DETECT_BYTES = 65536

# Removed from the text before parsing: the parser would build thousands of nodes for script bodies,
# styles and inline SVG that no later stage reads. JSON-LD scripts stay (metadata reads them).
_OPENER = re.compile(r"<(script|style|svg|noscript)\b([^>]{0,2000})>|<!--", re.I)
_CLOSERS = {"script": "</script", "style": "</style", "svg": "</svg", "noscript": "</noscript", "": "-->"}
# Two or more <br> in a row separate paragraphs (old-style pages have no <p>).
_BR_RUN = re.compile(r"<[bB][rR]\s*/?>(?:\s*<[bB][rR]\s*/?>)+")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    label = _SUPERSETS.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # Only real text encodings: a page may name any codec ("rot13", "zlib", "idna", "utf-7"...).
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_ENCODINGS:
        return None
    return info.name


def _ascii_compatible(name: str) -> bool:
    try:
        return b"<meta charset=x>".decode(name) == "<meta charset=x>"
    except (LookupError, UnicodeError, ValueError):
        return False


def _detect(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: without it, legacy pages without a declaration read as cp1252
        return None
    best = from_bytes(data[:_DETECT_BYTES]).best()
    return _codec(best.encoding) if best is not None else None


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Decode page bytes using the BOM, the HTTP charset, the page's own declaration, then detection."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(name, errors="replace")
    declared: list[str | None] = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        declared.append(_codec(match[1]) if match else None)
    meta = _META_CHARSET.search(data[:_SNIFF_BYTES])
    declared.append(_codec(meta[1].decode("ascii", "ignore")) if meta else None)
    for label in declared:
        # A label that is not ASCII-compatible (UTF-16 without a BOM, EBCDIC) is wrong about the
        # page, or its <meta> could not have been read: browsers ignore it too; detection decides.
        if label and _ascii_compatible(label):
            try:
                return data.decode(label, errors="replace")
            except (LookupError, UnicodeError, ValueError):
                continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    name = _detect(data) or "cp1252"
    try:
        return data.decode(name, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        return data.decode("cp1252", errors="replace")


def prestrip(text: str) -> str:
    """The page without scripts, styles, SVG and comments, and with <br> runs turned into paragraphs."""
    # A scanner rather than one regex with ".*?": an unclosed <script> would make that regex rescan
    # the rest of the page once per opener (quadratic on hostile pages); here each closer that is
    # missing is searched for once only.
    folded = text.lower()
    lowered = folded if len(folded) == len(text) else None
    out: list[str] = []
    pos = 0
    missing: set[str] = set()
    for match in _OPENER.finditer(text):
        start = match.start()
        if start < pos:
            continue
        name = (match[1] or "").lower()
        if name == "script" and "ld+json" in (match[2] or "").lower():
            continue
        if name in missing:
            continue
        closer = _CLOSERS[name]
        end = lowered.find(closer, match.end()) if lowered is not None else _find_ci(text, closer, match.end())
        if end < 0:
            missing.add(name)
            continue
        out.append(text[pos:start])
        gt = text.find(">", end)
        pos = len(text) if gt < 0 else gt + 1
    out.append(text[pos:])
    return _BR_RUN.sub("<p>", "".join(out))


def _find_ci(text: str, needle: str, start: int) -> int:
    # Case-insensitive find for texts whose lower() changes length (rare non-ASCII case mappings).
    match = re.compile(re.escape(needle), re.I).search(text, start)
    return match.start() if match else -1


def parse_html(text: str) -> BeautifulSoup:
    """Parse ``text`` with lxml, after dropping the parts no stage reads."""
    # NUL and other C0 controls make lxml stop or drop content; they never belong in a page.
    text = text.translate(_CONTROLS) if _HAS_CONTROLS.search(text) else text
    text = without_surrogates(text)
    # multi_valued_attributes=None keeps class as one string: splitting every class attribute into a
    # list costs a tenth of the parse, and the cleaner only ever matches patterns against the string.
    with warnings.catch_warnings():
        # A page that is only "http://..." or an XHTML/XML page is still a page to us: bs4's hints
        # about URLs, file names and XML are meant for people calling it by hand.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(prestrip(text), "lxml", multi_valued_attributes=None)


def without_surrogates(text: str) -> str:
    """``text`` with lone surrogates (from a lenient decode) as U+FFFD: no encoder accepts them."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROLS = {c: None for c in range(32) if c not in (9, 10, 13)}
_HAS_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
