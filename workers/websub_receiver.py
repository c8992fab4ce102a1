"""The WebSub callback endpoint: a small threaded WSGI server (stdlib only).

    GET  <callback>/<id>   the hub verifies intent: answer the challenge, or 404
    POST <callback>/<id>   a push: check the size and the X-Hub-Signature, enqueue, answer 202 at once

Parsing and ingesting run in a task (``newsflow.websub_ingest``), so a hub never waits on them.
A push with a bad signature still gets a 2xx, as the spec allows (a hub learns nothing from it to
guess secrets with), but is discarded and counted; an unknown subscription gets a 404.
"""

from __future__ import annotations

import base64
import logging
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import redis

from pipeline.settings import Settings
from pipeline.stats import incr
from pipeline.websub import WebSubStore, check_intent, signature_valid, subscription_id_from_path

log = logging.getLogger(__name__)

#: ``(subscription id, pushed body, its content type)``: hands a verified push to the queue.
Enqueue = Callable[[str, bytes, "str | None"], None]
StartResponse = Callable[..., Any]

_TEXT = [("Content-Type", "text/plain; charset=utf-8")]
_PIECE = 64 * 1024
_BODY_SECONDS = 30.0  # the most one push may take to arrive


class CallbackApp:
    """The WSGI application behind the callback URL."""

    def __init__(self, store: WebSubStore, enqueue: Enqueue, *, max_body_bytes: int,
                 count: Callable[[str], None] = lambda name: None, body_seconds: float = _BODY_SECONDS) -> None:
        self.store = store
        self.body_seconds = body_seconds
        self.enqueue = enqueue
        self.max_body_bytes = max_body_bytes
        self.count = count

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Route one request: verification GET or push POST."""
        status, body = self._handle(environ)
        start_response(status, [*_TEXT, ("Content-Length", str(len(body)))])
        return [body]

    def _handle(self, environ: dict[str, Any]) -> tuple[str, bytes]:
        sub_id = subscription_id_from_path(environ.get("PATH_INFO", ""))
        sub = self.store.get(sub_id) if sub_id else None
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET":
            return self._verify(sub, environ)
        if method != "POST":
            return "405 Method Not Allowed", b"GET or POST\n"
        if sub is None:
            self.count("websub.unknown")
            return "404 Not Found", b"no such subscription\n"
        return self._push(sub, environ)

    def _verify(self, sub: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        intent = check_intent(sub, query)
        if not intent.accepted:
            log.info("websub: refused a verification for %s: %s", environ.get("PATH_INFO"), intent.reason)
            self.count("websub.verify_refused")
            return "404 Not Found", intent.reason.encode() + b"\n"
        self.store.apply(sub, intent, now=time.time())
        self.count(f"websub.verified.{intent.mode}")
        log.info("websub: %s %s (%s)", intent.mode, sub.topic, intent.reason)
        return "200 OK", (intent.challenge or "").encode()

    def _push(self, sub: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit():
            return "411 Length Required", b"a Content-Length is required\n"
        if int(length) > self.max_body_bytes:
            self.count("websub.too_large")
            return "413 Content Too Large", b"body over the size cap\n"
        if environ.get("HTTP_CONTENT_ENCODING", "identity").lower() != "identity":
            # The signature covers the bytes as sent; decoding them is not worth a bomb's risk.
            return "415 Unsupported Media Type", b"send the body without Content-Encoding\n"
        body = _read_body(environ, int(length), within=self.body_seconds)
        if body is None:
            return "400 Bad Request", b"body shorter than its Content-Length, or too slow\n"
        if sub.verified_at is None:
            self.count("websub.unverified")  # the hub pushed before it verified: not ours to take
            self.store.note_push(sub, accepted=False)
            return "202 Accepted", b"ignored\n"
        if sub.secret and not signature_valid(sub.secret, environ.get("HTTP_X_HUB_SIGNATURE"), body):
            log.warning("websub: discarded a push for %s with a bad or missing signature", sub.topic)
            self.count("websub.bad_signature")
            self.store.note_push(sub, accepted=False)
            return "202 Accepted", b"ok\n"  # the same answer as a good push: no oracle
        try:
            self.enqueue(sub.id, body, environ.get("CONTENT_TYPE") or None)
        except Exception:  # the broker is down: a 5xx makes the hub deliver again later
            log.exception("websub: could not enqueue a push for %s", sub.topic)
            return "503 Service Unavailable", b"try again later\n"
        self.count("websub.pushes")
        self.store.note_push(sub, accepted=True)
        return "202 Accepted", b"ok\n"


def _read_body(environ: dict[str, Any], length: int, *, within: float) -> bytes | None:
    """The ``length`` bytes of a request body, or None when they do not all come ``within`` seconds."""
    # One deadline for the whole body, applied to the socket before each read: a per-read timeout
    # alone would let a slow-drip sender hold a thread for as long as it keeps trickling.
    stream, sock = environ["wsgi.input"], environ.get("newsflow.socket")
    read = getattr(stream, "read1", stream.read)  # read1: what has arrived, without waiting for all
    deadline, body = time.monotonic() + within, bytearray()
    try:
        while len(body) < length:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if sock is not None:
                sock.settimeout(left)
            piece = read(min(_PIECE, length - len(body)))
            if not piece:
                return None
            body += piece
    except OSError:  # the socket timed out, or the client went away
        return None
    return bytes(body)


class _Handler(WSGIRequestHandler):
    timeout = 10  # seconds per socket read of the request line and headers

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["newsflow.socket"] = self.connection  # for the body's deadline
        return environ

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("websub callback: " + format, *args)


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class CallbackServer:
    """The callback endpoint on ``host:port`` in a background thread (port 0: a free one)."""

    def __init__(self, app: CallbackApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = make_server(host, port, app, server_class=_Server, handler_class=_Handler)
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        """``http://host:port`` where it listens."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> CallbackServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.1,), name="websub-callback",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)


def celery_enqueue(sub_id: str, body: bytes, content_type: str | None) -> None:
    """Hand a verified push to ``newsflow.websub_ingest`` (base64: the broker carries JSON only)."""
    from workers.websub_tasks import websub_ingest

    websub_ingest.delay(sub_id, base64.b64encode(body).decode("ascii"), content_type)


def app_for(client: redis.Redis, settings: Settings) -> CallbackApp:
    """The callback app of a deployment: subscriptions and counters in Redis, pushes to Celery."""
    return CallbackApp(WebSubStore(client), celery_enqueue, max_body_bytes=settings.max_body_bytes,
                       count=lambda name: incr(client, name))
