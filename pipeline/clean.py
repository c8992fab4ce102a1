"""The cleaner: the story's own blocks, without navigation, share bars, comments and trailers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Tag

from pipeline.conditional import prepare_article
from pipeline.render import render
from pipeline.scoring import Flags, Pass, Run, block_holders, hint, link_density, score_page, text_of
from pipeline.selectors import MAYBE_CONTENT, UNLIKELY

__all__ = ["Cleaned", "clean"]

# Below this many characters a pass is retried with looser rules (readability's char threshold).
_MIN_CHARS = 500
_ATTEMPTS = (
    Flags(),
    Flags(strip_unlikely=False),
    Flags(strip_unlikely=False, weight_classes=False),
    Flags(strip_unlikely=False, weight_classes=False, clean_conditionally=False),
)
# A page whose paragraphs add up to less than this (readability's readerable measure) and whose
# extracted text is short holds no story: a home page, a login wall, an error page.
_MIN_READERABLE = 10.0
# ... unless it still has two real paragraphs (sentences of some length): a short story is a story.
_MAX_LINK_DENSITY = 0.5
_SENTENCE_END = frozenset('.!?"\'”’»…。！？')


@dataclass(frozen=True)
class Cleaned:
    """The story's text (paragraphs separated by a blank line) and a small clean HTML of it."""

    text: str
    html: str
    has_article: bool
    explain: list[dict[str, str]] = field(default_factory=list)
    bylines: list[str] = field(default_factory=list)  # byline texts in page order, outside boilerplate


def clean(soup: BeautifulSoup, url: str, title: str | None = None, *, explain: bool = False) -> Cleaned:
    """Reduce the page to its story; ``title`` (when known) lets a heading that repeats it go.

    With ``explain``, ``Cleaned.explain`` lists the kept and dropped blocks with their reasons.
    """
    root = soup.body if isinstance(soup.body, Tag) else soup
    best: tuple[int, list[str], str, Pass, list[Tag | Run], list[str]] | None = None
    holders = block_holders(root)
    bylines: list[str] | None = None
    for flags in _ATTEMPTS:
        pas = score_page(root, flags, title, holders)
        bylines = pas.bylines if bylines is None else bylines
        items = _assemble(root, pas)
        prepare_article(items, pas)
        texts, html, trailers = render(items, pas.dropped, url)
        size = sum(len(t) for t in texts)
        if best is None or size > best[0]:
            best = (size, texts, html, pas, items, trailers)
        if size >= _MIN_CHARS:
            break
    assert best is not None
    size, texts, html, pas, items, trailers = best
    sentences = sum(1 for t in texts if len(t) >= 80 and t.rstrip()[-1:] in _SENTENCE_END)
    has_article = size >= _MIN_CHARS or sentences >= 2 or readerable_score(root) >= _MIN_READERABLE
    if has_article and _items_link_density(items, pas) > _MAX_LINK_DENSITY:
        has_article = False  # what is left is mostly links: menus and teaser lists, not a story
    if not has_article:
        texts, html = [], ""
    notes = _explain(pas, items, trailers, has_article) if explain else []
    return Cleaned("\n\n".join(texts), html, has_article, notes, bylines or [])


def _assemble(root: Tag, pas: Pass) -> list[Tag | Run]:
    """The top container and those of its siblings that belong to the story."""
    top = pas.top
    if top is None:
        return [c for c in root.contents if isinstance(c, Tag) and id(c) not in pas.dropped] + pas.runs.get(
            id(root), [])
    parent = top.parent
    if not isinstance(parent, Tag):
        return [top]
    top_score = pas.scores.get(id(top), 0.0)
    threshold = max(10.0, top_score * 0.2)
    top_class = top.attrs.get("class")
    runs = {id(r.nodes[0]): r for r in pas.runs.get(id(parent), [])}
    items: list[Tag | Run] = []
    for child in parent.contents:
        if id(child) in runs:
            run = runs[id(child)]
            if _paragraph_like(run.text, link_density(run, pas)):
                items.append(run)
            continue
        if not isinstance(child, Tag) or id(child) in pas.dropped:
            continue
        if child is top:
            items.append(child)
            continue
        bonus = top_score * 0.2 if top_class and child.attrs.get("class") == top_class else 0.0
        score = pas.scores.get(id(child))
        if score is not None and score + bonus >= threshold:
            items.append(child)
        elif child.name == "p" or id(child) in pas.as_paragraph:
            if _paragraph_like(text_of(child), link_density(child, pas)):
                items.append(child)
    return items


def _items_link_density(items: list[Tag | Run], pas: Pass) -> float:
    total = linked = 0.0
    for item in items:
        if isinstance(item, Run):
            size = len(item.text)
            total, linked = total + size, linked + size * link_density(item, pas)
        else:
            total += pas.text_len.get(id(item), 0)
            linked += pas.link_len.get(id(item), 0.0)
    return linked / total if total else 0.0


def _paragraph_like(text: str, density: float) -> bool:
    # A long, not linky paragraph, or a short one that has no link and ends a sentence.
    if len(text) > 80:
        return density < 0.25
    return 0 < len(text) and density == 0 and (". " in text or text.endswith("."))


def _explain(pas: Pass, items: list[Tag | Run], trailers: list[str], has_article: bool) -> list[dict[str, str]]:
    loose = [name for name, on in vars(pas.flags).items() if not on]
    rules = f" (retry without {', '.join(loose)})" if loose else ""
    out: list[dict[str, str]] = [{"action": "chose", "block": _describe(pas.top) if pas.top else "body",
                                  "reason": f"highest-scoring container{rules}", "text": ""}]
    for item in items:
        block = "text" if isinstance(item, Run) else _describe(item)
        out.append({"action": "kept", "block": block, "reason": "story container or sibling",
                    "text": text_of(item)[:80]})
    for gone, reason in pas.log:
        if reason != "junk tag":
            out.append({"action": "dropped", "block": _describe(gone), "reason": reason,
                        "text": text_of(gone)[:80]})
    kept = {id(i) for i in items if isinstance(i, Tag)}
    node: Tag | None = pas.top
    while node is not None and isinstance(node.parent, Tag):
        for sibling in node.parent.contents:
            if isinstance(sibling, Tag) and id(sibling) not in kept and id(sibling) not in pas.dropped \
                    and sibling is not node and text_of(sibling):
                out.append({"action": "dropped", "block": _describe(sibling), "reason": "outside the story container",
                            "text": text_of(sibling)[:80]})
        node = node.parent
    for line in trailers:
        out.append({"action": "dropped", "block": "text", "reason": "widget trailer", "text": line[:80]})
    if not has_article:
        out.append({"action": "dropped", "block": "page", "reason": "no story found", "text": ""})
    return out


def _describe(tag: Tag) -> str:
    classes = str(tag.attrs.get("class") or "").split()
    ident = tag.attrs.get("id")
    return tag.name + (f"#{ident}" if ident else "") + "".join(f".{c}" for c in classes[:3])


def readerable_score(root: Tag) -> float:
    """readability's isProbablyReaderable measure: sum of sqrt(length - 140) over long paragraphs."""
    total = 0.0
    for el in root.find_all(["p", "pre", "article"]):
        if UNLIKELY.search(hint(el)) and not MAYBE_CONTENT.search(hint(el)):
            continue
        length = len(el.get_text().strip())
        if length >= 140:
            total += math.sqrt(length - 140)
            if total > 20:
                break
    return total
