"""The published JSON Schema of the article (schema v1), generated from the model.

Regenerate after an intended change: ``python -m pipeline.schema > schemas/article.v1.json``.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.models import Article

SCHEMA_ID = "https://newsflow.dev/schemas/article.v1.json"


def article_schema() -> dict[str, Any]:
    """The JSON Schema of a schema v1 article document, as consumers see it (serialized form)."""
    schema = Article.model_json_schema(mode="serialization")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    # Every field is always present in a document, even when its value is null.
    schema["required"] = list(Article.model_fields)
    return schema


def render() -> str:
    """The schema as the text kept in the repo."""
    return json.dumps(article_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
