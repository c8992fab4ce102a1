"""The chosen blocks as output: plain text (one blank line between paragraphs) and a small clean HTML."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from bs4 import NavigableString, Tag

from pipeline.scoring import Run
from pipeline.selectors import BLOCK_TAGS, TRAILERS

__all__ = ["render"]

_CONTAINERS = {"ul": "ul", "ol": "ol", "blockquote": "blockquote", "figure": "figure"}
_KIND = {"h1": "h2", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h4", "h6": "h4", "li": "li",
         "figcaption": "figcaption", "dt": "p", "dd": "p", "pre": "pre"}
_LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "data-url", "src")
_MAX_TRAILER = 200
# Markers for <br> and cell boundaries while a block is collected; parse_html removed every C0
# control from the page, so these cannot come from its text.
_BR = "\x00"
_CELL = "\x01"
_LINK_TAG = re.compile(r"(<a [^>]*>|</a>)")
_WS = re.compile(r"[ \t\n\r\f]+")


@dataclass
class _Out:
    """Accumulates finished blocks and the HTML of the story."""

    url: str
    dropped: dict[int, str]
    texts: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    text_buf: list[str] = field(default_factory=list)
    html_buf: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=lambda: ["p"])
    pre: int = 0
    cells: list[int] = field(default_factory=lambda: [0])
    trailers: list[str] = field(default_factory=list)
    links: list[bool] = field(default_factory=list)

    def flush(self) -> None:
        raw = "".join(self.text_buf)
        html_raw = "".join(self.html_buf)
        self.text_buf.clear()
        self.html_buf.clear()
        if self.pre:
            text = raw.replace(_BR, "\n").replace(_CELL, "\t").strip("\n")
        else:
            # <br> lines and table cells keep their separators; other whitespace collapses the way a
            # browser collapses it (ASCII whitespace only: U+3000 stays, U+00A0 becomes a space).
            lines = ("\t".join(_WS.sub(" ", cell).strip(" ") for cell in line.split(_CELL)).strip("\t")
                     for line in raw.replace("\u00a0", " ").split(_BR))
            text = "\n".join(line for line in lines if line.strip())
        if not text.strip():
            if "<img" in html_raw:
                self.html.append(f"<p>{html_raw.strip()}</p>")
            return
        if len(text) < _MAX_TRAILER and TRAILERS.search(text):
            self.trailers.append(text)
            return
        self.texts.append(text)
        kind = self.kinds[-1]
        html_raw = _balance_links(html_raw)
        body = " ".join(html_raw.split()) if kind != "pre" else html_raw.strip("\n")
        tag = "p" if kind == "pre" else kind
        self.html.append(f"<{tag}>{body}</{tag}>")


def _balance_links(html: str) -> str:
    # A block that starts or ends inside a link (<a><div>..</div></a>) gets its own balanced <a>.
    if "<a" not in html and "</a>" not in html:
        return html
    out: list[str] = []
    depth = 0
    for piece in _LINK_TAG.split(html):
        if piece == "</a>":
            if depth:
                depth -= 1
                out.append(piece)
            continue
        if piece.startswith("<a "):
            depth += 1
        out.append(piece)
    return "".join(out) + "</a>" * depth


def _src(tag: Tag, base: str) -> str | None:
    for key in _LAZY_SRC:
        value = tag.attrs.get(key)
        if isinstance(value, str) and value.strip() and not value.startswith("data:"):
            return _abs(base, value)
    return None


def _abs(base: str, value: str) -> str | None:
    value = value.strip()
    if value.lower().startswith(("javascript:", "data:", "vbscript:")):
        return None
    try:
        return urljoin(base, value)
    except ValueError:
        return None


def render(items: list[Tag | Run], dropped: dict[int, str], url: str) -> tuple[list[str], str, list[str]]:
    """The text blocks, the clean HTML and the trailer lines that were left out."""
    out = _Out(url, dropped)
    for item in items:
        if isinstance(item, Run):
            for node in item.nodes:
                _emit(node, out)
            out.flush()
        else:
            _emit(item, out)
            out.flush()
    out.flush()
    html = "\n".join(out.html)
    html = re.sub(r"<(ul|ol|blockquote|figure)>\s*</\1>", "", html)
    return out.texts, html, out.trailers


def _emit(root: object, out: _Out) -> None:
    # Iterative walk: entries are nodes to open, or closing callbacks as ("close", tag).
    stack: list[tuple[str, object]] = [("open", root)]
    while stack:
        action, node = stack.pop()
        if action == "close":
            _close(node, out)  # type: ignore[arg-type]
            continue
        if isinstance(node, Tag):
            if id(node) in out.dropped:
                continue
            _open(node, out)
            stack.append(("close", node))
            stack.extend(("open", c) for c in reversed(node.contents))
        elif type(node) is NavigableString:
            text = str(node)
            out.text_buf.append(text)
            out.html_buf.append(htmllib.escape(text if out.pre else text.replace("\n", " "), quote=False))


def _open(tag: Tag, out: _Out) -> None:
    name = tag.name
    if name == "br":
        out.text_buf.append(_BR)
        out.html_buf.append(" ")
    elif name == "img":
        src = _src(tag, out.url)
        if src:
            alt = htmllib.escape(str(tag.attrs.get("alt") or ""))
            out.html_buf.append(f'<img src="{htmllib.escape(src)}" alt="{alt}">')
    elif name == "a":
        href = tag.attrs.get("href")
        link = _abs(out.url, href) if isinstance(href, str) else None
        out.links.append(link is not None)  # an <a> without a usable href is left out, its text kept
        if link:
            out.html_buf.append(f'<a href="{htmllib.escape(link)}">')
    elif name in ("td", "th"):
        if out.cells[-1]:
            out.text_buf.append(_CELL)
            out.html_buf.append(" ")
        out.cells[-1] += 1
    elif name == "tr":
        out.flush()
        out.cells.append(0)
    elif name in BLOCK_TAGS:
        out.flush()
        if name in _CONTAINERS:
            out.html.append(f"<{_CONTAINERS[name]}>")
        kind = _KIND.get(name)
        if kind is None:
            kind = out.kinds[-1] if out.kinds[-1] in ("li", "figcaption") else "p"
        out.kinds.append(kind)
        if name == "pre":
            out.pre += 1


def _close(tag: Tag, out: _Out) -> None:
    name = tag.name
    if name == "a":
        if out.links and out.links.pop():
            out.html_buf.append("</a>")
    elif name == "tr":
        out.flush()
        out.cells.pop()
    elif name in BLOCK_TAGS and name not in ("td", "th"):
        out.flush()
        out.kinds.pop()
        if name == "pre":
            out.pre -= 1
        if name in _CONTAINERS:
            out.html.append(f"</{_CONTAINERS[name]}>")
