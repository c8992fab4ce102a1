import pytest

from pipeline.errors import FeedParseError
from pipeline.feeds import parse_feed

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>World</title><link>http://127.0.0.1/</link>
<item><title>Russia won\xe2\x80\x99t recognize NK\xe2\x80\x99s nuclear status: Putin</title>
<link>http://127.0.0.1/a.html</link><guid isPermaLink="false">gt-1065424</guid>
<pubDate>Thu, 07 Sep 2017 00:18:40 +0800</pubDate><category>Asia-Pacific</category>
<description>Putin said &lt;b&gt;no&lt;/b&gt;.</description></item>
<item><title>No guid</title><link>http://127.0.0.1/b.html</link></item>
<item><title>No link at all</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Tech</title>
<link rel="hub" href="http://127.0.0.1:9/hub"/>
<entry><id>urn:uuid:1</id><title>Chips</title><link href="http://127.0.0.1/c.html"/>
<updated>2024-03-01T10:00:00Z</updated><author><name>Ada Byte</name></author></entry>
</feed>"""


def test_rss_entries_with_keys_dates_and_tags() -> None:
    feed = parse_feed(RSS, "http://127.0.0.1/world.xml", timezone="Asia/Shanghai")
    assert feed.title == "World"
    assert [e.link for e in feed.entries] == ["http://127.0.0.1/a.html", "http://127.0.0.1/b.html"]
    first, second = feed.entries
    assert first.key == "gt-1065424"
    assert first.title == "Russia won’t recognize NK’s nuclear status: Putin"
    assert first.published == "Thu, 07 Sep 2017 00:18:40 +0800"
    assert first.tags == ["Asia-Pacific"]
    assert first.timezone == "Asia/Shanghai"
    assert second.key == "http://127.0.0.1/b.html"  # no guid: the link is the key


def test_atom_entry_authors_and_hub() -> None:
    feed = parse_feed(ATOM, "http://127.0.0.1/tech.atom")
    assert feed.hub == "http://127.0.0.1:9/hub"
    (entry,) = feed.entries
    assert entry.key == "urn:uuid:1" and entry.authors == ["Ada Byte"]


def test_an_updated_entry_changes_fingerprint_not_key() -> None:
    before = parse_feed(ATOM, "http://127.0.0.1/tech.atom").entries[0]
    after = parse_feed(ATOM.replace(b"10:00:00Z", b"11:00:00Z"), "http://127.0.0.1/tech.atom").entries[0]
    assert before.key == after.key
    assert before.fingerprint != after.fingerprint


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"<!DOCTYPE html><html><body><p>Welcome</p></body></html>", "HTML page"),
        (b'{"not": "a feed"}', "not XML"),
        (b'<?xml version="1.0"?><sitemap/>', "XML without"),
    ],
)
def test_not_a_feed_is_a_clear_parse_error(body: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError, match=reason) as info:
        parse_feed(body, "http://127.0.0.1/bad.xml")
    assert info.value.url == "http://127.0.0.1/bad.xml"


def test_parse_feed_refuses_a_url_or_path() -> None:
    with pytest.raises(TypeError, match="never a URL"):
        parse_feed("/etc/passwd", "http://127.0.0.1/x")  # type: ignore[arg-type]
