"""A small HTTP server for the demo newsroom and the tests, on 127.0.0.1 only.

Feeds carry a ``{base}`` placeholder for the server's origin; they are served with an ETag and
Last-Modified so that repeated polls get 304s as real feeds give them.
"""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE = Path(__file__).resolve().parent / "site"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
_STARTED = email.utils.formatdate(time.time(), usegmt=True)


@dataclass(frozen=True)
class DemoFeed:
    """A feed of the demo newsroom, as it is registered."""

    url: str
    name: str
    timezone: str | None
    tags: tuple[str, ...]


class _Handler(BaseHTTPRequestHandler):
    server: NewsroomServer

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        path = self.path.split("?", 1)[0]
        body = self.server.render(path)
        if body is None:
            self._send(404, b"not found", "text/plain; charset=utf-8")
            return
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", None, etag)
            return
        self._send(200, body, _TYPES.get(Path(path).suffix, "application/octet-stream"), etag)

    def _send(self, status: int, body: bytes, content_type: str | None, etag: str | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", _STARTED)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo shows progress, not access logs."""


class NewsroomServer(ThreadingHTTPServer):
    """Serves a site folder on 127.0.0.1; ``{base}`` in feeds becomes this server's origin."""

    daemon_threads = True

    def __init__(self, site: Path = SITE, port: int = 0) -> None:
        self.site = site
        super().__init__(("127.0.0.1", port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        """The origin, e.g. ``http://127.0.0.1:8765``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def render(self, path: str) -> bytes | None:
        """The bytes served at ``path``, or None when there is no such file."""
        if path in ("", "/"):
            path = "/articles/section-world.html"
        target = (self.site / path.lstrip("/")).resolve()
        if not target.is_file() or self.site.resolve() not in target.parents:
            return None
        data = target.read_bytes()
        if target.suffix in (".xml", ".atom"):
            data = data.replace(b"{base}", self.base.encode())
        return data

    def feeds(self) -> list[DemoFeed]:
        """The demo's feeds, ready to register."""
        found = sorted((self.site / "feeds").glob("*.*"))
        return [
            DemoFeed(url=f"{self.base}/feeds/{f.name}", name=f"Demo {f.stem}", timezone=None,
                     tags=("demo", f.stem))
            for f in found if f.suffix in (".xml", ".atom")
        ]

    @classmethod
    def on_remembered_port(cls, home: Path) -> NewsroomServer:
        """Started on the port of the last demo run (kept in ``home``), so its feed URLs stay valid."""
        port_file = Path(home) / "demo.port"
        port = int(port_file.read_text()) if port_file.exists() else 0
        try:
            server = cls(port=port)
        except OSError:  # taken by something else meanwhile
            server = cls(port=0)
        port_file.parent.mkdir(parents=True, exist_ok=True)
        port_file.write_text(str(server.server_address[1]))
        return server.start()

    def start(self) -> NewsroomServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="demo-newsroom", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()
