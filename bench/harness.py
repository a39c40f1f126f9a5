"""Benchmark helpers: start servers on 127.0.0.1, drive them with a bounded load, summarise.

Traffic goes to loopback only; every run stops by itself after its duration.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parley_env(db_url: str | None = None, **extra: str) -> dict[str, str]:
    instance = WORK / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PARLEY_INSTANCE_PATH": str(instance),
        "PARLEY_RATE_LIMITS": "off",
        "PARLEY_SPAM_CHECKS": "off",
        "PARLEY_DEMO": "on",  # the `default` site the benchmark posts to
        "PARLEY_SECRET_KEY": "bench-secret-key-bench-secret-key",
    }
    env["PARLEY_DATABASE_URL"] = db_url or f"sqlite:///{instance / 'bench.db'}"
    env.update(extra)
    return env


def flask(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def fresh_sqlite(env: dict[str, str]) -> None:
    path = Path(env["PARLEY_DATABASE_URL"].removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    flask(env, "db", "upgrade")


def wait_for(url_host: str, port: int, path: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection(url_host, port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


@contextmanager
def gunicorn(
    env: dict[str, str],
    app: str = "app:app",
    workers: int = 2,
    cwd: Path = ROOT,
    health: str = "/healthz",
    binary: str | None = None,
    port: int | None = None,
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A gunicorn server with `workers` sync workers on 127.0.0.1, up once `health` answers."""
    port = port or free_port()
    command = [
        binary or str(Path(PYTHON).parent / "gunicorn"),
        "-w",
        str(workers),
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app,
    ]
    with serve(command, port, env, cwd=cwd, health=health) as server:
        yield port, server


@contextmanager
def serve(
    command: list[str],
    port: int,
    env: dict[str, str],
    cwd: Path = ROOT,
    health: str = "/",
    stdout: Any = None,
    stderr: Any = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process listening on 127.0.0.1:`port`, up once `health` answers; stopped after."""
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
    try:
        wait_for("127.0.0.1", port, health)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=20)


def worker_rss_mb(server: subprocess.Popen[bytes]) -> list[float]:
    """Resident memory of each worker: the children of a gunicorn or Node cluster master."""
    out = subprocess.run(
        ["ps", "-o", "pid=,rss=", "--ppid", str(server.pid)], capture_output=True, text=True
    ).stdout
    return [int(line.split()[1]) / 1024 for line in out.strip().splitlines()]


@dataclass
class Result:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def ok_rate(self) -> float:
        """Successful (2xx/3xx) responses per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def line(self, label: str) -> str:
        return (
            f"{label}: {self.rate:8.1f} req/s  p50 {self.pct(0.5):6.2f} ms  "
            f"p99 {self.pct(0.99):6.2f} ms  ({self.requests} requests, {self.errors} errors)"
        )


Request = tuple[str, str, bytes | None, dict[str, str]]
# A list of requests is sent in turn on one connection and timed as one sample: a page that
# takes a peer two requests (Waline serves at most 100 top-level comments a request).
Requests = Request | list[Request]


def load(
    port: int,
    make_request: Callable[[int], Requests],
    seconds: float,
    concurrency: int,
    max_requests: int = 1_000_000,
) -> Result:
    """`concurrency` keep-alive clients for `seconds` (or max_requests); then it stops."""
    result = Result()
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    counter = iter(range(max_requests))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: list[float] = []
        statuses: dict[int, int] = {}
        errors = 0
        while time.perf_counter() < stop_at:
            try:
                n = next(counter)
            except StopIteration:
                break
            requests = make_request(n)
            started = time.perf_counter()
            try:
                for method, path, body, headers in (
                    requests if isinstance(requests, list) else (requests,)
                ):
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    if response.status >= 400:
                        errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            local.append(time.perf_counter() - started)
        with lock:
            result.latencies.extend(local)
            result.errors += errors
            for status, n in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + n

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.requests = len(result.latencies)
    return result


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, "
        f"Python {platform.python_version()}"
    )


def seed_thread(
    env: dict[str, str], key: str, count: int, reply_every: int = 3, site: str = "default"
) -> None:
    """`count` approved comments in one thread, every third a reply, straight through the app."""
    script = f"""
from app import app
from widget.comments import post_comment
from widget.forms import NewComment
from widget.sites import save_site
from widget.threads import find_page_thread
with app.app_context():
    save_site({site!r}, moderation="none", create=False)
    tops = []
    for i in range({count}):
        parent = tops[i % len(tops)] if tops and i % {reply_every} == {reply_every} - 1 else None
        page = find_page_thread({site!r}, {key!r})
        c, _ = post_comment(page, NewComment(thread_key={key!r}, author=f"Reader {{i}}",
            email=f"reader{{i}}@example.org", body=f"Comment {{i}}: *some* words about it, " * 3,
            title="Bench thread", parent_id=parent))
        if parent is None: tops.append(c.id)
"""
    subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, check=True)


def as_json(obj: object) -> bytes:
    return json.dumps(obj).encode()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
