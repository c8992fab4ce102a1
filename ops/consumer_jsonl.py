"""An example downstream consumer: appends the articles of a topic to JSON Lines files.

    python -m ops.consumer_jsonl --topic articles --group jsonl --out ./articles

One file per topic and UTC day (``OUT/<topic>/<YYYY-MM-DD>.jsonl``), one schema v1 article per
line. Each batch is written and fsynced before it is acknowledged, so nothing acknowledged is ever
lost; a crash between the write and the acknowledgement writes those lines again on restart
(at-least-once), so readers of the files dedupe on (``id``, ``revision``). Several copies may run
in the same group: each message goes to one of them, and what a dead one held is claimed by the
others after ``--claim-idle`` seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

import redis

from pipeline import keys
from pipeline.settings import Settings
from pipeline.topics import Consumer, Message

log = logging.getLogger("newsflow.consumer_jsonl")


class JsonlSink:
    """Appends articles to one file per topic and day, durably."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, messages: list[Message]) -> None:
        """Append ``messages`` and fsync, so that they can be acknowledged."""
        day = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
        by_file: dict[Path, list[str]] = {}
        for message in messages:
            by_file.setdefault(self.root / message.topic / f"{day}.jsonl", []).append(message.article.to_json())
        for path, lines in by_file.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:
                out.write("".join(f"{line}\n" for line in lines))
                out.flush()
                os.fsync(out.fileno())


def run(consumer: Consumer, sink: JsonlSink, *, batch: int = 100) -> int:
    """Read, write, acknowledge, until SIGTERM or SIGINT; returns how many articles were written."""
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True  # finish the batch in hand, then leave: nothing half-written

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    written = 0
    while not stopping:
        messages = consumer.read(count=batch, block_ms=1000)
        if not messages:
            continue
        sink.write(messages)
        for message in messages:  # only after the write is on disk: at-least-once
            consumer.ack(message)
        written += len(messages)
        log.info("wrote %d articles from %s (%d in all)", len(messages), consumer.topic, written)
    return written


def main(argv: list[str] | None = None) -> int:
    """The command line of the example consumer."""
    parser = argparse.ArgumentParser(prog="python -m ops.consumer_jsonl", description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default=keys.ARTICLES_STREAM)
    parser.add_argument("--group", default="jsonl", help="consumer group (one offset per group)")
    parser.add_argument("--name", help="consumer name within the group (default: host-pid)")
    parser.add_argument("--out", type=Path, default=Path("articles"), help="folder of the .jsonl files")
    parser.add_argument("--from-start", action="store_true", help="a new group starts at the oldest entry")
    parser.add_argument("--claim-idle", type=float, default=60.0,
                        help="seconds after which a dead member's pending messages are claimed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    url = Settings().redis_url
    if not url:
        parser.error("NEWSFLOW_REDIS_URL is not set")
    with redis.Redis.from_url(url) as client:
        consumer = Consumer(client, args.topic, args.group, args.name, from_start=args.from_start,
                            claim_idle_ms=int(args.claim_idle * 1000))
        log.info("consuming %s as %s/%s into %s", args.topic, args.group, consumer.name, args.out)
        written = run(consumer, JsonlSink(args.out))
    log.info("stopped after %d articles", written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
