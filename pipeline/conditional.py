"""Inside the chosen story container: drop the blocks that look like boilerplate by their content."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import NavigableString, Tag

from pipeline.scoring import Pass, Run, class_weight, hint
from pipeline.selectors import COMMAS, CREDIT, HEADINGS, SHARE, VIDEO_HOSTS

__all__ = ["prepare_article"]

_ALWAYS = frozenset(["footer", "aside", "link", "object", "embed", "nav"])
_TEXTISH = frozenset(["span", "li", "td", "blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul"])
_AD_WORDS = re.compile(r"^(ad(vertising|vertisement)?|pub(licité)?|werb(ung)?|广告|Реклама|Anuncio)$", re.I)
_LOADING = re.compile(r"^((loading|正在加载|Загрузка|chargement|cargando)(…|\.\.\.)?)$", re.I)
_SHARE_MAX = 500
_CREDIT_MAX = 120
_CLEANED = frozenset(["form", "fieldset", "table", "ul", "div"])


_COUNTED = frozenset(["p", "img", "li", "input"])


@dataclass
class _Stats:
    """Sums over a subtree, dropped parts left out; built bottom-up from the children's sums."""

    length: int = 0
    links: float = 0.0
    commas: int = 0
    p: int = 0
    img: int = 0
    li: int = 0
    inputs: int = 0
    embeds: int = 0
    headings: int = 0
    textish: int = 0
    lists: int = 0
    data_table: bool = False
    short: str | None = ""  # the text itself while it is short (for the ad-word test), else None


def _descendants(root: Tag, pas: Pass) -> list[Tag]:
    out: list[Tag] = []
    stack = [root]
    while stack:
        tag = stack.pop()
        if id(tag) in pas.dropped:
            continue
        out.append(tag)
        stack.extend(c for c in reversed(tag.contents) if isinstance(c, Tag))
    return out


def _stats(tag: Tag, done: dict[int, _Stats], pas: Pass, tables: set[int]) -> _Stats:
    """``tag``'s sums from its direct strings and its kept children's sums (already in ``done``)."""
    st = _Stats()
    for child in tag.contents:
        if type(child) is NavigableString:
            size = len(child.strip())
            if size:
                st.length += size + 1
                st.short = f"{st.short} {child.strip()}" if st.short is not None and st.length < 40 else None
                st.commas += len(COMMAS.findall(child)) if "," in child or "\uff0c" in child else 0
            continue
        if not isinstance(child, Tag) or id(child) in pas.dropped:
            continue
        sub = done.get(id(child))
        if sub is None:
            continue
        name = child.name
        st.length += sub.length
        st.commas += sub.commas
        if sub.short:
            st.short = f"{st.short} {sub.short}" if st.short is not None and st.length < 40 else None
        elif sub.short is None:
            st.short = None
        if name == "a":
            href = str(child.attrs.get("href", ""))
            st.links += sub.length * (0.3 if href.startswith("#") else 1.0)
        else:
            st.links += sub.links
        st.p += sub.p + (name == "p" or id(child) in pas.as_paragraph)
        st.img += sub.img + (name == "img")
        st.li += sub.li + (name == "li")
        st.inputs += sub.inputs + (name == "input")
        is_embed = name in ("object", "embed", "iframe") and not VIDEO_HOSTS.search(str(child.attrs.get("src", "")))
        st.embeds += sub.embeds + is_embed
        st.headings += sub.length if name in HEADINGS else sub.headings
        st.textish += sub.length if name in _TEXTISH else sub.textish
        st.lists += sub.length if name in ("ul", "ol") else sub.lists
        st.data_table = st.data_table or sub.data_table or id(child) in tables
    return st


def _is_data_table(table: Tag, holds_table: set[int]) -> bool:
    """readability's data-table test, on the table's own rows only (no deep searches)."""
    if str(table.attrs.get("role", "")) == "presentation" or str(table.attrs.get("datatable", "")) == "0":
        return False
    if table.attrs.get("summary"):
        return True
    sections = [table]
    rows: list[Tag] = []
    for child in table.contents:
        if not isinstance(child, Tag):
            continue
        if child.name in ("thead", "tfoot", "colgroup") or (child.name == "caption" and child.contents):
            return True
        if child.name == "tbody":
            sections.append(child)
    for section in sections:
        rows.extend(c for c in section.contents if isinstance(c, Tag) and c.name == "tr")
    columns = 0
    for row in rows:
        cells = [c for c in row.contents if isinstance(c, Tag) and c.name in ("td", "th")]
        if any(c.name == "th" for c in cells):
            return True
        columns = max(columns, len(cells))
    if id(table) in holds_table:
        return False
    if len(rows) == 1 or columns == 1:
        return False
    return len(rows) >= 10 or columns > 4 or len(rows) * columns > 10


def _table_holders(nodes: list[Tag]) -> set[int]:
    # Every node with a table inside it, marked upwards once per table (amortized linear).
    out: set[int] = set()
    for node in nodes:
        if node.name == "table":
            parent = node.parent
            while parent is not None and id(parent) not in out:
                out.add(id(parent))
                parent = parent.parent
    return out


def _shady(tag: Tag, st: _Stats, pas: Pass, in_figure: bool) -> str | None:
    """Why ``tag`` looks like boilerplate by its content, or None (readability's cleanConditionally)."""
    weight = class_weight(tag, pas.flags)
    if weight < 0:
        return "negative class/id"
    if st.commas >= 10:
        return None
    length = st.length
    is_list = tag.name in ("ul", "ol") or (length > 0 and st.lists / length > 0.9)
    if st.short:
        text = " ".join(st.short.split())
        if _AD_WORDS.match(text) or _LOADING.match(text):
            return "ad or loading placeholder"
    density = st.links / length if length else 0.0
    heading_density = st.headings / length if length else 0.0
    reason = None
    if not in_figure and st.img > 1 and st.p / st.img < 0.5:
        reason = "more images than paragraphs"
    elif not is_list and st.li - 100 > st.p:
        reason = "list items outside a list"
    elif st.inputs > st.p // 3:
        reason = "form inputs"
    elif (not is_list and not in_figure and heading_density < 0.9 and length < 25
          and (st.img == 0 or st.img > 2) and density > 0):
        reason = "short and linked"
    elif not is_list and weight < 25 and density > 0.2:
        reason = f"link density {density:.2f}"
    elif weight >= 25 and density > 0.5:
        reason = f"link density {density:.2f}"
    elif (st.embeds == 1 and length < 75) or st.embeds > 1:
        reason = "embeds"
    elif st.img == 0 and st.textish == 0:
        reason = "no content"
    if reason and is_list and st.img:
        # A plain list of images (one image per item) stays.
        items = [c for c in tag.contents if isinstance(c, Tag)]
        if all(len([g for g in c.contents if isinstance(g, Tag)]) <= 1 for c in items) and st.img == st.li:
            return None
    return reason


def _context(nodes: list[Tag], data_tables: set[int]) -> tuple[set[int], set[int]]:
    # Top-down, once: which nodes sit inside code or a data table (never cleaned), and inside a figure.
    protected: set[int] = set()
    figure: set[int] = set()
    for node in nodes[1:]:
        parent = node.parent
        key = id(parent)
        if key in protected or (parent is not None and (parent.name == "code" or key in data_tables)):
            protected.add(id(node))
        if key in figure or (parent is not None and parent.name == "figure"):
            figure.add(id(node))
    return protected, figure


def prepare_article(items: list[Tag | Run], pas: Pass) -> None:
    """Drop forms, footers, share bars, negative headings and content-shady blocks inside ``items``."""
    for item in items:
        if isinstance(item, Run):
            continue
        nodes = _descendants(item, pas)
        for node in nodes[1:]:
            name = node.name
            if name in _ALWAYS:
                pas.drop(node, f"{name} element")
            elif SHARE.search(hint(node)) and pas.text_len.get(id(node), 0) < _SHARE_MAX:
                pas.drop(node, "share or follow block")
            elif CREDIT.search(hint(node)) and pas.text_len.get(id(node), 0) < _CREDIT_MAX:
                pas.drop(node, "image credit")
            elif name in ("h1", "h2") and class_weight(node, pas.flags) < 0:
                pas.drop(node, "heading with a negative class/id")
        if not pas.flags.clean_conditionally:
            continue
        holds_table = _table_holders(nodes)
        data_tables = {id(t) for t in nodes if t.name == "table" and _is_data_table(t, holds_table)}
        protected, figure = _context(nodes, data_tables)
        done: dict[int, _Stats] = {}
        # Children before parents, so a dropped block no longer counts for its container.
        for node in reversed(nodes):
            if id(node) in pas.dropped:
                continue
            st = done[id(node)] = _stats(node, done, pas, data_tables)
            if node.name not in _CLEANED or id(node) in protected or id(node) in data_tables:
                continue
            if id(node) in pas.as_paragraph:
                continue  # a div holding only text and inline elements is a paragraph
            if node is item and len(items) == 1:
                continue
            if st.data_table:  # a block holding a data table keeps it
                continue
            reason = _shady(node, st, pas, id(node) in figure)
            if reason:
                pas.drop(node, reason)
