"""Feed lists in and out: OPML (what every feed reader exchanges) and YAML."""

from __future__ import annotations

from typing import Any

import yaml
from lxml import etree
from pydantic import ValidationError

from pipeline.errors import ConfigError
from pipeline.registry import Feed

__all__ = ["load_feed_list", "dump_yaml", "dump_opml"]

_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def load_feed_list(data: bytes, source: str = "<input>") -> list[Feed]:
    """Feeds from an OPML or YAML document; ConfigError naming the source and entry otherwise."""
    head = data.lstrip()[:200].lower()
    raw = _from_opml(data, source) if head.startswith(b"<") else _from_yaml(data, source)
    feeds = []
    for number, item in enumerate(raw, start=1):
        try:
            feeds.append(Feed.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"{source}: feed #{number}: {first['msg']}") from exc
    return feeds


def _from_yaml(data: bytes, source: str) -> list[dict[str, Any]]:
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if isinstance(doc, dict):
        doc = doc.get("feeds")
    if not isinstance(doc, list):
        raise ConfigError(f"{source}: expected a list of feeds (or a mapping with a 'feeds' list)")
    return [{"url": item} if isinstance(item, str) else item for item in doc]


def _from_opml(data: bytes, source: str) -> list[dict[str, Any]]:
    try:
        root = etree.fromstring(data, _SAFE_XML)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{source}: not valid OPML: {exc}") from exc
    feeds = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl")
        if not url:
            continue
        # Folders in OPML are nested outlines: their titles become tags.
        tags = [p.get("text") or p.get("title") for p in outline.iterancestors("outline")]
        item: dict[str, Any] = {"url": url, "name": outline.get("title") or outline.get("text")}
        item["tags"] = [t for t in tags if t]
        feeds.append(item)
    return feeds


def dump_yaml(feeds: list[Feed]) -> str:
    """The feeds as a YAML list, with their settings (not their polling state)."""
    items = [feed.model_dump(include={"url", "name", "enabled", "tags", "timezone", "language"},
                             exclude_none=True) for feed in feeds]
    return str(yaml.safe_dump({"feeds": items}, sort_keys=False, allow_unicode=True))


def dump_opml(feeds: list[Feed]) -> str:
    """The feeds as OPML 2.0."""
    opml = etree.Element("opml", version="2.0")
    etree.SubElement(etree.SubElement(opml, "head"), "title").text = "newsflow feeds"
    body = etree.SubElement(opml, "body")
    for feed in feeds:
        etree.SubElement(body, "outline", type="rss", text=feed.name or feed.url,
                         title=feed.name or feed.url, xmlUrl=feed.url)
    return str(etree.tostring(opml, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode())
