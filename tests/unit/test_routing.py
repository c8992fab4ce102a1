"""The topics configuration: which topics an article routes to, and each topic's retention."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.models import Article, Source, content_hash
from pipeline.routing import load_topics_config, parse_duration, slug
from pipeline.settings import Settings

CONFIG = """
routes:
  - by: language
  - by: tag
    values: [Politics, "Asia Pacific"]
  - by: feed_tag
    topic: articles.feed.{value}
  - by: source
    values: [globaltimes.cn]
    topic: articles.source.{value}
retention:
  articles: {maxlen: 1000}
  "articles.lang.*": {maxlen: 100, max_age: 7d}
  "articles.*": {maxlen: 50, hard_maxlen: 60, group_idle: 12h}
exclude_duplicates: ["articles.tag.*"]
"""


def article(**changes: object) -> Article:
    base = Article(
        id="a1", url="http://127.0.0.1/a", canonical_url="http://127.0.0.1/a", feed_url=None,
        source=Source(name="GT", domain="globaltimes.cn"), title="T", authors=[], published_at=None,
        updated_at=None, date_zone=None, language="en", summary=None, text="x", html="", word_count=1,
        image=None, tags=["Politics", "Asia  Pacific", "Sport"], has_article=True,
        fetched_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), content_hash=content_hash("T", "x"))
    return base.model_copy(update=changes)


def test_every_rule_derives_its_topics_and_articles_comes_first() -> None:
    config = load_topics_config(CONFIG)
    assert config.topics_for(article(), feed_tags=["World", "demo"]) == (
        "articles", "articles.lang.en", "articles.tag.politics", "articles.tag.asia-pacific",
        "articles.feed.world", "articles.feed.demo", "articles.source.globaltimes.cn")


def test_missing_values_route_nowhere_and_duplicates_stay_out_of_chosen_topics() -> None:
    config = load_topics_config(CONFIG)
    bare = article(language=None, tags=[], source=Source(name=None, domain="example.org"))
    assert config.topics_for(bare) == ("articles",)
    copy = article(duplicate_of="b2")
    assert config.topics_for(copy) == ("articles", "articles.lang.en", "articles.source.globaltimes.cn")


def test_retention_exact_name_then_first_glob_then_defaults() -> None:
    config = load_topics_config(CONFIG, default_maxlen=500)
    assert config.retention_for("articles").maxlen == 1000
    assert config.retention_for("articles").hard_maxlen == 2000  # twice maxlen unless set
    lang = config.retention_for("articles.lang.fr")
    assert (lang.maxlen, lang.max_age_s, lang.hard_maxlen) == (100, 7 * 86400, 200)
    tag = config.retention_for("articles.tag.politics")
    assert (tag.maxlen, tag.hard_maxlen, tag.group_idle_s) == (50, 60, 43200)
    assert config.retention_for("other").maxlen == 500


def test_the_document_can_be_a_file_or_json(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    assert load_topics_config(str(path)).routes == load_topics_config(CONFIG).routes
    assert load_topics_config('{"routes": [{"by": "language"}]}').routes[0].by == "language"
    assert load_topics_config("").routes == ()


@pytest.mark.parametrize(("value", "message"), [
    ("{routes: [{by: colour}]}", "routes.0.by"),
    ("{retention: {articles: {maxlen: 10, hard_maxlen: 5}}}", "hard_maxlen is below maxlen"),
    ("{retention: {articles: {max_age: soon}}}", "not a duration"),
    ("{routs: []}", "routs"),
    ("[1, 2]", "must be a mapping"),
    ("/no/such/topics.yaml", "cannot read"),
])
def test_bad_documents_say_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_topics_config(value)


def test_settings_refuse_a_bad_document_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_TOPICS", "{routes: [{by: colour}]}")
    with pytest.raises(ValueError, match="NEWSFLOW_TOPICS"):
        Settings()
    monkeypatch.setenv("NEWSFLOW_TOPICS", CONFIG)
    monkeypatch.setenv("NEWSFLOW_ARTICLES_MAXLEN", "42")
    assert Settings().topics_config.retention_for("other").maxlen == 42


def test_slugs_and_durations() -> None:
    assert slug(" Asia / Pacific ") == "asia-pacific" and slug("Économie") == "économie"
    assert [parse_duration(v) for v in (90, "90s", "30m", "12h", "7d", "2w")] == [
        90, 90, 1800, 43200, 604800, 1209600]
