"""Inside the chosen story container: drop the blocks that look like boilerplate by their content."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import NavigableString, Tag

from pipeline.scoring import Pass, Run, class_weight, hint
from pipeline.selectors import COMMAS, HEADINGS, SHARE, VIDEO_HOSTS

__all__ = ["prepare_article"]

_ALWAYS = frozenset(["footer", "aside", "link", "object", "embed", "nav"])
_TEXTISH = frozenset(["span", "li", "td", "blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul"])
_AD_WORDS = re.compile(r"^(ad(vertising|vertisement)?|pub(licité)?|werb(ung)?|广告|Реклама|Anuncio)$", re.I)
_LOADING = re.compile(r"^((loading|正在加载|Загрузка|chargement|cargando)(…|\.\.\.)?)$", re.I)
_SHARE_MAX = 500


@dataclass
class _Stats:
    """Counts over a subtree, dropped parts left out."""

    text: str
    links: float
    p: int
    img: int
    li: int
    inputs: int
    embeds: int
    headings: int
    textish: int
    lists: int


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


def _stats(root: Tag, pas: Pass) -> _Stats:
    parts: list[str] = []
    links = 0.0
    counts = {"p": 0, "img": 0, "li": 0, "input": 0, "embed": 0}
    headings = textish = lists = 0
    # (node, link weight, inside heading, inside textish, inside list)
    stack: list[tuple[object, float, bool, bool, bool]] = [(root, 0.0, False, False, False)]
    while stack:
        node, weight, in_h, in_t, in_l = stack.pop()
        if isinstance(node, Tag):
            if id(node) in pas.dropped:
                continue
            name = node.name
            if node is not root:
                if name in counts:
                    counts[name] += 1
                elif name in ("object", "embed", "iframe") and not VIDEO_HOSTS.search(str(node.attrs.get("src", ""))):
                    counts["embed"] += 1
                in_h = in_h or name in HEADINGS
                in_t = in_t or name in _TEXTISH
                in_l = in_l or name in ("ul", "ol")
            if name == "a" and not weight:
                href = str(node.attrs.get("href", ""))
                weight = 0.3 if href.startswith("#") else 1.0
            stack.extend((c, weight, in_h, in_t, in_l) for c in reversed(node.contents))
        elif type(node) is NavigableString:
            text = " ".join(node.split())
            if text:
                size = len(text) + 1
                parts.append(text)
                links += size * weight
                headings += size if in_h else 0
                textish += size if in_t else 0
                lists += size if in_l else 0
    return _Stats(" ".join(parts), links, counts["p"], counts["img"], counts["li"], counts["input"],
                  counts["embed"], headings, textish, lists)


def _is_data_table(table: Tag) -> bool:
    if str(table.attrs.get("role", "")) == "presentation" or str(table.attrs.get("datatable", "")) == "0":
        return False
    if table.attrs.get("summary"):
        return True
    caption = table.find("caption")
    if isinstance(caption, Tag) and caption.contents:
        return True
    if table.find(["thead", "tfoot", "colgroup", "th"]):
        return True
    if table.find("table"):
        return False
    rows = table.find_all("tr")
    columns = max((len(r.find_all(["td", "th"], recursive=False)) for r in rows), default=0)
    if len(rows) == 1 or columns == 1:
        return False
    return len(rows) >= 10 or columns > 4 or len(rows) * columns > 10


def _inside(tag: Tag, names: tuple[str, ...], data_tables: set[int]) -> bool:
    parent = tag.parent
    while isinstance(parent, Tag):
        if parent.name == "code" or (parent.name == "table" and id(parent) in data_tables):
            return True
        parent = parent.parent
    return False


def _shady(tag: Tag, pas: Pass, data_tables: set[int]) -> str | None:
    """Why ``tag`` looks like boilerplate by its content, or None (readability's cleanConditionally)."""
    name = tag.name
    if name == "table" and id(tag) in data_tables:
        return None
    if _inside(tag, ("table", "code"), data_tables):
        return None
    weight = class_weight(tag, pas.flags)
    if weight < 0:
        return "negative class/id"
    stats = _stats(tag, pas)
    text = stats.text
    if len(COMMAS.findall(text)) >= 10:
        return None
    length = len(text)
    is_list = name in ("ul", "ol") or (length > 0 and stats.lists / length > 0.9)
    if _AD_WORDS.match(text) or _LOADING.match(text):
        return "ad or loading placeholder"
    density = stats.links / length if length else 0.0
    in_figure = tag.find_parent("figure") is not None
    heading_density = stats.headings / length if length else 0.0
    reason = None
    if not in_figure and stats.img > 1 and stats.p / stats.img < 0.5:
        reason = "more images than paragraphs"
    elif not is_list and stats.li - 100 > stats.p:
        reason = "list items outside a list"
    elif stats.inputs > stats.p // 3:
        reason = "form inputs"
    elif (not is_list and not in_figure and heading_density < 0.9 and length < 25
          and (stats.img == 0 or stats.img > 2) and density > 0):
        reason = "short and linked"
    elif not is_list and weight < 25 and density > 0.2:
        reason = f"link density {density:.2f}"
    elif weight >= 25 and density > 0.5:
        reason = f"link density {density:.2f}"
    elif (stats.embeds == 1 and length < 75) or stats.embeds > 1:
        reason = "embeds"
    elif stats.img == 0 and stats.textish == 0:
        reason = "no content"
    if reason and is_list:
        # A plain list of images (one image per item) stays.
        if all(len([c for c in li.contents if isinstance(c, Tag)]) <= 1 for li in tag.find_all("li")):
            if stats.img and stats.img == len(tag.find_all("li")):
                return None
    return reason


def prepare_article(items: list[Tag | Run], pas: Pass) -> None:
    """Drop forms, footers, share bars, negative headings and content-shady blocks inside ``items``."""
    for item in items:
        if isinstance(item, Run):
            continue
        nodes = _descendants(item, pas)
        data_tables = {id(t) for t in nodes if t.name == "table" and _is_data_table(t)}
        for node in nodes[1:]:
            if id(node) in pas.dropped:
                continue
            name = node.name
            if name in _ALWAYS:
                pas.drop(node, f"{name} element")
            elif SHARE.search(hint(node)) and len(node.get_text()) < _SHARE_MAX:
                pas.drop(node, "share or follow block")
            elif name in ("h1", "h2") and class_weight(node, pas.flags) < 0:
                pas.drop(node, "heading with a negative class/id")
        if not pas.flags.clean_conditionally:
            continue
        for node in reversed(nodes):
            if id(node) in pas.dropped or node.name not in ("form", "fieldset", "table", "ul", "div"):
                continue
            if node is item and len(items) == 1:
                continue
            reason = _shady(node, pas, data_tables)
            if reason:
                pas.drop(node, reason)
