import json
from pathlib import Path

from pipeline.models import Article
from pipeline.schema import article_schema, render

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "article.v1.json"


def test_schema_file_matches_the_model() -> None:
    assert SCHEMA_FILE.read_text() == render(), "regenerate: python -m pipeline.schema > schemas/article.v1.json"


def test_schema_requires_every_contract_field() -> None:
    required = set(article_schema()["required"])
    contract = {"schema_version", "id", "url", "canonical_url", "feed_url", "source", "title", "authors",
                "published_at", "updated_at", "language", "summary", "text", "word_count", "image",
                "tags", "fetched_at", "content_hash", "revision"}
    assert contract <= required
    assert required == set(Article.model_fields)
    assert json.loads(SCHEMA_FILE.read_text())["properties"]["schema_version"]["const"] == 1
