"""Find the story's container: score paragraphs by text, commas and class hints, let scores flow up.

Nothing is removed from the tree here: dropped nodes are recorded (with the reason) in ``Pass.dropped``,
so a retry with looser rules can run again on the same tree and ``explain`` can say what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bs4 import NavigableString, Tag

from pipeline.selectors import (
    BLOCK_INSIDE_DIV, BYLINE, COMMAS, HIDDEN_STYLE, JUNK_TAGS, MAYBE_CONTENT, NEGATIVE, PHRASING_TAGS,
    POSITIVE, SCORED_TAGS, SLUG_ID, UNLIKELY, UNLIKELY_MORE, UNLIKELY_ROLES,
)
from pipeline.titles import text_similarity

__all__ = ["Run", "Pass", "Flags", "score_page", "block_holders", "hint", "class_weight", "link_density", "text_of"]


@dataclass
class Run:
    """Text and inline elements sitting directly in a div that also holds blocks: a virtual paragraph."""

    parent: Tag
    nodes: list[object]
    text: str


@dataclass(frozen=True)
class Flags:
    """The rules a pass applies; a retry turns them off one by one when too little text was found."""

    strip_unlikely: bool = True
    weight_classes: bool = True
    clean_conditionally: bool = True


@dataclass
class Pass:
    """One scoring pass: its dropped nodes with reasons, candidate scores and the chosen container."""

    flags: Flags
    dropped: dict[int, str] = field(default_factory=dict)
    scores: dict[int, float] = field(default_factory=dict)
    nodes: dict[int, Tag] = field(default_factory=dict)
    as_paragraph: set[int] = field(default_factory=set)
    runs: dict[int, list[Run]] = field(default_factory=dict)
    byline_found: bool = False
    bylines: list[str] = field(default_factory=list)
    top: Tag | None = None
    log: list[tuple[Tag, str]] = field(default_factory=list)
    visited: list[Tag] = field(default_factory=list)
    text_len: dict[int, int] = field(default_factory=dict)
    link_len: dict[int, float] = field(default_factory=dict)
    commas: dict[int, int] = field(default_factory=dict)

    def drop(self, tag: Tag, reason: str) -> None:
        """Leave ``tag`` (and all inside it) out of the story, for ``reason``."""
        self.dropped[id(tag)] = reason
        self.log.append((tag, reason))


def hint(tag: Tag) -> str:
    """The class names and id of ``tag`` as one string, for the class/id patterns."""
    classes = tag.attrs.get("class")
    ident = tag.attrs.get("id")
    out = " ".join(classes) if isinstance(classes, list) else str(classes or "")
    return f"{out} {ident}" if ident else out


def _layout_hint(tag: Tag) -> str:
    # class and id, less an id that is a heading slug.
    ident = str(tag.attrs.get("id", ""))
    classes = tag.attrs.get("class")
    text = " ".join(classes) if isinstance(classes, list) else str(classes or "")
    return text if SLUG_ID.match(ident) else f"{text} {ident}"


def class_weight(tag: Tag, flags: Flags) -> int:
    """+25 per positive and -25 per negative class or id hint (readability's weights)."""
    if not flags.weight_classes:
        return 0
    weight = 0
    for value in (tag.attrs.get("class"), tag.attrs.get("id")):
        text = " ".join(value) if isinstance(value, list) else str(value or "")
        if text:
            if NEGATIVE.search(text):
                weight -= 25
            if POSITIVE.search(text):
                weight += 25
    return weight


def text_of(node: object) -> str:
    """Whitespace-collapsed text of a tag, a string or a run."""
    if isinstance(node, Run):
        return node.text
    if isinstance(node, Tag):
        return " ".join(node.get_text().split())
    return " ".join(str(node).split())


def _is_hidden(tag: Tag) -> bool:
    attrs = tag.attrs
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return "fallback-image" not in hint(tag)
    style = attrs.get("style")
    return bool(style and HIDDEN_STYLE.search(str(style)))


def block_holders(root: Tag) -> set[int]:
    """Every element with a block-level descendant, found bottom-up in one sweep."""
    holders: set[int] = set()
    for el in root.descendants:
        if type(el) is not Tag or el.name not in BLOCK_INSIDE_DIV:
            continue
        parent = el.parent
        while parent is not None and id(parent) not in holders:
            holders.add(id(parent))
            parent = parent.parent
    return holders


def _is_phrasing(node: object, holders: set[int]) -> bool:
    if isinstance(node, Tag):
        return node.name in PHRASING_TAGS and id(node) not in holders
    return type(node) is NavigableString


def _runs(div: Tag, holders: set[int]) -> list[Run]:
    runs: list[Run] = []
    current: list[object] = []
    for child in div.contents:
        if _is_phrasing(child, holders):
            current.append(child)
            continue
        if current:
            runs.append(Run(div, current, " ".join("".join(text_of(n) + " " for n in current).split())))
            current = []
    if current:
        runs.append(Run(div, current, " ".join("".join(text_of(n) + " " for n in current).split())))
    return [r for r in runs if r.text]


def _walk(root: Tag, pas: Pass, title: str | None, holders: set[int]) -> list[Tag | Run]:
    """Drop junk, hidden and unlikely nodes; return the elements (and runs) to score, in page order."""
    to_score: list[Tag | Run] = []
    flags = pas.flags
    stack: list[tuple[Tag, bool]] = [(root, False)]
    while stack:
        tag, protected = stack.pop()
        name = tag.name
        if name in JUNK_TAGS:
            pas.drop(tag, "junk tag")
            continue
        if tag.attrs and tag is not root:
            if _is_hidden(tag):
                pas.drop(tag, "hidden")
                continue
            match = hint(tag)
            role = str(tag.attrs.get("role", "")).lower()
            if len(pas.bylines) < 5 and (BYLINE.search(match) or "author" in str(tag.attrs.get("itemprop", ""))
                                         or "author" in (tag.attrs.get("rel") or ())):
                text = text_of(tag)
                if 0 < len(text) < 100:
                    # The first byline leaves the text; later ones are only noted (for metadata).
                    pas.bylines.append(text)
                    if not pas.byline_found:
                        pas.byline_found = True
                        pas.drop(tag, "byline")
                        continue
            if flags.strip_unlikely and not protected and name not in ("body", "a"):
                layout = _layout_hint(tag)
                found = UNLIKELY.search(layout) or UNLIKELY_MORE.search(layout)
                if found and not MAYBE_CONTENT.search(match):
                    pas.drop(tag, f"unlikely class/id {found[0]!r}")
                    continue
                if role in UNLIKELY_ROLES:
                    pas.drop(tag, f"role {role}")
                    continue
        if name in ("h1", "h2") and title and text_similarity(title, text_of(tag)) > 0.75:
            pas.drop(tag, "repeats the title")
            continue
        if name in ("div", "section", "header", "h1", "h2", "h3", "h4", "h5", "h6") and _is_empty(tag):
            pas.drop(tag, "empty")
            continue
        if name in SCORED_TAGS:
            to_score.append(tag)
        elif name == "div":
            if id(tag) not in holders:
                pas.as_paragraph.add(id(tag))
                to_score.append(tag)
            else:
                runs = _runs(tag, holders)
                if runs:
                    pas.runs[id(tag)] = runs
                    to_score.extend(runs)
        pas.visited.append(tag)
        keep = protected or name in ("table", "code", "pre")
        stack.extend((c, keep) for c in reversed(tag.contents) if isinstance(c, Tag))
    return to_score


def _is_empty(tag: Tag) -> bool:
    for child in tag.contents:
        if isinstance(child, Tag):
            if child.name not in ("br", "hr"):
                return False
        elif str(child).strip():
            return False
    return True


def _initial(tag: Tag, flags: Flags) -> float:
    name = tag.name
    base = 0.0
    if name == "div":
        base = 5
    elif name in ("pre", "td", "blockquote"):
        base = 3
    elif name in ("address", "ol", "ul", "dl", "dd", "dt", "li", "form"):
        base = -3
    elif name in ("h1", "h2", "h3", "h4", "h5", "h6", "th"):
        base = -5
    return base + class_weight(tag, flags)


def link_density(node: object, pas: Pass) -> float:
    """Share of the node's text that sits inside links (dropped parts not counted)."""
    if isinstance(node, Run):
        total = len(node.text)
        linked = sum(len(text_of(n)) for n in node.nodes if isinstance(n, Tag) and n.name == "a")
        return linked / total if total else 0.0
    if isinstance(node, Tag) and id(node) in pas.text_len:
        size = pas.text_len[id(node)]
        return pas.link_len[id(node)] / size if size else 0.0
    total = linked = 0
    stack: list[tuple[object, bool]] = [(node, False)]
    while stack:
        item, in_link = stack.pop()
        if isinstance(item, Tag):
            if id(item) in pas.dropped:
                continue
            in_link = in_link or item.name == "a"
            stack.extend((c, in_link) for c in item.contents)
        elif type(item) is NavigableString:
            size = len(item.strip())
            total += size
            if in_link:
                linked += size
    return linked / total if total else 0.0


def _measure(pas: Pass) -> None:
    # Text and link-text lengths of every kept element, bottom-up in one sweep (children come
    # after their parent in page order, so reversed order sees them first).
    text_len, link_len, commas = pas.text_len, pas.link_len, pas.commas
    for tag in reversed(pas.visited):
        total = count = 0
        linked = 0.0
        for child in tag.contents:
            if type(child) is NavigableString:
                size = len(child.strip())
                if size:
                    total += size + 1  # +1: the space between this string and the next
                    if "," in child or "\uff0c" in child or "\u060c" in child:
                        count += len(COMMAS.findall(child))
            elif isinstance(child, Tag):
                key = id(child)
                if key in text_len:
                    total += text_len[key]
                    linked += link_len[key]
                    count += commas[key]
        if tag.name == "a":
            href = tag.attrs.get("href")
            linked = total * (0.3 if isinstance(href, str) and href.startswith("#") else 1.0)
        text_len[id(tag)] = total
        link_len[id(tag)] = linked
        commas[id(tag)] = count


def score_page(root: Tag, flags: Flags, title: str | None, holders: set[int]) -> Pass:
    """Run one pass: drop boilerplate, score paragraphs, pick the top container."""
    pas = Pass(flags)
    scored = _walk(root, pas, title, holders)
    _measure(pas)
    for el in scored:
        if isinstance(el, Run):
            length, count = len(el.text), len(COMMAS.findall(el.text))
        else:
            length, count = pas.text_len.get(id(el), 0) - 1, pas.commas.get(id(el), 0)
        if length < 25:
            continue
        parent = el.parent
        score = 1 + count + min(length // 100, 3)
        level = 0
        while isinstance(parent, Tag) and level < 5 and parent.name != "[document]":
            key = id(parent)
            if key not in pas.scores:
                pas.scores[key] = _initial(parent, flags)
                pas.nodes[key] = parent
            divider = 1 if level == 0 else 2 if level == 1 else level * 3
            pas.scores[key] += score / divider
            parent = parent.parent
            level += 1
    for key, tag in pas.nodes.items():
        pas.scores[key] *= 1 - link_density(tag, pas)
    pas.top = _choose(pas)
    return pas


def _choose(pas: Pass) -> Tag | None:
    ranked = sorted(pas.nodes, key=lambda k: pas.scores[k], reverse=True)[:5]
    if not ranked or pas.nodes[ranked[0]].name in ("body", "html"):
        return None
    top = pas.nodes[ranked[0]]
    top_score = pas.scores[ranked[0]]
    if top.name in _TABLE_PARTS:
        # A layout table's row scores from all its cells (menu, story, sidebar): take the best cell.
        cells = [c for c in top.find_all(["td", "th"]) if id(c) in pas.scores]
        if cells:
            top = max(cells, key=lambda c: pas.scores[id(c)])
            top_score = pas.scores[id(top)]
    # Several near-top candidates under one ancestor: the story is split, take the ancestor.
    alternatives = [_ancestor_ids(pas.nodes[k]) for k in ranked[1:] if pas.scores[k] >= 0.75 * top_score]
    if len(alternatives) >= 3:
        parent = top.parent
        while isinstance(parent, Tag) and parent.name not in ("body", "html", "[document]"):
            if sum(id(parent) in a for a in alternatives) >= 3:
                top = parent
                break
            parent = parent.parent
    _ensure(top, pas)
    # Climb while the parent scores higher: the container holds more of the story.
    parent, last = top.parent, pas.scores[id(top)]
    threshold = last / 3
    while isinstance(parent, Tag) and parent.name not in ("body", "html", "[document]"):
        if parent.name in _TABLE_PARTS:
            break  # climbing out of a layout cell would take the menu and sidebar cells too
        if id(parent) not in pas.scores:
            parent = parent.parent
            continue
        score = pas.scores[id(parent)]
        if score < threshold:
            break
        if score > last:
            top = parent
            break
        last = score
        parent = parent.parent
    # An only child carries nothing its parent does not: take the parent.
    parent = top.parent
    while isinstance(parent, Tag) and parent.name not in ("body", "html", "[document]") and _element_count(
            parent, pas) == 1:
        top, parent = parent, parent.parent
    _ensure(top, pas)
    return top


_TABLE_PARTS = frozenset(["tr", "tbody", "thead", "tfoot", "table"])


def _ensure(tag: Tag, pas: Pass) -> None:
    if id(tag) not in pas.scores:
        pas.scores[id(tag)] = _initial(tag, pas.flags)
        pas.nodes[id(tag)] = tag


def _ancestor_ids(tag: Tag) -> set[int]:
    out = set()
    parent = tag.parent
    while parent is not None:
        out.add(id(parent))
        parent = parent.parent
    return out


def _element_count(tag: Tag, pas: Pass) -> int:
    return sum(1 for c in tag.contents if isinstance(c, Tag) and id(c) not in pas.dropped)
