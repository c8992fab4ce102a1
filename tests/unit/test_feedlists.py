import pytest

from pipeline.errors import ConfigError
from pipeline.feedlists import dump_opml, dump_yaml, load_feed_list
from pipeline.registry import Feed

OPML = b"""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
<outline text="News"><outline type="rss" text="World" xmlUrl="http://127.0.0.1/world.xml"/></outline>
<outline type="rss" title="Tech" xmlUrl="http://127.0.0.1/tech.atom"/>
</body></opml>"""


def test_opml_outlines_with_folders_as_tags() -> None:
    feeds = load_feed_list(OPML, "subs.opml")
    assert [(f.url, f.name, f.tags) for f in feeds] == [
        ("http://127.0.0.1/world.xml", "World", ["News"]),
        ("http://127.0.0.1/tech.atom", "Tech", []),
    ]


def test_yaml_list_and_round_trip() -> None:
    feeds = load_feed_list(b"feeds:\n  - url: http://127.0.0.1/a.xml\n    timezone: Asia/Shanghai\n  - http://127.0.0.1/b.xml\n")
    assert [f.url for f in feeds] == ["http://127.0.0.1/a.xml", "http://127.0.0.1/b.xml"]
    assert load_feed_list(dump_yaml(feeds).encode()) == feeds
    assert [f.url for f in load_feed_list(dump_opml(feeds).encode())] == [f.url for f in feeds]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"feeds: 3", "expected a list"),
        (b"- url: ftp://127.0.0.1/x", "feed #1: .*http"),
        (b"- url: http://127.0.0.1/x\n  timezone: Nowhere/City", "feed #1: .*Nowhere/City"),
        (b"<opml><body><outline", "not valid OPML"),
    ],
)
def test_bad_lists_name_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_feed_list(data, "list.yaml")


def test_feed_model_rejects_bad_url() -> None:
    with pytest.raises(ValueError, match="http"):
        Feed(url="file:///etc/passwd")
