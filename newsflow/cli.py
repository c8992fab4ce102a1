"""The `newsflow` command line (see DESIGN.md, Command line)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click
import redis
from pydantic import ValidationError

from newsflow.connection import redis_url
from pipeline import keys
from pipeline.deadletters import DeadLetters
from pipeline.errors import ConfigError, NewsflowError
from pipeline.feedlists import dump_opml, dump_yaml, load_feed_list
from pipeline.registry import Feed, FeedRegistry
from pipeline.settings import Settings
from pipeline.stats import read_counters


class _Interrupted(Exception):
    """SIGTERM, turned into an exception so that every `with` block cleans up."""


class _Group(click.Group):
    """Turns a user's mistake or an unreachable service into one line on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsflowError as exc:
            _fail(str(exc))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            _fail(f"invalid value{' for ' + where if where else ''}: {first['msg']}")
        except redis.ConnectionError as exc:
            _fail(f"cannot reach Redis: {exc}")
        except redis.RedisError as exc:
            _fail(f"Redis refused: {exc}")
        except (OSError, TimeoutError, RuntimeError) as exc:
            _fail(str(exc))
        except (KeyboardInterrupt, _Interrupted):
            click.echo("\nnewsflow: stopped", err=True)
            sys.exit(130)


def _fail(message: str) -> NoReturn:
    click.echo(f"newsflow: error: {message}", err=True)
    sys.exit(1)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"bad configuration: {first['msg']}")


@contextlib.contextmanager
def _client(settings: Settings) -> Iterator[redis.Redis]:
    with redis_url(settings) as url:
        client = redis.Redis.from_url(url)
        try:
            yield client
        finally:
            client.close()


def _use_redis(url: str, **extra: str) -> None:
    """Point this process (and the workers it starts) at ``url`` before `workers` is imported."""
    os.environ["NEWSFLOW_REDIS_URL"] = url
    os.environ.update(extra)


@contextlib.contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise _Interrupted()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsflow")
def main() -> None:
    """newsflow: news feeds in, clean normalized articles out on Redis Streams."""


# --------------------------------------------------------------------------- run
@main.command()
@click.option("--demo", is_flag=True, help="Serve the bundled demo newsroom on 127.0.0.1 and register its feeds.")
@click.option("--once", is_flag=True, help="Poll every enabled feed once, drain the queues, print a summary, exit.")
@click.option("--feeds", "feeds_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Load feeds from an OPML or YAML file first.")
def run(demo: bool, once: bool, feeds_file: Path | None) -> None:
    """Run the main job: workers and beat (embedded Redis when NEWSFLOW_REDIS_URL is unset)."""
    from newsflow.runner import Progress, progress_line, running, wait_drained

    settings = _settings()
    with _sigterm_as_exception(), redis_url(settings) as url, _demo(demo, settings.home) as newsroom:
        client = redis.Redis.from_url(url)
        extra: dict[str, str] = {}
        if newsroom is not None:
            # The demo's pages are on loopback, which the SSRF guard refuses unless told otherwise.
            nets = ",".join(n for n in (settings.allow_networks, "127.0.0.0/8") if n)
            extra["NEWSFLOW_ALLOW_NETWORKS"] = nets
            # All demo pages are on one host of our own: politeness to it would only slow the demo.
            extra.setdefault("NEWSFLOW_HOST_RATE", os.environ.get("NEWSFLOW_HOST_RATE", "50"))
        _use_redis(url, **extra)
        registry = FeedRegistry(client)
        if feeds_file is not None:
            for feed in load_feed_list(feeds_file.read_bytes(), str(feeds_file)):
                registry.add(feed)
        if newsroom is not None:
            _register_demo(registry, newsroom)
        feeds = [f for f in registry.list() if f.enabled]
        if not feeds:
            raise ConfigError("no feeds registered: add one with `newsflow feeds add URL`, or use --demo")
        before = read_counters(client)
        progress = Progress(sys.stdout)
        home = settings.home.resolve()
        websub = bool(settings.websub_callback_url) and not once
        with running(dict(os.environ), home, beat=not once, websub=websub) as procs:
            plural = "s" if len(feeds) != 1 else ""
            click.echo(f"{len(feeds)} feed{plural}; workers started (logs in {home / 'logs'}); Ctrl-C stops")
            if once:
                from workers.tasks import poll_feed

                for feed in feeds:
                    poll_feed.delay(feed.url)
                wait_drained(client, procs, progress)
                progress.done()
                _summary(before, read_counters(client), DeadLetters(client).count())
                return
            while True:
                failure = procs.failed()
                if failure:
                    raise RuntimeError(failure)
                progress.show(progress_line(client))
                time.sleep(1.0)


@contextlib.contextmanager
def _demo(enabled: bool, home: Path) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from newsflow.demo.server import NewsroomServer

    server = NewsroomServer.on_remembered_port(home)
    try:
        yield server
    finally:
        server.stop()


def _register_demo(registry: FeedRegistry, newsroom: Any) -> None:
    feeds = newsroom.feeds()
    current = {f.url for f in feeds}
    # A demo of an earlier run that had to take another port left feeds that no longer answer.
    for old in registry.list():
        if "demo" in old.tags and old.url not in current:
            registry.remove(old.url)
    for feed in feeds:
        registry.add(Feed(url=feed.url, name=feed.name, tags=list(feed.tags)))
    click.echo(f"demo newsroom on {newsroom.base} with {len(feeds)} feeds")


def _summary(before: dict[str, int], after: dict[str, int], dead: int) -> None:
    def delta(name: str) -> int:
        return after.get(name, 0) - before.get(name, 0)

    errors = delta("polls.error") + delta("polls.disabled")
    click.echo(
        f"done: {delta('feeds_polled')} feeds polled ({errors} with errors), "
        f"{delta('entries_new')} new entries, {delta('pages_fetched')} pages fetched, "
        f"{delta('articles_published')} articles published, "
        f"{delta('skipped.duplicate')} duplicates skipped, {dead} dead letters in all"
    )


# --------------------------------------------------------------------------- feeds
@main.group()
def feeds() -> None:
    """Manage the registered feeds."""


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="Display name.")
@click.option("--timezone", help="IANA zone for dates the feed writes without one, e.g. Asia/Shanghai.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--language", help="ISO 639-1 code of the feed's articles, when their pages do not say.")
@click.option("--min-interval", type=click.FloatRange(min=1), help="Seconds: never poll more often.")
@click.option("--max-interval", type=click.FloatRange(min=1), help="Seconds: never poll less often.")
@click.option("--disabled", is_flag=True, help="Register it without polling it.")
def feeds_add(url: str, name: str | None, timezone: str | None, tags: tuple[str, ...], language: str | None,
              min_interval: float | None, max_interval: float | None, disabled: bool) -> None:
    """Register a feed (or update its settings; `add` again without --disabled re-enables it)."""
    feed = Feed(url=url, name=name, timezone=timezone, tags=list(tags), language=language,
                min_interval=min_interval, max_interval=max_interval, enabled=not disabled)
    with _client(_settings()) as client:
        created = FeedRegistry(client).add(feed)
    click.echo(f"{'added' if created else 'updated'} {url}")


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per feed.")
def feeds_list(as_json: bool) -> None:
    """List the feeds with their status."""
    with _client(_settings()) as client:
        found = FeedRegistry(client).list()
    for feed in found:
        if as_json:
            click.echo(feed.model_dump_json())
            continue
        click.echo(_feed_line(feed))
    if not found and not as_json:
        click.echo("no feeds registered", err=True)


def _feed_line(feed: Feed) -> str:
    if not feed.enabled:
        state = f"disabled: {feed.disabled_reason or 'by the user'}"
    else:
        state = f"last poll {feed.last_status or 'never'}"
        if feed.error_count:
            state += f", {feed.error_count} errors in a row"
        if feed.last_error:
            state += f" ({feed.last_error})"
        if feed.next_due:
            state += f", next in {max(0, int(feed.next_due - time.time()))} s"
    return f"{feed.url}  {feed.name or '-'}  {state}"


@feeds.command("remove")
@click.argument("url")
def feeds_remove(url: str) -> None:
    """Unregister a feed."""
    with _client(_settings()) as client:
        if not FeedRegistry(client).remove(url):
            raise ConfigError(f"no such feed: {url}")
    click.echo(f"removed {url}")


@feeds.command("import")
@click.argument("file", type=click.File("rb"))
def feeds_import(file: Any) -> None:
    """Register every feed of an OPML or YAML file."""
    found = load_feed_list(file.read(), file.name)
    with _client(_settings()) as client:
        registry = FeedRegistry(client)
        created = sum(registry.add(feed) for feed in found)
    click.echo(f"imported {len(found)} feeds ({created} new)")


@feeds.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "opml"]), default="yaml", show_default=True)
def feeds_export(fmt: str) -> None:
    """Print every feed as YAML or OPML."""
    with _client(_settings()) as client:
        found = FeedRegistry(client).list()
    click.echo(dump_opml(found) if fmt == "opml" else dump_yaml(found), nl=False)


# --------------------------------------------------------------------------- extract
@main.command()
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--url", default="http://localhost/", show_default=True, help="The page's URL (for links and ids).")
@click.option("--timezone", help="IANA zone for dates written without one.")
@click.option("--explain", is_flag=True, help="Show which blocks were kept and dropped, and why.")
def extract(file: Any, url: str, timezone: str | None, explain: bool) -> None:
    """Extract one page (FILE or stdin) and print its article JSON (schema v1)."""
    page = file.read()
    if explain:
        from pipeline.explain import explain as explain_page

        for step in explain_page(page, url):
            click.echo(f"{step['action']:<8} {step['block']:<40} {step['reason']}  | {step['text']}")
        return
    from pipeline.extract import extract_article

    article = extract_article(page, url, timezone=timezone)
    click.echo(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))


# --------------------------------------------------------------------------- tail
@main.command()
@click.argument("topic", default=keys.ARTICLES_STREAM)
@click.option("--group", help="Read as a member of this consumer group (acknowledging each message).")
@click.option("--from-start", is_flag=True, help="Start at the oldest message instead of new ones.")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many messages.")
@click.option("--json", "as_json", is_flag=True, help="Print each article's JSON on one line.")
@click.option("--follow/--no-follow", default=True, show_default=True, help="Wait for new messages at the end.")
def tail(topic: str, group: str | None, from_start: bool, count: int | None, as_json: bool, follow: bool) -> None:
    """Print the articles of a topic as they arrive."""
    from pipeline.topics import Consumer, Message, read_topic

    def emit(message: Message) -> None:
        a = message.article
        if as_json:
            click.echo(a.to_json())
        else:
            when = a.published_at.isoformat() if a.published_at else "-"
            click.echo(f"{message.id}  {when}  {a.source.name or a.source.domain}  {a.title}")

    seen = 0
    block = 1000 if follow else None
    with _sigterm_as_exception(), _client(_settings()) as client:
        kind = client.type(topic)
        if kind not in (b"stream", b"none"):
            raise ConfigError(f"{topic} is not a topic (it is a Redis {kind.decode()})")
        consumer = Consumer(client, topic, group, from_start=from_start) if group else None
        last = "0-0" if from_start else (client.xinfo_stream(topic)["last-generated-id"].decode()
                                         if client.exists(topic) else "0-0")
        while count is None or seen < count:
            want = None if count is None else count - seen
            if consumer is not None:
                batch = consumer.read(count=want or 100, block_ms=block)
            else:
                batch = read_topic(client, topic, after=last, count=want or 100, block_ms=block)
            if not batch and not follow:
                break
            for message in batch:
                emit(message)
                if consumer is not None:
                    consumer.ack(message)
                last = message.id
                seen += 1


# --------------------------------------------------------------------------- stats
@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--watch", is_flag=True, help="Refresh every 2 seconds.")
def stats(as_json: bool, watch: bool) -> None:
    """Show counters, queue depths, feeds, topics and dead letters."""
    from workers.queues import queue_depths

    settings = _settings()
    with _sigterm_as_exception(), _client(settings) as client:
        while True:
            topics = _topic_reports(client, settings)
            report = {
                "counters": read_counters(client),
                "queues": queue_depths(client),
                "feeds": int(client.scard(keys.FEEDS_ALL)),
                "topics": {t.topic: t.length for t in topics},
                # The retention gap: entries due for trimming held for slow groups, room left
                # before unread ones are dropped, and how many were dropped (see docs/consumers.md).
                "retention": {t.topic: _retention_summary(t, full=as_json) for t in topics},
                "dead_letters": DeadLetters(client).count(),
            }
            if as_json:
                click.echo(json.dumps(report))
            else:
                click.echo(" | ".join(f"{k}: {v}" for k, v in report.items()))
                for t in topics:
                    if t.warning:
                        click.echo(f"newsflow: warning: {t.warning}", err=True)
            if not watch:
                return
            time.sleep(2)


# --------------------------------------------------------------------------- dlq
@main.group()
def dlq() -> None:
    """Inspect and replay the dead letters."""


@dlq.command("list")
def dlq_list() -> None:
    """List the dead letters, oldest first."""
    with _client(_settings()) as client:
        letters = DeadLetters(client).list()
    for letter in letters:
        click.echo(f"{letter.id}  {letter.stage}  {letter.error}  attempts={letter.attempts}  {letter.url}")
    if not letters:
        click.echo("no dead letters", err=True)


@dlq.command("show")
@click.argument("letter_id")
def dlq_show(letter_id: str) -> None:
    """Show one dead letter in full."""
    with _client(_settings()) as client:
        letter = DeadLetters(client).get(letter_id)
    if letter is None:
        raise ConfigError(f"no dead letter {letter_id}")
    click.echo(json.dumps(letter.to_dict(), indent=2, ensure_ascii=False))


@dlq.command("replay")
@click.argument("letter_id", required=False)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
def dlq_replay(letter_id: str | None, replay_all: bool) -> None:
    """Send dead letters back through the normal path; each leaves the list once it succeeds."""
    if bool(letter_id) == replay_all:
        raise ConfigError("give one dead letter ID or --all")
    settings = _settings()
    with redis_url(settings) as url:
        _use_redis(url)
        from workers.app import app

        letters = DeadLetters(redis.Redis.from_url(url))
        chosen = letters.list() if replay_all else [letters.get(letter_id or "")]
        if chosen == [None]:
            raise ConfigError(f"no dead letter {letter_id}")
        for letter in chosen:
            if letter is not None:
                app.send_task(letter.task, args=letter.args, kwargs={"replay_of": letter.id})
    click.echo(f"queued {len(chosen)} for replay; each leaves the dead letters once it succeeds")


@dlq.command("purge")
@click.confirmation_option(prompt="Delete every dead letter?")
def dlq_purge() -> None:
    """Delete every dead letter."""
    with _client(_settings()) as client:
        click.echo(f"purged {DeadLetters(client).purge()} dead letters")


# --------------------------------------------------------------------------- topics
def _topic_reports(client: redis.Redis, settings: Settings) -> list[Any]:
    from pipeline.topics import topic_reports

    return topic_reports(client, settings.topics_config)


def _retention_summary(report: Any, *, full: bool) -> Any:
    if not full:
        return f"held {report.held}, headroom {report.headroom}, dropped unread {report.dropped_unread}"
    return {"held": report.held, "headroom": report.headroom, "dropped_unread": report.dropped_unread,
            "groups": {g.name: {"pending": g.pending, "lag": g.lag, "at_risk": g.at_risk, "live": g.live}
                       for g in report.groups}}


@main.group()
def topics() -> None:
    """Inspect the output topics: size, retention, consumer groups; trim them."""


@topics.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per topic.")
def topics_list(as_json: bool) -> None:
    """Each topic with its retention, the gap held for slow groups, and its groups."""
    settings = _settings()
    with _client(settings) as client:
        reports = _topic_reports(client, settings)
    for r in reports:
        if as_json:
            click.echo(json.dumps(r.to_dict()))
            continue
        age = f", max_age {r.max_age_s:g}s" if r.max_age_s else ""
        click.echo(f"{r.topic}  length {r.length} (maxlen {r.maxlen}, hard {r.hard_maxlen}{age})  "
                   f"held {r.held}  headroom {r.headroom}  dropped unread {r.dropped_unread}")
        for g in r.groups:
            state = "live" if g.live else "abandoned"
            click.echo(f"  group {g.name}: {state}, {g.consumers} consumers, pending {g.pending}, "
                       f"lag {g.lag}, at risk {g.at_risk}")
        if r.warning:
            click.echo(f"newsflow: warning: {r.warning}", err=True)


@topics.command("trim")
@click.argument("topic", required=False)
def topics_trim(topic: str | None) -> None:
    """Apply retention now (publishing does it too, a bounded step at a time)."""
    from pipeline.retention import Trimmer
    from pipeline.topics import known_topics

    settings = _settings()
    with _client(settings) as client:
        trimmer = Trimmer(client)
        for name in [topic] if topic else known_topics(client):
            removed = trimmer.trim_all(name, settings.topics_config.retention_for(name))
            click.echo(f"{name}: trimmed {removed}")


# --------------------------------------------------------------------------- monitor
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9108, show_default=True, type=click.IntRange(0, 65535))
def monitor(host: str, port: int) -> None:
    """Serve Prometheus /metrics, /healthz and a live status page."""
    from ops.monitor import MonitorServer

    with _sigterm_as_exception(), _client(_settings()) as client:
        server = MonitorServer(client, host, port)
        click.echo(f"monitor on http://{host}:{server.server_address[1]}/ (metrics at /metrics)")
        try:
            server.serve_forever()
        finally:
            server.server_close()


# --------------------------------------------------------------------------- worker, beat
@main.command()
@click.option("--queues", default="poll,fetch,process", show_default=True)
@click.option("--pool", type=click.Choice(["prefork", "threads", "solo"]), default="prefork", show_default=True)
@click.option("--concurrency", type=click.IntRange(min=1), help="Default: the number of CPUs.")
def worker(queues: str, pool: str, concurrency: int | None) -> None:
    """Run one Celery worker on the given queues."""
    from newsflow.runner import worker_command

    settings = _settings()
    with _sigterm_as_exception(), redis_url(settings) as url:
        _use_redis(url)
        from workers.app import app

        argv = worker_command(queues.split(","), pool, concurrency or (os.cpu_count() or 1), "worker")
        app.worker_main(argv[5:])


@main.command()
def beat() -> None:
    """Run the beat scheduler (one per deployment is enough; the dispatcher tolerates more)."""
    from newsflow.runner import beat_command

    settings = _settings()
    with _sigterm_as_exception(), redis_url(settings) as url:
        _use_redis(url)
        from workers.app import app

        app.start(beat_command(settings.home.resolve())[5:])


# --------------------------------------------------------------------------- websub
@main.group()
def websub() -> None:
    """WebSub push: the callback endpoint, and the subscriptions at hubs."""


def _websub_settings() -> Settings:
    settings = _settings()
    if not settings.websub_callback_url:
        raise ConfigError("WebSub is off: set NEWSFLOW_WEBSUB_CALLBACK_URL to the public URL of "
                          "`newsflow websub serve` first")
    return settings


@websub.command("serve")
@click.option("--host", help="Listen address.  [default: NEWSFLOW_WEBSUB_HOST]")
@click.option("--port", type=click.IntRange(0, 65535), help="Listen port.  [default: NEWSFLOW_WEBSUB_PORT]")
def websub_serve(host: str | None, port: int | None) -> None:
    """Run the callback endpoint that hubs verify and push to (Ctrl-C stops)."""
    settings = _websub_settings()
    with _sigterm_as_exception(), redis_url(settings) as url:
        _use_redis(url)
        from workers.websub_receiver import CallbackServer, app_for

        server = CallbackServer(app_for(redis.Redis.from_url(url), settings), host or settings.websub_host,
                                settings.websub_port if port is None else port)
        click.echo(f"websub callback on {server.base}, public as {settings.websub_callback_url}; Ctrl-C stops")
        server.serve_forever()


@websub.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per subscription (secrets left out).")
def websub_list(as_json: bool) -> None:
    """List the subscriptions with their state and lease."""
    from pipeline.websub import WebSubStore

    with _client(_settings()) as client:
        found = WebSubStore(client).all()
    for sub in found:
        if as_json:
            click.echo(sub.model_dump_json(exclude={"secret"}))
            continue
        if sub.state == "active" and sub.expires_at and sub.expires_at <= time.time():
            state = "expired" + (f": {sub.last_error}" if sub.last_error else "")
        elif sub.state == "active" and sub.expires_at:
            state = f"active, lease ends in {(sub.expires_at - time.time()) / 3600:.1f} h"
        else:
            state = sub.state + (f": {sub.last_error}" if sub.last_error else "")
        click.echo(f"{sub.feed_url}  hub {sub.hub}  [{state}; {sub.pushes} pushes, {sub.rejected} rejected]")
    if not found and not as_json:
        click.echo("no WebSub subscriptions", err=True)


@websub.command("subscribe")
@click.argument("url")
@click.option("--hub", help="The hub (default: discovered from the feed).")
@click.option("--topic", help="The topic URL (default: the feed's self link, else URL).")
def websub_subscribe(url: str, hub: str | None, topic: str | None) -> None:
    """Subscribe a registered feed at its hub now (`newsflow websub serve` must be reachable)."""
    from pipeline.feeds import parse_feed
    from pipeline.fetch import Fetcher
    from pipeline.polling import FEED_ACCEPT
    from pipeline.websub import HubTarget, WebSubStore, discover, hub_client, request_subscription

    settings = _websub_settings()
    with _client(settings) as client:
        if FeedRegistry(client).get(url) is None:
            raise ConfigError(f"{url} is not registered: add it with `newsflow feeds add` first")
        target = HubTarget(hub, topic or url) if hub else None
        if target is None:
            with Fetcher(settings) as fetcher:
                result = fetcher.fetch(url, accept=FEED_ACCEPT)
            target = discover(result.headers, parse_feed(result.body, result.url), result.url)
            if target is None:
                raise ConfigError(f"{url} names no WebSub hub; give one with --hub")
            target = HubTarget(target.hub, topic or target.topic)
        with hub_client(settings) as http:
            sub = request_subscription(WebSubStore(client), http, settings, url, target)
    if sub.pending_mode is None:
        raise ConfigError(f"the hub refused: {sub.last_error} (retried later by beat)")
    click.echo(f"asked {target.hub} for {target.topic}; active once the hub verifies it")


@websub.command("unsubscribe")
@click.argument("url")
def websub_unsubscribe(url: str) -> None:
    """Ask the hub to end the subscription of a feed."""
    from pipeline.websub import HubTarget, WebSubStore, hub_client, request_subscription

    settings = _websub_settings()
    with _client(settings) as client:
        store = WebSubStore(client)
        sub = store.for_feed(url)
        if sub is None:
            raise ConfigError(f"{url} has no WebSub subscription")
        with hub_client(settings) as http:
            sub = request_subscription(store, http, settings, url, HubTarget(sub.hub, sub.topic),
                                       mode="unsubscribe")
    if sub.pending_mode is None:
        raise ConfigError(f"the hub refused: {sub.last_error}")
    click.echo(f"asked {sub.hub} to unsubscribe; gone once the hub verifies it")


if __name__ == "__main__":
    main()
