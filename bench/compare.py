"""`make bench`: Parley beside Isso 0.14 and Waline 1.39: same data, same load, alternating.

Installs the peers (none of their code is in Parley): Isso into bench/isso-venv, run under gunicorn
with 2 sync workers; Waline's server (@waline/vercel) and client with npm into bench/waline,
run as its self-hosting guide says (`node node_modules/@waline/vercel/vanilla.js`, a ThinkJS
cluster) with 2 workers. Each listens on 127.0.0.1 only and stores into SQLite. The bench loads a
200-comment thread (a third replies) through each one's own API, then measures reads, posts,
counts and the widget's size, and writes the table to bench/results.md. With PostgreSQL available
(scripts/postgres.sh), it adds Parley on PostgreSQL with 4 workers and two mail workers sharing
one queue. `--quick` (1 s rounds, one round, no PostgreSQL) only checks that everything answers:
it writes bench/.work/results-quick.md and leaves bench/results.md alone.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness import (
    PYTHON,
    ROOT,
    WORK,
    Request,
    Requests,
    Result,
    as_json,
    flask,
    free_port,
    fresh_sqlite,
    gunicorn,
    load,
    machine,
    parley_env,
    serve,
    worker_rss_mb,
)

ISSO_VENV = ROOT / "bench" / "isso-venv"
ISSO_VERSION = "0.14.0"
WALINE_DIR = ROOT / "bench" / "waline"  # npm installs here what its package.json pins
WALINE_PINS: dict[str, str] = json.loads((WALINE_DIR / "package.json").read_text())["dependencies"]
WALINE_VERSION = WALINE_PINS["@waline/vercel"]  # the server
WALINE_CLIENT_VERSION = WALINE_PINS["@waline/client"]  # the widget
THREAD, COMMENTS, COUNT_THREADS = "/bench/thread", 200, 50
ORIGIN = "http://127.0.0.1"
POST_THREADS = ("/bench/w1", "/bench/w8")  # where the measured posts go
POST_NUMBERS = itertools.count(1_000_000)  # the seed uses numbers below
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


class System:
    """What the benchmark needs to know to install, start and drive one comment server."""

    name: str
    title: str  # the table's column
    read_path: str

    def __init__(self) -> None:
        self.port = free_port()

    def install(self) -> None:
        pass

    def reset(self) -> None:
        """Empty storage, schema in place."""

    def server(self, workers: int = 2) -> Any:
        """Context manager: the server up on 127.0.0.1:self.port, yielding its master process."""
        raise NotImplementedError

    def read_request(self) -> Requests:
        return "GET", self.read_path, None, {}

    def new_comment(self, n: int, parent: Any = None, thread: str = THREAD) -> Request:
        raise NotImplementedError

    def counts_request(self, keys: list[str]) -> Request:
        raise NotImplementedError

    def created_id(self, body: bytes) -> Any:
        raise NotImplementedError

    def check_seeded(self) -> None:
        """After seeding: whatever the benchmark's requests rely on that the status won't show."""

    def widget_gzipped(self) -> int:
        raise NotImplementedError

    def stored_posts(self) -> int | None:
        """Comments stored in the measured posts' threads, where a 2xx may not mean stored."""
        return None


class Parley(System):
    name = title = "Parley"
    read_path = f"/api/comments?site=default&thread={THREAD}&limit=200"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__()
        self.env = env or parley_env()

    def reset(self) -> None:
        fresh_sqlite(self.env)
        flask(self.env, "sites", "set", "default", "--moderation", "none")

    @contextmanager
    def server(self, workers: int = 2) -> Iterator[subprocess.Popen[bytes]]:
        with gunicorn(self.env, workers=workers, port=self.port) as (_, server):
            yield server

    def new_comment(self, n: int, parent: Any = None, thread: str = THREAD) -> Request:
        body = {
            "site": "default",
            "thread": thread,
            "author": f"Reader {n}",
            "email": f"reader{n}@example.org",
            "body": f"Comment {n}: *some* words. " * 3,
            "parent_id": parent,
        }
        return "POST", "/api/comments", as_json(body), {"Content-Type": "application/json"}

    def counts_request(self, keys: list[str]) -> Request:
        query = "&".join(f"thread={k}" for k in keys)
        return "GET", f"/api/counts?site=default&{query}", None, {}

    def created_id(self, body: bytes) -> Any:
        return json.loads(body)["comment"]["id"]

    def widget_gzipped(self) -> int:
        sys.path.insert(0, str(ROOT))
        from widget.assets import widget_bundle

        return len(widget_bundle(str(ROOT / "static")).gzipped)


class Isso(System):
    name = "Isso"
    title = f"Isso {ISSO_VERSION}"
    read_path = f"/?uri={THREAD}"

    def __init__(self) -> None:
        super().__init__()
        self.db = WORK / "isso.db"
        origin = f"{ORIGIN}:{self.port}"  # Isso checks Origin against its own host
        self.headers = {
            "Content-Type": "application/json",
            "Origin": origin,
            "Referer": origin + "/",
        }

    def install(self) -> None:
        if not (ISSO_VENV / "bin" / "gunicorn").exists():
            subprocess.run([PYTHON, "-m", "venv", str(ISSO_VENV)], check=True)
            subprocess.run(
                [
                    str(ISSO_VENV / "bin" / "pip"),
                    "install",
                    "-q",
                    f"isso=={ISSO_VERSION}",
                    "gunicorn",
                ],
                check=True,
            )

    def reset(self) -> None:
        self.db.unlink(missing_ok=True)

    def config(self) -> Path:
        config = WORK / "isso.cfg"
        config.write_text(f"""[general]
dbpath = {self.db}
host = {ORIGIN}:{self.port}
[moderation]
enabled = false
[guard]
enabled = false
[server]
listen = http://127.0.0.1:{self.port}
[hash]
salt = Eech7co8Ohloopo9Ol6baimi
""")
        return config

    @contextmanager
    def server(self, workers: int = 2) -> Iterator[subprocess.Popen[bytes]]:
        env = {"ISSO_SETTINGS": str(self.config()), "PATH": "/usr/bin:/bin"}
        with gunicorn(
            env,
            app="isso.run",
            workers=workers,
            cwd=WORK,
            health="/info",
            binary=str(ISSO_VENV / "bin" / "gunicorn"),
            port=self.port,
        ) as (_, server):
            yield server

    def new_comment(self, n: int, parent: Any = None, thread: str = THREAD) -> Request:
        body = {
            "author": f"Reader {n}",
            "email": f"reader{n}@example.org",
            "text": f"Comment {n}: *some* words. " * 3,
            "parent": parent,
            "title": "Bench",
        }
        return "POST", f"/new?uri={thread}", as_json(body), self.headers

    def counts_request(self, keys: list[str]) -> Request:
        return "POST", "/count", as_json(keys), self.headers

    def created_id(self, body: bytes) -> Any:
        return json.loads(body)["id"]

    def widget_gzipped(self) -> int:
        script = next((ISSO_VENV / "lib").glob("python*/site-packages/isso/js/embed.min.js"))
        return len(gzip.compress(script.read_bytes(), 9))


# The tables of Waline's assets/waline.sqlite (its docs: download it, point SQLITE_PATH at its
# folder); neither npm package carries it, so they are made here, with no index, as shipped.
WALINE_SCHEMA = """
CREATE TABLE wl_Comment (
  id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, comment TEXT, insertedAt {now},
  ip TEXT, link TEXT, mail TEXT, nick TEXT, rid INTEGER, pid INTEGER, sticky NUMERIC,
  status TEXT NOT NULL, "like" INTEGER, ua TEXT, url TEXT, createdAt {now}, updatedAt {now});
CREATE TABLE wl_Counter (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER, reaction0 INTEGER, reaction1 INTEGER,
  reaction2 INTEGER, reaction3 INTEGER, reaction4 INTEGER, reaction5 INTEGER, reaction6 INTEGER,
  reaction7 INTEGER, reaction8 INTEGER, url TEXT, createdAt {now}, updatedAt {now});
CREATE TABLE wl_Users (
  id INTEGER PRIMARY KEY AUTOINCREMENT, display_name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '', password TEXT NOT NULL DEFAULT '', type TEXT NOT NULL DEFAULT '',
  label TEXT, github TEXT, twitter TEXT, facebook TEXT, google TEXT, weibo TEXT, qq TEXT,
  oidc TEXT, huawei TEXT, "2fa" TEXT, avatar TEXT, url TEXT, createdAt {now}, updatedAt {now});
""".format(now="DATETIME DEFAULT (datetime('now', 'localtime'))")


class Waline(System):
    """Waline's own API, as @waline/client calls it (/api/comment, JSON, `lang` on every call)."""

    name = "Waline"
    title = f"Waline {WALINE_VERSION}"
    page_size = 100  # the most Waline serves: a 200-comment thread takes two requests

    def __init__(self) -> None:
        super().__init__()
        self.db = WORK / "waline" / "waline.sqlite"  # SQLITE_PATH / SQLITE_DB.sqlite
        self.server_dir = WALINE_DIR / "node_modules" / "@waline" / "vercel"
        self.reads: list[Request] = [
            ("GET", self.list_path(THREAD, page), None, {}) for page in (1, 2)
        ]

    def list_path(self, thread: str, page: int) -> str:
        return (
            f"/api/comment?path={quote(thread, safe='')}&pageSize={self.page_size}&page={page}"
            "&lang=en&sortBy=insertedAt_desc"
        )

    def install(self) -> None:
        modules = WALINE_DIR / "node_modules"
        if any(
            not (modules / name / "package.json").exists()
            or json.loads((modules / name / "package.json").read_text())["version"] != version
            for name, version in WALINE_PINS.items()
        ):
            # sqlite3, under think-model-sqlite, builds from source with node-gyp here (its
            # prebuilt download is off the registry): a C++ compiler and Node's headers.
            subprocess.run(
                ["npm", "install", "--prefix", str(WALINE_DIR), "--no-audit", "--no-fund"],
                check=True,
            )
        probe = subprocess.run(
            ["node", "-e", "require('sqlite3')"], cwd=WALINE_DIR, capture_output=True, text=True
        )
        if probe.returncode:
            raise SystemExit(f"Waline's SQLite driver does not load:\n{probe.stderr[-800:]}")

    def reset(self) -> None:
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.db.unlink(missing_ok=True)
        with sqlite3.connect(self.db) as db:
            db.executescript(WALINE_SCHEMA)
        db.close()

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "NODE_ENV": "production",
            "SQLITE_PATH": str(self.db.parent),
            "SQLITE_DB": self.db.stem,
            "JWT_TOKEN": "bench-jwt-token-bench-jwt-token",
            "SITE_NAME": "Bench",
            "SITE_URL": f"{ORIGIN}:{self.port}",
            "COMMENT_AUDIT": "false",  # publish at once, as Parley and Isso do here
            "IPQPS": "0",  # its per-IP limit (one comment a minute) off
            "AKISMET_KEY": "false",  # else every comment goes to akismet.com
            # Neither Parley nor Isso shows a reader's browser, OS or region: no UA parsing nor
            # IP-to-region lookup for each comment read.
            "DISABLE_USERAGENT": "true",
            "DISABLE_REGION": "true",
            # Waline fetches this list of login services on every request (by default from
            # https://oauth.lithub.cc); a data: URL answers in-process, no network, no wait.
            "OAUTH_URL": 'data:application/json,{"services":[]}',
        }

    @contextmanager
    def server(self, workers: int = 2) -> Iterator[subprocess.Popen[bytes]]:
        # vanilla.js applies ./config.js beside it over its configuration: the way to pick the
        # address (it would listen on every interface) and the number of cluster workers (its
        # own configuration says 1; 2 here, as Parley and Isso get).
        (self.server_dir / "config.js").write_text(
            f"module.exports = {{ host: '127.0.0.1', workers: {workers} }};\n"
        )
        command = ["node", str(self.server_dir / "vanilla.js"), str(self.port)]
        # It logs every SQL statement to stdout: dropped; errors go to stderr, kept.
        with (
            open(WORK / "waline.log", "ab") as log,
            serve(
                command,
                self.port,
                self.env(),
                cwd=WALINE_DIR,
                health="/api/comment?type=count&url=%2F&lang=en",
                stdout=subprocess.DEVNULL,
                stderr=log,
            ) as server,
        ):
            yield server

    def read_request(self) -> Requests:
        return self.reads

    def new_comment(self, n: int, parent: Any = None, thread: str = THREAD) -> Request:
        body: dict[str, Any] = {
            "comment": f"Comment {n}: *some* words. " * 3,
            "nick": f"Reader {n}",
            "mail": f"reader{n}@example.org",
            "link": "",
            "url": thread,
            "ua": USER_AGENT,
        }
        if parent is not None:  # replies to a top-level comment: it is parent and root
            body.update(pid=parent, rid=parent, at="Reader")
        # Each post from its own reader's address (it trusts X-Forwarded-For, as behind the
        # proxy its guide sets up): with 8 clients on one address, IPQPS=0 still refused a few
        # posts in a hundred, "Comment too fast!" (its check compares times kept to the second).
        headers = {
            "Content-Type": "application/json",
            "X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
        }
        return "POST", "/api/comment?lang=en", as_json(body), headers

    def counts_request(self, keys: list[str]) -> Request:
        urls = quote(",".join(keys), safe="")
        return "GET", f"/api/comment?type=count&url={urls}&lang=en", None, {}

    def created_id(self, body: bytes) -> Any:
        answer = json.loads(body)
        if answer.get("errno"):  # Waline answers a refused comment 200, with an errno
            raise RuntimeError(f"Waline refused a comment: {answer}")
        return answer["data"]["objectId"]

    def check_seeded(self) -> None:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        seen = 0
        for _, path, _, _ in self.reads:
            conn.request("GET", path)
            page = json.loads(conn.getresponse().read())["data"]
            seen += sum(1 + len(c["children"]) for c in page["data"])
        assert seen == COMMENTS, f"Waline's two pages hold {seen} comments, not {COMMENTS}"
        method, path, body, headers = self.counts_request([f"/bench/t{k}" for k in range(3)])
        conn.request(method, path, body=body, headers=headers)
        counts = json.loads(conn.getresponse().read())["data"]
        assert counts == [1, 1, 1], f"Waline's counts: {counts}"

    def widget_gzipped(self) -> int:
        # What its guide puts in a page: dist/waline.js (an ES module) and dist/waline.css.
        dist = WALINE_DIR / "node_modules" / "@waline" / "client" / "dist"
        return sum(
            len(gzip.compress((dist / name).read_bytes(), 9))
            for name in ("waline.js", "waline.css")
        )

    def stored_posts(self) -> int:
        with sqlite3.connect(self.db) as db:
            marks = ",".join("?" * len(POST_THREADS))
            query = f"SELECT COUNT(*) FROM wl_Comment WHERE url IN ({marks})"
            count = int(db.execute(query, POST_THREADS).fetchone()[0])
        db.close()
        return count


def seed(system: System) -> None:
    """The same thread through each system's own API: 200 comments, every third a reply."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", system.port, timeout=30)
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
        response = conn.getresponse()
        data = response.read()
        assert response.status in (200, 201), (system.name, response.status, data[:200])
        system.created_id(data)


def measure(system: System, seconds: float, server: Any) -> dict[str, Any]:
    keys = [f"/bench/t{k}" for k in range(COUNT_THREADS)]
    read: Callable[[int], Requests] = lambda n: system.read_request()  # noqa: E731
    counts: Callable[[int], Request] = lambda n: system.counts_request(keys)  # noqa: E731
    # Every post its own text, warm-ups and rounds included: Waline refuses a duplicate.
    post1: Callable[[int], Request] = lambda n: system.new_comment(  # noqa: E731
        next(POST_NUMBERS), thread=POST_THREADS[0]
    )
    post8: Callable[[int], Request] = lambda n: system.new_comment(  # noqa: E731
        next(POST_NUMBERS), thread=POST_THREADS[1]
    )
    out: dict[str, Any] = {"warmup": {}}
    # Each measure after a short warm-up of its own: fresh workers load code, compile
    # statements and fill caches on first use, which is not what a running site pays.
    for key, request, share, clients in (
        ("read", read, 1, 8),
        ("counts", counts, 0.5, 8),
        ("post1", post1, 0.5, 1),
        ("post8", post8, 0.5, 8),
    ):
        out["warmup"][key] = load(system.port, request, 0.5, clients)
        out[key] = load(system.port, request, seconds * share, clients)
        if key == "read":
            out["rss"] = worker_rss_mb(server)
    return out


def run(system: System, seconds: float) -> dict[str, Any]:
    with system.server() as server:
        return measure(system, seconds, server)


def best(runs: list[dict[str, Any]], key: str) -> Result:
    return max((r[key] for r in runs), key=lambda result: result.rate)


def ratio(mine: float, theirs: float, digits: int, suffix: str = "") -> str:
    return f"{mine / theirs:.{digits}f}{suffix}" if theirs else "∞"


def table(systems: list[System], runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    parley, peers = systems[0], systems[1:]
    rows = [
        "| measure | "
        + " | ".join(s.title for s in systems)
        + "".join(f" | Parley / {s.name}" for s in peers)
        + " | target (Parley / Isso) |",
        "| --- |" + " ---: |" * (len(systems) + len(peers)) + " --- |",
    ]

    def row(
        label: str, values: list[float], fmt: str, digits: int, suffix: str, target: str
    ) -> None:
        cells = [format(v, fmt) for v in values]
        cells += [ratio(values[0], v, digits, suffix) for v in values[1:]]
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")

    def rate_row(label: str, key: str, target: str) -> None:
        row(
            f"{label} (req/s)",
            [best(runs[s.name], key).rate for s in systems],
            ".1f",
            1,
            "×",
            target,
        )

    rate_row("thread read, 200 comments, 8 clients", "read", "≥ 50×")
    reads = [best(runs[s.name], "read") for s in systems]
    row("thread read p50 (ms)", [r.pct(0.5) for r in reads], ".2f", 3, "", "")
    row(
        "thread read p99 (ms), 8 clients",
        [r.pct(0.99) for r in reads],
        ".2f",
        3,
        "",
        "Parley < 20 ms",
    )
    rate_row("post, 1 client", "post1", "≥ 2×")
    rate_row("post, 8 clients", "post8", "≥ 2×")
    rate_row(f"counts of {COUNT_THREADS} threads, 8 clients", "counts", "")
    row("widget, gzipped (bytes)", [s.widget_gzipped() for s in systems], "d", 2, "", "≤ 0.33")
    rss = [max(max(r["rss"] or [0]) for r in runs[s.name]) for s in systems]
    row("worker RSS after reads (MB)", rss, ".0f", 2, "", "")
    for peer in peers:
        pairs = [
            (mine["post1"].rate, theirs["post1"].rate)
            for mine, theirs in zip(runs[parley.name], runs[peer.name], strict=True)
        ]
        rounds = "; ".join(f"{a:.0f} vs {b:.0f} ({ratio(a, b, 2, '×')})" for a, b in pairs)
        rows.append(
            f"\nPosting with 1 client, round by round (Parley vs {peer.name}, req/s): {rounds}."
        )
    for system in systems:
        statuses: dict[int, int] = {}
        for r in runs[system.name]:
            for k in ("read", "counts", "post1", "post8"):
                for status, n in r[k].statuses.items():
                    statuses[status] = statuses.get(status, 0) + n
        rows.append(
            f"\n{system.name} answers across every run: "
            + ", ".join(f"{n} × {status}" for status, n in sorted(statuses.items()))
            + "."
        )
        stored = system.stored_posts()
        if stored is not None:
            answered = sum(
                result.statuses.get(200, 0)
                for r in runs[system.name]
                for results in (r, r["warmup"])
                for result in (results["post1"], results["post8"])
            )
            rows.append(
                f"{system.name} answers a refused comment 200 with an error in the body: it "
                f"stored {stored} of the {answered} posts it answered 200 (warm-ups included)."
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
    parley = Parley(env)
    with parley.server(workers=4) as server:
        seed(parley)
        result = measure(parley, seconds, server)
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
    parser.add_argument(
        "--peers", default="isso,waline", help="comma-separated, of: isso, waline (default both)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a check that all answer: 1 s rounds, one round, no PostgreSQL, results in "
        "bench/.work/results-quick.md",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.no_postgres = 1.0, 1, True
    WORK.mkdir(parents=True, exist_ok=True)
    known: dict[str, Callable[[], System]] = {"isso": Isso, "waline": Waline}
    names = [name.strip().lower() for name in args.peers.split(",") if name.strip()]
    if unknown := [name for name in names if name not in known]:
        parser.error(f"unknown peers: {', '.join(unknown)}")
    systems: list[System] = [Parley(), *(known[name]() for name in names)]
    for system in systems:
        system.install()
    for system in systems:
        print(f"seeding {system.name}", flush=True)
        system.reset()
        with system.server(workers=1):
            seed(system)
            system.check_seeded()
    runs: dict[str, list[dict[str, Any]]] = {system.name: [] for system in systems}
    for round_ in range(args.rounds):  # alternate, so drift hits all alike
        for system in systems:
            print(f"round {round_ + 1}: {system.name}", flush=True)
            runs[system.name].append(run(system, args.seconds))
    rows = table(systems, runs)
    if not args.no_postgres:
        rows += postgres_section(args.seconds)
    text = "\n".join(header(systems, args) + rows) + "\n"
    out = WORK / "results-quick.md" if args.quick else ROOT / "bench" / "results.md"
    out.write_text(text)
    print(text)


def header(systems: list[System], args: argparse.Namespace) -> list[str]:
    names = [s.name for s in systems]
    peers = " and ".join(s.title for s in systems[1:])
    lines = [
        f"# Parley vs {peers}" if peers else "# Parley",
        "",
        f"Run on {date.today().isoformat()}: {machine()}"
        + (f", Node.js {node_version()}" if "Waline" in names else "")
        + ". Each on 127.0.0.1 with 2 worker processes and SQLite, the same load generator "
        f"(keep-alive clients in one process), {args.rounds} alternating "
        f"round{'s' * (args.rounds != 1)} (reads "
        f"{args.seconds:g} s, the rest {args.seconds / 2:g} s each, each after a 0.5 s "
        "warm-up); the best round of each is shown. All publish without moderation. Parley "
        "runs under gunicorn with 2 sync workers, PARLEY_RATE_LIMITS=off and "
        "PARLEY_SPAM_CHECKS=off.",
    ]
    if "Isso" in names:
        lines[-1] += " Isso runs under gunicorn with 2 sync workers, its guard off."
    if "Waline" in names:
        lines[-1] += (
            f" Waline (@waline/vercel {WALINE_VERSION}) runs as its self-hosting guide says, "
            "`node node_modules/@waline/vercel/vanilla.js`, a ThinkJS cluster of 2 workers, "
            "with the tables of its assets/waline.sqlite; AKISMET_KEY=false, IPQPS=0 (its "
            "one-comment-a-minute limit off; each post also carries an X-Forwarded-For address of "
            "its own, as from distinct readers), DISABLE_USERAGENT and DISABLE_REGION on "
            "(neither Parley nor Isso shows a reader's browser or region), and OAUTH_URL a "
            "data: URL, as it fetches its list of login services on every request (from "
            "oauth.lithub.cc by default). A Waline thread read is two requests on one "
            "connection, timed together: it serves at most 100 top-level comments a request "
            f"and the thread has 134. Its widget is @waline/client {WALINE_CLIENT_VERSION}'s "
            "dist/waline.js and dist/waline.css, gzipped one by one."
        )
    return [*lines, ""]


def node_version() -> str:
    done = subprocess.run(["node", "--version"], capture_output=True, text=True)
    return done.stdout.strip().removeprefix("v")


if __name__ == "__main__":
    main()
