"""Real servers around Parley for the deployment test: a self-signed certificate, nginx
terminating TLS with the server block from docs/operations.md, Redis, and an HTTP client
that can speak from any 127.0.0.x address (each one a different reader)."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from .live import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
TOOLS_PRESENT = all(Path(tool).exists() for tool in (NGINX, REDIS, OPENSSL))


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 15) -> None:
    """Until something accepts on 127.0.0.1:port; fail at once if `process` died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


@contextmanager
def running(args: list[str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server, wait for its port, and always stop it (SIGTERM, then SIGKILL)."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 (P-256: made in milliseconds)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def documented_server_block(port: int, cert: Path, key: Path, upstream: str) -> str:
    """The nginx server block of docs/operations.md, on our port, certificate and gunicorn:
    the test runs the very configuration the documentation gives."""
    block = _nginx_block("server {")
    for documented, ours in {
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "server_name comments.example.com;": "server_name 127.0.0.1;",
        "/etc/letsencrypt/live/comments.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/comments.example.com/privkey.pem": str(key),
        "proxy_pass http://127.0.0.1:8000;": f"proxy_pass {upstream};",
    }.items():
        assert documented in block, f"docs/operations.md no longer has {documented!r}"
        block = block.replace(documented, ours)
    return block


def _nginx_block(holding: str) -> str:
    """The ```nginx block of docs/operations.md that holds `holding`."""
    text = (ROOT / "docs/operations.md").read_text()
    blocks = [part.split("```", 1)[0] for part in text.split("```nginx\n")[1:]]
    return next(block for block in blocks if holding in block)


def documented_log_block(folder: Path) -> str:
    """The access log of docs/operations.md that leaves mail links' tokens out, into
    `folder`/parley.log."""
    block = _nginx_block("log_format parley")
    assert "/var/log/nginx/parley.log" in block
    return block.replace("/var/log/nginx/parley.log", str(folder / "parley.log"))


def nginx_conf(folder: Path, server_block: str) -> str:
    # Everything nginx writes stays in the test's folder. As root, nginx would run its
    # workers as "nobody", who cannot enter that private folder for temporary files.
    user = "user root;\n" if os.geteuid() == 0 else ""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in kinds)
    return f"""{user}daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log {folder / "access.log"};
{temp}
{documented_log_block(folder)}
{server_block}
}}
"""


@contextmanager
def nginx(folder: Path, server_block: str, port: int) -> Iterator[str]:
    """nginx in the foreground on 127.0.0.1:port; yields its https:// origin."""
    conf = folder / "nginx.conf"
    conf.write_text(nginx_conf(folder, server_block))
    base = [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)]
    subprocess.run([*base, "-t", "-q"], check=True, capture_output=True)
    with running(base, port, folder / "nginx.out"):
        yield f"https://127.0.0.1:{port}"


@contextmanager
def redis(folder: Path) -> Iterator[str]:
    """A Redis that keeps nothing on disk, on a free loopback port; yields its URL."""
    port = free_port()
    args = [REDIS, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    args += ["--appendonly", "no", "--dir", str(folder)]
    with running(args, port, folder / "redis.log"):
        yield f"redis://127.0.0.1:{port}/0"


# --- an HTTP client speaking from a chosen loopback address --------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def csrf_token(self) -> str:
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', self.text)
        assert match, self.text[:500]
        return match.group(1)


@dataclass
class Reader:
    """One browser-less visitor: its own source address (127.0.0.x) and cookie jar.

    nginx sees the source address as $remote_addr, exactly as it would see a reader's.
    """

    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        parts = urlsplit(url)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = self._connect(parts.scheme, parts.port or 443)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            reply = Reply(response.status, response.headers, response.read().decode())
        finally:
            connection.close()
        self._keep_cookies(reply)
        return reply

    def get(self, url: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", url, headers=headers)

    def post_form(self, url: str, fields: dict[str, str], referer: str | None = None) -> Reply:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if referer:
            headers["Referer"] = referer
        return self.request("POST", url, urlencode(fields).encode(), headers)

    def post_json(self, url: str, payload: str, headers: dict[str, str] | None = None) -> Reply:
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self.request("POST", url, payload.encode(), headers)

    def _connect(self, scheme: str, port: int) -> http.client.HTTPConnection:
        source = (self.source, 0)
        if scheme == "http":
            return http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=source)
        # The certificate is the test's own throw-away one: not verified, like the browser's
        # ignore_https_errors.
        context = ssl._create_unverified_context()
        return http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=15, source_address=source, context=context
        )

    def _keep_cookies(self, reply: Reply) -> None:
        for header in reply.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
