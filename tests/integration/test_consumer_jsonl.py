"""The example consumer as docker-compose runs it: a subprocess appending articles to JSON Lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import redis

from newsflow.redis_server import RedisServer
from pipeline.topics import Publisher
from tests.conftest import ROOT, wait_for
from tests.integration.test_topics import article


def lines(root: Path) -> list[dict[str, object]]:
    return [json.loads(line) for f in sorted(root.glob("articles/*.jsonl")) for line in f.read_text().splitlines()]


def test_it_writes_each_article_once_acknowledges_and_stops_cleanly(
    redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    publisher = Publisher(redis_client)
    for i in range(3):
        publisher.publish(article(text=f"Story {i}.").model_copy(update={"id": f"s{i}"}))
    env = dict(os.environ, NEWSFLOW_REDIS_URL=redis_server.url)
    proc = subprocess.Popen([sys.executable, "-m", "ops.consumer_jsonl", "--from-start", "--out", str(tmp_path)],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(lines(tmp_path)) == 3, timeout=20, what="three lines")
        publisher.publish(article(text="A late story.").model_copy(update={"id": "s3"}))
        wait_for(lambda: len(lines(tmp_path)) == 4, timeout=20, what="the late story")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert [a["id"] for a in lines(tmp_path)] == ["s0", "s1", "s2", "s3"]
    assert all(a["schema_version"] == 1 and a["revision"] == 1 for a in lines(tmp_path))
    assert redis_client.xpending("articles", "jsonl")["pending"] == 0
    assert "stopped after 4 articles" in err
