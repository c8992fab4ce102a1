"""The command line as a user runs it: embedded Redis, commands one after another, clean stops."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from newsflow.demo.server import NewsroomServer
from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.e2e


def newsflow(home: Path, *args: str, timeout: float = 180, stdin: str | None = None,
             **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "NEWSFLOW_REDIS_URL"}
    full_env.update(NEWSFLOW_HOME=str(home), **env)
    return subprocess.run([sys.executable, "-m", "newsflow.cli", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout, input=stdin)


def test_commands_share_the_embedded_state(tmp_path: Path) -> None:
    site = NewsroomServer().start()
    home = tmp_path / "home"
    try:
        feed = f"{site.base}/feeds/world.xml"
        added = newsflow(home, "feeds", "add", feed, "--name", "World", "--timezone", "Asia/Shanghai")
        assert added.returncode == 0, added.stderr
        listed = newsflow(home, "feeds", "list", "--json")
        assert [json.loads(line)["url"] for line in listed.stdout.splitlines()] == [feed]
        ran = newsflow(home, "run", "--once", NEWSFLOW_ALLOW_NETWORKS="127.0.0.0/8")
        assert ran.returncode == 0, ran.stderr + ran.stdout
        assert re.search(r"\b5 articles published", ran.stdout), ran.stdout
        tailed = newsflow(home, "tail", "articles", "--from-start", "--count", "5", "--json")
        assert tailed.returncode == 0, tailed.stderr
        articles = [json.loads(line) for line in tailed.stdout.splitlines()]
        assert len(articles) == 5
        assert {a["feed_url"] for a in articles} == {feed}
        gt = next(a for a in articles if a["url"].endswith("global-times-putin-nk.html"))
        assert (gt["title"], gt["authors"], gt["published_at"]) == (
            "Russia won’t recognize NK’s nuclear status: Putin", ["Yang Sheng"], "2017-09-06T16:18:40Z")
        # The embedded Redis was stopped by each command and its data kept under NEWSFLOW_HOME.
        assert not (home / "redis.port").exists()
        assert any((home / "redis").iterdir())
    finally:
        site.stop()


def test_run_demo_once_publishes_the_whole_newsroom(tmp_path: Path) -> None:
    ran = newsflow(tmp_path / "home", "run", "--demo", "--once")
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert "demo newsroom on http://127.0.0.1:" in ran.stdout
    assert re.search(r"\b13 articles published", ran.stdout) and re.search(r"\b0 dead letters", ran.stdout)


def test_sigterm_stops_workers_beat_and_redis(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "NEWSFLOW_REDIS_URL"}
    env["NEWSFLOW_HOME"] = str(home)
    proc = subprocess.Popen([sys.executable, "-m", "newsflow.cli", "run", "--demo"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = wait_for(lambda: (home / "redis.port").exists() and (home / "redis.port").read_text(),
                        timeout=60, what="the embedded Redis")
        client = redis.Redis(port=int(port))
        wait_for(lambda: client.xlen("articles") >= 13, timeout=120, what="the demo's articles")
        children = _children(proc.pid)
        assert len(children) >= 3  # two workers (and their pool), beat
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 130, out
        assert "Traceback" not in out
        time.sleep(0.5)
        assert not [pid for pid in children if _alive(pid)]
        assert not (home / "redis.port").exists()
        with pytest.raises(redis.ConnectionError):  # the embedded Redis was shut down too
            redis.Redis(port=int(port), socket_connect_timeout=1).ping()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_user_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cases = [
        ("feeds", "add", "ftp://127.0.0.1/x"),
        ("feeds", "add", "http://127.0.0.1/x", "--timezone", "Mars/Olympus"),
        ("feeds", "remove", "http://127.0.0.1/never-added"),
        ("feeds", "add", "http://127.0.0.1/x", "--language", "english"),
        ("feeds", "add", "http://127.0.0.1/x", "--min-interval", "600", "--max-interval", "60"),
        ("dlq", "show", "1-1"),
        ("run", "--once"),  # no feeds registered
    ]
    for args in cases:
        result = newsflow(home, *args)
        assert result.returncode != 0, args
        assert result.stderr.startswith("newsflow: error: "), (args, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_tail_of_a_key_that_is_not_a_topic_is_a_one_line_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert newsflow(home, "feeds", "add", "http://127.0.0.1:9/feed.xml").returncode == 0
    result = newsflow(home, "tail", "newsflow:feeds:due", "--no-follow")
    assert result.returncode == 1
    assert result.stderr.strip() == "newsflow: error: config: newsflow:feeds:due is not a topic (it is a Redis zset)"


def test_extract_prints_the_article_json(tmp_path: Path) -> None:
    page = (ROOT / "newsflow/demo/site/articles/global-times-putin-nk.html").read_text(encoding="utf-8")
    result = newsflow(tmp_path, "extract", "-", "--url", "http://127.0.0.1/gt.html",
                      "--timezone", "Asia/Shanghai", stdin=page)
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert article["published_at"] == "2017-09-06T16:18:40Z" and article["date_zone"] == "configured"
    assert article["authors"] == ["Yang Sheng"]


def _children(pid: int) -> list[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_extract_explain_lists_kept_and_dropped_blocks(tmp_path: Path) -> None:
    page = (ROOT / "newsflow/demo/site/articles/global-times-putin-nk.html").read_text(encoding="utf-8")
    result = newsflow(tmp_path, "extract", "-", "--explain", stdin=page)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("kept") and "Russian President Vladimir Putin" in line for line in lines)
    disqus = [line for line in lines if "Disqus" in line]
    assert disqus and all(line.startswith("dropped") for line in disqus)
