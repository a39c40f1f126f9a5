"""Parley as the README deploys it: gunicorn on loopback behind nginx terminating TLS.

The server-side pieces this needs, tested in-process first: ProxyFix (PARLEY_PROXY_HOPS),
rate-limit keys per IPv4 address or IPv6 /64, the per-account login lock, CSRF over HTTPS
(Referrer-Policy: same-origin with Flask-WTF's strict Referer check), and session
generations (logout and a password reset end every earlier cookie).

Then the real thing (one module fixture, about 10 s to start): nginx with the server block
from docs/operations.md and a throw-away certificate, two gunicorn instances sharing a
Redis, and Chromium logging in, moderating, confirming a subscription and posting through
TLS; readers speak from their own loopback addresses (127.0.0.x), as nginx would see them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from widget import create_app, subscriptions
from widget.auth import create_admin
from widget.extensions import db
from widget.models import Site
from widget.tokens import confirm_token, make_token

from .conftest import PASSWORD, SECRET, make_app
from .deploy import TOOLS_PRESENT, Reader, nginx, redis, self_signed_certificate
from .deploy import documented_server_block as server_block
from .live import CHROMIUM, free_port, serve_gunicorn, server_env

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
FLASK = str(Path(sys.executable).parent / "flask")

LOCKED = "Too many failed attempts for this account; try again in"

needs_servers = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(not TOOLS_PRESENT, reason="nginx, redis-server or openssl missing"),
]


# --- in-process: the pieces ---------------------------------------------------------------


def login(client: FlaskClient, email: str, password: str, **kwargs: Any) -> Any:
    html = client.get("/admin/login", **kwargs).get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": token, "email": email, "password": password}
    return client.post("/admin/login", data=data, **kwargs)


def post(client: FlaskClient, forwarded_for: str) -> int:
    # The proxy in front (127.0.0.1) appended the reader's address it saw.
    payload = {"site": "default", "thread": "/ip", "author": "A", "email": "a@example.org"}
    response = client.post(
        "/api/comments",
        json={**payload, "body": f"from {forwarded_for}"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    return response.status_code


def test_behind_a_proxy_ipv6_readers_are_limited_per_64(db_folder: Path) -> None:
    app = make_app(
        "sqlite", db_folder, PROXY_HOPS=1, RATE_LIMITS="on", RATE_LIMIT_POST="2 per minute"
    )
    client = app.test_client()
    # Two addresses of one /64 share its two posts; the next /64 and an IPv4 reader do not.
    assert [post(client, "2001:db8:1:2::1"), post(client, "2001:db8:1:2::ffff")] == [201, 201]
    assert post(client, "2001:db8:1:2:abcd::9") == 429
    assert post(client, "2001:db8:1:3::1") == 201
    assert [post(client, "192.0.2.1"), post(client, "192.0.2.1")] == [201, 201]
    assert [post(client, "192.0.2.1"), post(client, "192.0.2.2")] == [429, 201]


def test_without_proxy_hops_forwarded_headers_are_ignored(db_folder: Path) -> None:
    app = make_app("sqlite", db_folder, RATE_LIMITS="on", RATE_LIMIT_POST="2 per minute")
    client = app.test_client()
    # Nobody is trusted to say who the reader is: all three are 127.0.0.1.
    statuses = [post(client, f"192.0.2.{i}") for i in (1, 2, 3)]
    assert statuses == [201, 201, 429]


def login_status(client: FlaskClient, headers: dict[str, str]) -> int:
    token = client.get("/admin/login", headers=headers).get_data(as_text=True)
    token = token.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": token, "email": "x@y.z", "password": "wrong-password"}
    return client.post("/admin/login", data=data, headers=headers).status_code


@pytest.mark.parametrize("hops, https", [(1, True), (0, False)])
def test_proxy_hops_trust_the_forwarded_scheme_and_host(
    db_folder: Path, hops: int, https: bool
) -> None:
    client = make_app("sqlite", db_folder, PROXY_HOPS=hops).test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "comments.example:8443"}
    # Seen as HTTPS, a form needs a Referer from that exact origin (port included).
    assert login_status(client, forwarded) == (400 if https else 401)
    referer = {**forwarded, "Referer": "https://comments.example:8443/admin/login"}
    assert login_status(client, referer) == 401  # past CSRF: only the password was wrong


def test_forms_over_https_need_a_same_origin_referer(db_folder: Path) -> None:
    app = make_app("sqlite", db_folder)
    client = app.test_client()
    page = client.get("/admin/login", base_url="https://parley.test")
    assert page.headers["Referrer-Policy"] == "same-origin"  # so browsers send that Referer
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    data = {"csrf_token": token.split('"')[0], "email": "x@y.z", "password": "wrong-password"}
    bare = client.post("/admin/login", data=data, base_url="https://parley.test")
    assert bare.status_code == 400 and "The form expired" in bare.get_data(as_text=True)
    foreign = {"Referer": "https://evil.example/admin/login"}
    assert (
        client.post(
            "/admin/login", data=data, base_url="https://parley.test", headers=foreign
        ).status_code
        == 400
    )
    ours = {"Referer": "https://parley.test/admin/login"}
    response = client.post("/admin/login", data=data, base_url="https://parley.test", headers=ours)
    assert response.status_code == 401  # past CSRF: only the password was wrong


def test_an_account_is_locked_after_five_failures(db_folder: Path) -> None:
    app = make_app("sqlite", db_folder)
    with app.app_context():
        create_admin("mod@blog.example", PASSWORD)
    client = app.test_client()
    statuses = [login(client, "mod@blog.example", "wrong").status_code for _ in range(5)]
    assert statuses == [401] * 5
    locked = login(client, "MOD@blog.example ", PASSWORD)  # the right password, any spelling
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 14 * 60
    assert f"{LOCKED} 15 minutes." in locked.get_data(as_text=True)
    # Another account, and an unknown one (no hint which accounts exist), count on their own.
    assert login(client, "nobody@blog.example", "wrong").status_code == 401


def test_a_successful_login_clears_the_failures(db_folder: Path) -> None:
    app = make_app("sqlite", db_folder)
    with app.app_context():
        create_admin("mod@blog.example", PASSWORD)
    client = app.test_client()
    for _ in range(4):
        login(client, "mod@blog.example", "wrong")
    assert login(client, "mod@blog.example", PASSWORD).status_code == 302
    statuses = [login(client, "mod@blog.example", "wrong").status_code for _ in range(5)]
    assert statuses == [401] * 5


def test_login_lock_can_be_switched_off(db_folder: Path) -> None:
    app = make_app("sqlite", db_folder, LOGIN_FAILURES="off")
    client = app.test_client()
    statuses = {login(client, "mod@blog.example", "wrong").status_code for _ in range(7)}
    assert statuses == {401}


def test_logout_ends_a_copied_session_cookie(db_folder: Path) -> None:
    app = make_app("sqlite", db_folder)
    with app.app_context():
        create_admin("mod@blog.example", PASSWORD)
    client = app.test_client()
    assert login(client, "mod@blog.example", PASSWORD).status_code == 302
    stolen = client.get_cookie("session")
    assert stolen is not None and client.get("/admin/").status_code == 200
    html = client.get("/admin/").get_data(as_text=True)
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    client.set_cookie("session", stolen.value)  # the copy an attacker kept
    assert client.get("/admin/").status_code == 302


def test_a_password_reset_ends_earlier_sessions(db_folder: Path) -> None:
    app = make_app("sqlite", db_folder)
    with app.app_context():
        create_admin("mod@blog.example", PASSWORD)
    client, other = app.test_client(), app.test_client()
    login(client, "mod@blog.example", PASSWORD)
    login(other, "mod@blog.example", PASSWORD)
    with app.app_context():
        create_admin("mod@blog.example", "a new password, long enough")
    assert client.get("/admin/").status_code == 302
    assert other.get("/admin/").status_code == 302
    assert login(client, "mod@blog.example", "a new password, long enough").status_code == 302
    assert client.get("/admin/").status_code == 200


# --- the real deployment --------------------------------------------------------------------


@dataclass
class Deployment:
    origin: str  # https://127.0.0.1:P (nginx, in front of gunicorn instance A)
    direct: str  # http://127.0.0.1:Q (gunicorn instance B, no proxy, same Redis)
    env: dict[str, str]
    app: Flask  # in-process, same database and secret: seeds data, makes mail tokens
    pending: list[int]
    folder: Path  # nginx's logs
    admin: str = "admin@blog.example"


def flask_cli(env: dict[str, str], *args: str, stdin: str = "") -> None:
    """`flask --app app …` as an owner runs it (README, "Install and run in production")."""
    subprocess.run(
        [FLASK, "--app", "app", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


def seed(app: Flask) -> list[int]:
    """Two comments held for moderation (one for the queue, one for a mail link)."""
    with app.app_context():
        site = db.session.scalars(select(Site).where(Site.name == "default")).one()
        site.moderation = "all"
        db.session.commit()
        client = app.test_client()
        ids = []
        for body in ("Held for the queue.", "Held for the mail link."):
            payload = {"site": "default", "thread": "/x", "author": "Held", "body": body}
            response = client.post("/api/comments", json={**payload, "email": "h@example.org"})
            ids.append(response.get_json()["comment"]["id"])
        site.moderation = "none"
        db.session.commit()
        return ids


def deployment_env(folder: Path, port: int, redis_url: str) -> dict[str, str]:
    """The README's production settings, plus low limits a test can reach (spam checks off:
    the no-JS post would otherwise wait the form's 3 s minimum age)."""
    return server_env(
        f"sqlite:///{folder / 'parley.db'}",
        folder / "instance",
        PARLEY_PUBLIC_URL=f"https://127.0.0.1:{port}",
        PARLEY_PROXY_HOPS="1",
        PARLEY_RATE_LIMITS="on",
        PARLEY_RATE_LIMIT_POST="3 per minute",
        PARLEY_RATE_LIMIT_STORAGE_URL=redis_url,
    )


def in_process_app(env: dict[str, str], folder: Path) -> Flask:
    # Same database and secret as the servers: its tokens are the ones a mail would carry.
    return create_app(
        {
            "DATABASE_URL": env["PARLEY_DATABASE_URL"],
            "SECRET_KEY": SECRET,
            "INSTANCE_PATH": str(folder / "instance"),
            "RATE_LIMITS": "off",
            "SPAM_CHECKS": "off",
        }
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("deploy")
    cert, key = self_signed_certificate(folder)
    port = free_port()  # nginx's; PARLEY_PUBLIC_URL must name it before gunicorn starts
    with redis(folder) as redis_url:
        env = deployment_env(folder, port, redis_url)
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "admin", "create", "admin@blog.example", "--password-stdin", stdin=PASSWORD)
        app = in_process_app(env, folder)
        pending = seed(app)
        with (
            # A: two workers behind nginx. B: reached directly, so it trusts no proxy header.
            serve_gunicorn(env, workers=2) as upstream,
            serve_gunicorn({**env, "PARLEY_PROXY_HOPS": "0"}, workers=1) as direct,
            nginx(folder, server_block(port, cert, key, upstream), port) as origin,
        ):
            assert Reader().get(f"{origin}/healthz").status == 200
            assert Reader().get(f"{direct}/healthz").status == 200
            yield Deployment(origin, direct, env, app, pending, folder)


@pytest.fixture
def page(browser: Any, deployment: Deployment) -> Iterator[Any]:
    # The certificate is the test's own throw-away one.
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def submitted_fine(page: Any, text: str) -> None:
    """The page after a form: the expected text, and never "the form expired"."""
    page.wait_for_selector(f"text={text}")
    assert "The form expired" not in page.content()


def browser_login(page: Any, deployment: Deployment, password: str = PASSWORD) -> None:
    page.goto(f"{deployment.origin}/admin/login")
    page.fill("#email", deployment.admin)
    page.fill("#password", password)
    page.click("button[type=submit]")
    submitted_fine(page, "Comments: pending")


def session_cookie(page: Any) -> str:
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["secure"] and cookie["httpOnly"]  # PARLEY_PUBLIC_URL is https
    return str(cookie["value"])


def admin_status(deployment: Deployment, cookie: str) -> int:
    """What /admin/ answers a copy of a session cookie, sent from elsewhere."""
    reader = Reader("127.0.0.9", {"session": cookie})
    return reader.get(f"{deployment.origin}/admin/").status


@pytest.mark.usefixtures("deployment")
class TestThroughTls:
    pytestmark = needs_servers

    def test_admin_logs_in_approves_and_logs_out(self, page: Any, deployment: Deployment) -> None:
        browser_login(page, deployment)
        row = page.locator(f"#c{deployment.pending[0]}")
        assert "Held for the queue." in row.inner_text()
        screenshot(page, "deployment-admin-queue.png")
        row.locator("button[value=approve]").click()
        submitted_fine(page, "Approve: 1 comment.")
        copy = session_cookie(page)
        assert admin_status(deployment, copy) == 200
        page.click("text=Log out")
        submitted_fine(page, "Parley moderation")
        assert admin_status(deployment, copy) == 302  # logged out everywhere

    def test_a_password_reset_ends_the_session(self, page: Any, deployment: Deployment) -> None:
        browser_login(page, deployment)
        copy = session_cookie(page)
        flask_cli(
            deployment.env, "admin", "create", deployment.admin, "--password-stdin", stdin=PASSWORD
        )
        assert admin_status(deployment, copy) == 302
        page.reload()
        submitted_fine(page, "Parley moderation")  # this browser is logged out too

    def test_moderation_link_from_mail(self, page: Any, deployment: Deployment) -> None:
        with deployment.app.app_context():
            token = make_token("moderate", {"c": deployment.pending[1]})
        page.goto(f"{deployment.origin}/moderate/{token}")
        page.click("button[value=approve]")
        submitted_fine(page, "Approved: the comment is published.")
        # The documented access log has the request, not the link's token.
        logged = (deployment.folder / "parley.log").read_text()
        assert '"GET /moderate/..." 200' in logged and '"POST /moderate/..." 200' in logged
        assert token not in logged and token.split(".")[0] not in logged

    def test_confirm_and_manage_a_subscription(self, page: Any, deployment: Deployment) -> None:
        with deployment.app.app_context():
            site = db.session.scalars(select(Site).where(Site.name == "default")).one()
            subscription = subscriptions.subscribe_to_page(site, "/x", "follower@example.org")
            token = confirm_token(
                subscription.id, subscription.address.generation, subscription.created_at
            )
        page.goto(f"{deployment.origin}/subscriptions/confirm/{token}")
        page.click("text=Confirm subscription")
        submitted_fine(page, "Subscription confirmed")
        page.click("text=Manage all your subscriptions")
        page.locator("form.inline button", has_text="Unsubscribe").click()
        submitted_fine(page, "You follow no thread.")

    def test_no_js_form_posts(self, page: Any, deployment: Deployment) -> None:
        page.goto(f"{deployment.origin}/threads?site=default&thread=/x")
        page.fill("#author", "Reader over TLS")
        page.fill("#email", "tls@example.org")
        page.fill("#body", "Posted through nginx and TLS.")
        page.click("text=Post comment")
        submitted_fine(page, "Your comment is published.")
        assert page.locator("text=Posted through nginx and TLS.").count() == 1
        assert page.url.startswith(deployment.origin)  # redirects kept https and the port
        screenshot(page, "deployment-no-js-thread.png")


# --- readers and limits, from their own loopback addresses --------------------------------


def comment(body: str) -> str:
    return json.dumps(
        {"site": "default", "thread": "/readers", "author": "R", "email": "r@example.org"}
        | {"body": body}
    )


@pytest.mark.usefixtures("deployment")
class TestReaders:
    pytestmark = needs_servers

    def test_each_reader_has_their_own_limit(self, deployment: Deployment) -> None:
        a, b = Reader("127.0.0.2"), Reader("127.0.0.3")
        url = f"{deployment.origin}/api/comments"
        assert [a.post_json(url, comment(f"a{i}")).status for i in range(3)] == [201] * 3
        # A forged X-Forwarded-For changes nothing: nginx appends the address it saw.
        forged = a.post_json(url, comment("a4"), {"X-Forwarded-For": "198.51.100.7"})
        assert forged.status == 429 and int(forged.headers["Retry-After"]) > 0
        assert b.post_json(url, comment("b1")).status == 201

    def test_limits_are_shared_through_redis(self, deployment: Deployment) -> None:
        # Instance A (2 workers, behind nginx) and instance B (direct) count in one Redis.
        reader = Reader("127.0.0.4")
        targets = [deployment.origin, deployment.direct] * 2
        statuses = [
            reader.post_json(f"{target}/api/comments", comment(f"c{i}")).status
            for i, target in enumerate(targets)
        ]
        assert statuses == [201, 201, 201, 429]

    def test_an_account_lock_holds_across_instances(self, deployment: Deployment) -> None:
        with deployment.app.app_context():
            create_admin("second@blog.example", PASSWORD)
        reader, origin = Reader("127.0.0.6"), deployment.origin
        token = reader.get(f"{origin}/admin/login").csrf_token()
        fields = {"csrf_token": token, "email": "second@blog.example", "password": "wrong"}
        # Over HTTPS a form without a same-origin Referer is refused (docs/security.md).
        assert reader.post_form(f"{origin}/admin/login", fields).status == 400
        referer = f"{origin}/admin/login"
        statuses = [
            reader.post_form(f"{target}/admin/login", fields, referer).status
            for target in [origin, deployment.direct] * 2 + [deployment.direct]
        ]
        assert statuses == [401] * 5
        locked = reader.post_form(f"{origin}/admin/login", fields | {"password": PASSWORD}, referer)
        assert locked.status == 429 and f"{LOCKED} 15 minutes." in locked.text
