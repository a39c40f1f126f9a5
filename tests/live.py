"""Real servers for end-to-end tests: Parley on one origin, article pages on another."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_app(app: Flask, port: int) -> Iterator[str]:
    """Run the Flask app with werkzeug's threaded server on 127.0.0.1."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


class ArticleServer:
    """Serves article pages (set by each test) from http://localhost:PORT: another origin."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *_: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.origin = f"http://localhost:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.origin + path

    def close(self) -> None:
        self.server.shutdown()


def article_html(
    api_origin: str,
    thread: str | None = "/post",
    *,
    lang: str = "en",
    head: str = "",
    extra: str = "",
    dir_: str = "",
    title: str = "A test article",
    counts: tuple[str, ...] = (),
) -> str:
    data_thread = f' data-thread="{thread}"' if thread else ""
    count_spans = "".join(f'<span data-parley-count="{k}">?</span>' for k in counts)
    return f"""<!doctype html><html lang="{lang}"{f' dir="{dir_}"' if dir_ else ""}>
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>{head}</head>
<body><h1>{title}</h1><p>Article text.</p>{count_spans}{extra}
<div id="parley"{data_thread}></div>
<script src="{api_origin}/embed.js" data-site="default" async></script>
</body></html>"""


def server_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """PARLEY_* settings for a test server: no rate limits or spam checks unless asked."""
    from .conftest import SECRET

    return {
        "PARLEY_DATABASE_URL": database_url,
        "PARLEY_SECRET_KEY": SECRET,
        "PARLEY_RATE_LIMITS": "off",
        "PARLEY_SPAM_CHECKS": "off",
        "PARLEY_INSTANCE_PATH": str(instance),
        "PARLEY_DEMO": "on",
        **extra,
    }


@contextmanager
def serve_gunicorn(env: dict[str, str], workers: int = 4) -> Iterator[str]:
    """Parley under gunicorn on 127.0.0.1, as in production."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [
            gunicorn,
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "app:app",
        ],
        cwd=root,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
