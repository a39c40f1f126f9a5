"""`make bench`: Parley and Isso 0.14 side by side, same data, same load generator, alternating.

Installs Isso into bench/isso-venv (the baseline; none of its code is in Parley), starts each
under gunicorn with 2 sync workers on 127.0.0.1, loads a 200-comment thread (a third replies)
through each one's own API, then measures reads, posts, counts and the widget's size, and
writes the table to bench/results.md. With PostgreSQL available (scripts/postgres.sh), it adds
Parley on PostgreSQL with 4 workers and two mail workers sharing one queue.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from harness import (
    PYTHON,
    ROOT,
    WORK,
    Result,
    as_json,
    flask,
    free_port,
    fresh_sqlite,
    gunicorn,
    load,
    machine,
    parley_env,
    worker_rss_mb,
)

ISSO_VENV = ROOT / "bench" / "isso-venv"
ISSO_VERSION = "0.14.0"
THREAD, COMMENTS, COUNT_THREADS = "/bench/thread", 200, 50
ORIGIN = "http://127.0.0.1"


def install_isso() -> None:
    if not (ISSO_VENV / "bin" / "gunicorn").exists():
        subprocess.run([PYTHON, "-m", "venv", str(ISSO_VENV)], check=True)
        subprocess.run(
            [str(ISSO_VENV / "bin" / "pip"), "install", "-q", f"isso=={ISSO_VERSION}", "gunicorn"],
            check=True,
        )


class System:
    """What the benchmark needs to know to drive one comment server."""

    name: str
    read_path: str

    def new_comment(
        self, n: int, parent: Any = None, thread: str = THREAD
    ) -> tuple[str, str, bytes, dict[str, str]]:
        raise NotImplementedError

    def counts_request(self, keys: list[str]) -> tuple[str, str, bytes | None, dict[str, str]]:
        raise NotImplementedError

    def created_id(self, body: bytes) -> Any:
        raise NotImplementedError


class Parley(System):
    name = "Parley"
    read_path = f"/api/comments?site=default&thread={THREAD}&limit=200"

    def new_comment(self, n: int, parent: Any = None, thread: str = THREAD) -> Any:
        body = {
            "site": "default",
            "thread": thread,
            "author": f"Reader {n}",
            "email": f"reader{n}@example.org",
            "body": f"Comment {n}: *some* words. " * 3,
            "parent_id": parent,
        }
        return "POST", "/api/comments", as_json(body), {"Content-Type": "application/json"}

    def counts_request(self, keys: list[str]) -> Any:
        query = "&".join(f"thread={k}" for k in keys)
        return "GET", f"/api/counts?site=default&{query}", None, {}

    def created_id(self, body: bytes) -> Any:
        return json.loads(body)["comment"]["id"]


class Isso(System):
    name = "Isso"
    read_path = f"/?uri={THREAD}"

    def __init__(self, port_holder: dict[str, int]) -> None:
        self.ports = port_holder

    def _headers(self) -> dict[str, str]:
        origin = f"{ORIGIN}:{self.ports.get('isso', 0)}"
        return {"Content-Type": "application/json", "Origin": origin, "Referer": origin + "/"}

    def new_comment(self, n: int, parent: Any = None, thread: str = THREAD) -> Any:
        body = {
            "author": f"Reader {n}",
            "email": f"reader{n}@example.org",
            "text": f"Comment {n}: *some* words. " * 3,
            "parent": parent,
            "title": "Bench",
        }
        return "POST", f"/new?uri={thread}", as_json(body), self._headers()

    def counts_request(self, keys: list[str]) -> Any:
        return "POST", "/count", as_json(keys), self._headers()

    def created_id(self, body: bytes) -> Any:
        return json.loads(body)["id"]


def isso_config(port: int, db: Path) -> Path:
    config = WORK / "isso.cfg"
    config.write_text(f"""[general]
dbpath = {db}
host = {ORIGIN}:{port}
[moderation]
enabled = false
[guard]
enabled = false
[server]
listen = http://127.0.0.1:{port}
[hash]
salt = Eech7co8Ohloopo9Ol6baimi
""")
    return config


def seed(port: int, system: System) -> None:
    """The same thread through each system's own API: 200 comments, every third a reply."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    tops: list[Any] = []
    for i in range(COMMENTS):
        parent = tops[i % len(tops)] if tops and i % 3 == 2 else None
        method, path, body, headers = system.new_comment(i, parent)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        assert response.status in (200, 201), (system.name, response.status, data[:200])
        if parent is None:
            tops.append(system.created_id(data))
    for k in range(COUNT_THREADS):  # threads for the counts request
        method, path, body, headers = system.new_comment(10_000 + k, thread=f"/bench/t{k}")
        conn.request(method, path, body=body, headers=headers)
        conn.getresponse().read()


def measure(port: int, system: System, seconds: float, server: Any) -> dict[str, Result | Any]:
    keys = [f"/bench/t{k}" for k in range(COUNT_THREADS)]
    read: Callable[[int], Any] = lambda n: ("GET", system.read_path, None, {})  # noqa: E731
    counts: Callable[[int], Any] = lambda n: system.counts_request(keys)  # noqa: E731
    offset = int(time.time() * 1000) % 1_000_000 * 10
    post1: Callable[[int], Any] = lambda n: system.new_comment(  # noqa: E731
        offset + n, thread="/bench/w1"
    )
    post8: Callable[[int], Any] = lambda n: system.new_comment(  # noqa: E731
        offset + 500_000 + n, thread="/bench/w8"
    )
    out: dict[str, Any] = {}
    # Each measure after a short warm-up of its own: fresh workers load code, compile
    # statements and fill caches on first use, which is not what a running site pays.
    for key, request, share, clients in (
        ("read", read, 1, 8),
        ("counts", counts, 0.5, 8),
        ("post1", post1, 0.5, 1),
        ("post8", post8, 0.5, 8),
    ):
        load(port, request, 0.5, clients)
        out[key] = load(port, request, seconds * share, clients)
        if key == "read":
            out["rss"] = worker_rss_mb(server)
    return out


def run_parley(seconds: float, env: dict[str, str], workers: int = 2) -> dict[str, Any]:
    with gunicorn(env, workers=workers) as (port, server):
        return measure(port, Parley(), seconds, server)


def run_isso(seconds: float, db: Path, port_holder: dict[str, int]) -> dict[str, Any]:
    port_holder["isso"] = free_port()
    with isso_server(db, port_holder["isso"]) as (port, server):
        return measure(port, Isso(port_holder), seconds, server)


def isso_server(db: Path, port: int, workers: int = 2) -> Any:
    """Isso under gunicorn on `port`: its configuration names the port as its own origin."""
    env = {"ISSO_SETTINGS": str(isso_config(port, db)), "PATH": "/usr/bin:/bin"}
    return gunicorn(
        env,
        app="isso.run",
        workers=workers,
        cwd=WORK,
        health="/info",
        binary=str(ISSO_VENV / "bin" / "gunicorn"),
        port=port,
    )


def widget_sizes() -> tuple[int, int]:
    sys.path.insert(0, str(ROOT))
    from widget.assets import widget_bundle

    parley = len(widget_bundle(str(ROOT / "static")).gzipped)
    isso_js = (ISSO_VENV / "lib").glob("python*/site-packages/isso/js/embed.min.js")
    isso = len(gzip.compress(next(isso_js).read_bytes(), 9))
    return parley, isso


def best(runs: list[dict[str, Any]], key: str) -> Result:
    return max((r[key] for r in runs), key=lambda result: result.rate)


def table(
    parley: list[dict[str, Any]], isso: list[dict[str, Any]], sizes: tuple[int, int]
) -> list[str]:
    rows = [
        "| measure | Parley | Isso 0.14 | Parley / Isso | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]

    def rate_row(label: str, key: str, target: str) -> None:
        p, i = best(parley, key), best(isso, key)
        ratio = p.rate / i.rate if i.rate else float("inf")
        rows.append(f"| {label} (req/s) | {p.rate:.1f} | {i.rate:.1f} | {ratio:.1f}× | {target} |")

    rate_row("thread read, 200 comments, 8 clients", "read", "≥ 50×")
    p, i = best(parley, "read"), best(isso, "read")
    rows.append(
        f"| thread read p50 (ms) | {p.pct(0.5):.2f} | {i.pct(0.5):.2f} | "
        f"{p.pct(0.5) / i.pct(0.5):.3f} | |"
    )
    rows.append(
        f"| thread read p99 (ms), 8 clients | {p.pct(0.99):.2f} | {i.pct(0.99):.2f} | "
        f"{p.pct(0.99) / i.pct(0.99):.3f} | Parley < 20 ms |"
    )
    rate_row("post, 1 client", "post1", "≥ 2×")
    rate_row("post, 8 clients", "post8", "≥ 2×")
    rate_row(f"counts of {COUNT_THREADS} threads, 8 clients", "counts", "")
    rows.append(
        f"| widget, gzipped (bytes) | {sizes[0]} | {sizes[1]} | "
        f"{sizes[0] / sizes[1]:.2f} | ≤ 0.33 |"
    )
    rss_p = max(max(r["rss"] or [0]) for r in parley)
    rss_i = max(max(r["rss"] or [0]) for r in isso)
    rows.append(
        f"| worker RSS after reads (MB) | {rss_p:.0f} | {rss_i:.0f} | {rss_p / rss_i:.2f} | |"
    )
    pairs = [
        (mine["post1"].rate, theirs["post1"].rate)
        for mine, theirs in zip(parley, isso, strict=True)
    ]
    rounds = "; ".join(f"{a:.0f} vs {b:.0f} ({a / b:.2f}×)" for a, b in pairs)
    rows.append(f"\nPosting with 1 client, round by round (Parley vs Isso, req/s): {rounds}.")
    for label, runs in (("Parley", parley), ("Isso", isso)):
        statuses: dict[int, int] = {}
        for r in runs:
            for k in ("read", "counts", "post1", "post8"):
                for status, n in r[k].statuses.items():
                    statuses[status] = statuses.get(status, 0) + n
        rows.append(
            f"\n{label} answers across every run: "
            + ", ".join(f"{n} × {status}" for status, n in sorted(statuses.items()))
            + "."
        )
    return rows


def postgres_section(seconds: float) -> list[str]:
    try:
        url = subprocess.run(
            [str(ROOT / "scripts" / "postgres.sh"), "start"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return ["\nPostgreSQL not available: scale-out run skipped."]
    url = url.rsplit("/", 1)[0] + "/parley_bench"
    env = parley_env(url)
    subprocess.run(
        [
            "psql",
            url.replace("postgresql://", "postgres://"),
            "-qc",
            "DROP SCHEMA public CASCADE; CREATE SCHEMA public",
        ],
        check=True,
        capture_output=True,
    )
    flask(env, "db", "upgrade")
    flask(env, "sites", "set", "default", "--moderation", "none")
    with gunicorn(env, workers=4) as (port, server):
        seed(port, Parley())
        result = measure(port, Parley(), seconds, server)
    lines = [
        "",
        "Parley on PostgreSQL 15, 4 gunicorn workers:",
        "",
        "| measure | req/s | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, key in (
        ("thread read, 8 clients", "read"),
        ("post, 1 client", "post1"),
        ("post, 8 clients", "post8"),
        ("counts of 50 threads", "counts"),
    ):
        r = result[key]
        lines.append(f"| {label} | {r.rate:.1f} | {r.pct(0.5):.2f} | {r.pct(0.99):.2f} |")
    lines += two_mail_workers(env)
    return lines


def two_mail_workers(env: dict[str, str]) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from tests.smtp import SmtpServer

    smtp = SmtpServer().start()
    try:
        queue = """
from sqlalchemy import insert, select
from app import app
from widget.extensions import db
from widget.models import Address, Comment, Site, Subscription, Thread, utcnow
from widget.subscriptions import fan_out
from widget.vault import vault
with app.app_context():
    site = db.session.scalars(select(Site)).one(); now = utcnow()
    thread = Thread(site_id=site.id, key="/mail", title="Mail")
    db.session.add(thread); db.session.flush()
    db.session.execute(insert(Address), [{"email_hash": vault().lookup_hash(f"m{i}@example.org"),
        "email_enc": vault().encrypt(f"m{i}@example.org"), "confirmed_at": now,
        "suppression_reason": "", "created_at": now} for i in range(2000)])
    ids = db.session.scalars(select(Address.id).where(Address.confirmed_at.is_not(None))).all()
    db.session.execute(insert(Subscription), [{"thread_id": thread.id, "address_id": a,
        "active": True, "confirmed_at": now, "created_at": now} for a in ids])
    c = Comment(thread_id=thread.id, author="A", body="b", html="<p>b</p>", status="approved",
                created_at=now); db.session.add(c); db.session.flush(); c.root_id = c.id
    fan_out(c); db.session.commit()
"""
        subprocess.run([PYTHON, "-c", queue], cwd=ROOT, env=env, check=True)
        mail_env = {**env, "PARLEY_SMTP_URL": smtp.url, "PARLEY_MAIL_BATCH_SIZE": "100"}
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [PYTHON, "-m", "flask", "--app", "app", "mail", "worker", "--once"],
                cwd=ROOT,
                env=mail_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.wait(timeout=600)
        elapsed = time.perf_counter() - started
        received = [rcpt for rcpt, _ in smtp.recorder.messages]
        duplicates = len(received) - len(set(received))
        return [
            "",
            f"Two mail workers sharing one queue on PostgreSQL: {len(set(received))} of "
            f"2000 mails in {elapsed:.1f} s ({len(received) / elapsed:.0f} mails/s), "
            f"{duplicates} sent twice.",
        ]
    finally:
        smtp.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    install_isso()
    env = parley_env()
    fresh_sqlite(env)
    flask(env, "sites", "set", "default", "--moderation", "none")
    isso_db = WORK / "isso.db"
    isso_db.unlink(missing_ok=True)
    ports: dict[str, int] = {}
    with gunicorn(env) as (port, _):
        seed(port, Parley())
    ports["isso"] = free_port()
    seed_isso(isso_db, ports)
    parley_runs, isso_runs = [], []
    for round_ in range(args.rounds):  # alternate, so drift hits both alike
        print(f"round {round_ + 1}: Parley", flush=True)
        parley_runs.append(run_parley(args.seconds, env))
        print(f"round {round_ + 1}: Isso", flush=True)
        isso_runs.append(run_isso(args.seconds, isso_db, ports))
    rows = table(parley_runs, isso_runs, widget_sizes())
    if not args.no_postgres:
        rows += postgres_section(args.seconds)
    header = [
        f"# Parley vs Isso {ISSO_VERSION}",
        "",
        f"Run on {date.today().isoformat()}: {machine()}. Both under gunicorn with 2 sync "
        f"workers on 127.0.0.1, SQLite, the same load generator (keep-alive clients in "
        f"one process), {args.rounds} alternating rounds (reads {args.seconds:.0f} s, the "
        f"rest {args.seconds / 2:.0f} s each, each after a 0.5 s warm-up); the best "
        f"round of each is shown. Parley runs with PARLEY_RATE_LIMITS=off and "
        f"PARLEY_SPAM_CHECKS=off, Isso with its guard off; both publish without "
        f"moderation.",
        "",
    ]
    text = "\n".join(header + rows) + "\n"
    (ROOT / "bench" / "results.md").write_text(text)
    print(text)


def seed_isso(db: Path, ports: dict[str, int]) -> None:
    with isso_server(db, ports["isso"], workers=1) as (port, _):
        seed(port, Isso(ports))


if __name__ == "__main__":
    main()
