"""Moderation modes, spam defences, the learning score, the admin pages, mail links."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import event, func, select

from widget import spam
from widget.extensions import db
from widget.models import (
    APPROVED,
    PENDING,
    SPAM,
    Address,
    Block,
    Comment,
    ModerationEvent,
    Site,
    Subscription,
)
from widget.tokens import make_token
from widget.vault import vault

from .conftest import PASSWORD, Api, csrf, make_app


def set_site(**values: Any) -> Site:
    site = db.session.scalars(select(Site)).one()
    for key, value in values.items():
        setattr(site, key, value)
    db.session.commit()
    return site


def status_of(response: Any) -> str:
    comment_id = response.get_json()["comment"]["id"]
    return db.session.get(Comment, comment_id).status  # type: ignore[union-attr]


# --- moderation modes --------------------------------------------------------------


def test_first_time_mode_holds_new_addresses_until_one_is_approved(
    api: Api, admin: FlaskClient
) -> None:
    set_site(moderation="first-time")
    first = api.post(email="new@example.org")
    assert first.get_json()["status"] == "pending"
    token = csrf(admin, "/admin/")
    admin.post(
        "/admin/comments",
        data={"csrf_token": token, "action": "approve", "ids": first.get_json()["comment"]["id"]},
    )
    proof = first.get_json()["author_token"]
    again = api.post(email="new@example.org", body="again", author_token=proof)
    assert again.get_json()["status"] == "approved"


def test_first_time_trust_needs_the_browsers_proof_not_a_typed_address(
    api: Api, admin: FlaskClient
) -> None:
    set_site(moderation="first-time")
    regular = api.post(email="regular@example.org").get_json()
    token = csrf(admin, "/admin/")
    admin.post(
        "/admin/comments",
        data={"csrf_token": token, "action": "approve", "ids": regular["comment"]["id"]},
    )
    impostor = api.post(email="regular@example.org", body="I am the regular, trust me")
    assert impostor.get_json()["status"] == "pending"
    # A proof of the impostor's own held comment proves nothing either.
    held_proof = impostor.get_json()["author_token"]
    again = api.post(email="regular@example.org", body="still me", author_token=held_proof)
    assert again.get_json()["status"] == "pending"
    # The regular's proof is for their address only.
    other = api.post(email="other@example.org", author_token=regular["author_token"])
    assert other.get_json()["status"] == "pending"


@pytest.mark.parametrize("mode, expected", [("none", APPROVED), ("all", PENDING)])
def test_moderation_modes(api: Api, mode: str, expected: str) -> None:
    set_site(moderation=mode)
    assert status_of(api.post()) == expected


def test_held_comment_is_absent_from_list_counts_and_feed(api: Api) -> None:
    api.post(body="public")
    set_site(moderation="all")
    api.post(body="held back")
    thread = api.thread().get_json()
    assert [c["html"] for c in thread["comments"]] == ["<p>public</p>"]
    assert thread["thread"]["count"] == 1
    assert api.client.get("/api/counts?site=default&thread=/2026/hello").get_json() == {
        "/2026/hello": 1
    }
    feed = api.client.get("/feeds/comments.atom?site=default&thread=/2026/hello").data
    assert b"held back" not in feed
    assert b"held back" not in api.client.get("/threads?site=default&thread=/2026/hello").data


# --- spam defences -----------------------------------------------------------------------


@pytest.fixture
def spam_on(app: Flask) -> Flask:
    app.config["SPAM_CHECKS"] = "on"
    return app


def aged_token(app: Flask, seconds: float) -> str:
    """A form token fetched from the API, then `seconds` pass on the app's clock."""
    token = app.test_client().get("/api/form-token?site=default").get_json()["form_token"]
    app.extensions["parley_clock"].advance(seconds)
    return str(token)


def test_ordinary_comment_passes_every_check(spam_on: Flask, app: Flask, api: Api) -> None:
    response = api.post(form_token=aged_token(app, 30), body="I tried the recipe; it worked.")
    assert response.get_json()["status"] == "approved"


def test_honeypot_goes_to_spam(spam_on: Flask, app: Flask, api: Api) -> None:
    response = api.post(form_token=aged_token(app, 30), contact_fax="555-1234")
    assert status_of(response) == SPAM
    assert "honeypot" in db.session.scalars(select(Comment)).one().reasons


@pytest.mark.parametrize("token_age, reason", [(None, "no-form-token")])
def test_missing_or_fast_form_token_is_held(
    spam_on: Flask, app: Flask, api: Api, token_age: float | None, reason: str
) -> None:
    token = aged_token(app, token_age) if token_age is not None else None
    response = api.post(form_token=token)
    assert response.status_code == 201 and response.get_json()["status"] == "pending"
    assert reason in db.session.scalars(select(Comment)).one().reasons


def test_a_quick_reader_is_told_to_wait_not_held(spam_on: Flask, app: Flask, api: Api) -> None:
    token = aged_token(app, 1)
    quick = api.post(form_token=token)
    assert quick.status_code == 422 and quick.headers["Retry-After"] == "2"
    assert quick.get_json()["retry_after"] == 2 and "form_token" in quick.get_json()["errors"]
    assert db.session.scalars(select(Comment)).all() == []  # nothing held
    app.extensions["parley_clock"].advance(2)
    again = api.post(form_token=token)  # the same token: it was not spent
    assert again.status_code == 201 and again.get_json()["status"] == "approved"


def test_forged_form_token_is_refused(spam_on: Flask, api: Api) -> None:
    response = api.post(form_token="eyJuIjoiYWJjIn0.forged.signature")
    assert response.status_code == 422
    assert "form_token" in response.get_json()["errors"]
    assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_replayed_form_token_is_refused(spam_on: Flask, app: Flask, api: Api) -> None:
    token = aged_token(app, 30)
    assert api.post(form_token=token).status_code == 201
    again = api.post(form_token=token, body="second with the same token")
    assert again.status_code == 422 and "already" in again.get_json()["message"]


def test_too_many_links_is_held(spam_on: Flask, app: Flask, api: Api) -> None:
    body = " ".join(f"https://spam{i}.example" for i in range(4))
    assert api.post(form_token=aged_token(app, 30), body=body).get_json()["status"] == "pending"


@pytest.mark.parametrize(
    "kind, value, fields",
    [
        ("email", None, {"email": "blocked@example.org"}),
        ("domain", "spammy.example", {"email": "x@mail.spammy.example"}),
        ("ip", "198.51.100.0/24", {}),
        ("word", "casino", {"body": "Visit the CASINO now"}),
    ],
)
def test_block_lists_send_to_spam(
    spam_on: Flask, app: Flask, api: Api, kind: str, value: str | None, fields: dict[str, str]
) -> None:
    site = db.session.scalars(select(Site)).one()
    stored = value or vault().lookup_hash("blocked@example.org")
    db.session.add(Block(site_id=site.id, kind=kind, value=stored))
    db.session.commit()
    response = api.client.post(
        "/api/comments",
        json={
            "site": "default",
            "thread": "/t",
            "author": "A",
            "email": "a@example.org",
            "body": "hello",
            "form_token": aged_token(app, 30),
            **fields,
        },
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert status_of(response) == SPAM


def test_duplicate_text_is_held(spam_on: Flask, app: Flask, api: Api) -> None:
    assert api.post(form_token=aged_token(app, 30)).get_json()["status"] == "approved"
    again = api.post(form_token=aged_token(app, 30), thread="/elsewhere")
    assert again.get_json()["status"] == "pending"
    assert "duplicate" in db.session.get(Comment, again.get_json()["comment"]["id"]).reasons


def test_generic_flattery_is_held(spam_on: Flask, app: Flask, api: Api) -> None:
    body = "Great post! Which theme do you use? Check out my site for SEO tips."
    assert api.post(form_token=aged_token(app, 30), body=body).get_json()["status"] == "pending"


def test_checks_off_switch_disables_them(spam_on: Flask, app: Flask, api: Api) -> None:
    app.config["SPAM_CHECKS"] = "off"
    assert api.post(contact_fax="bot").get_json()["status"] == "approved"


SPAM_TEXTS = [
    "Cheap replica watches shipped worldwide, order today at our store",
    "Earn money from home fast, bitcoin investment doubles weekly guaranteed",
    "Best pharmacy pills online without prescription, fast shipping discount",
    "Replica handbags luxury brands wholesale prices order online today",
    "Make money online quick bitcoin profits guaranteed investment today",
    "Online pharmacy discount pills cheap shipping worldwide order now",
]
HAM_TEXTS = [
    "I baked this bread on Sunday and the crumb came out really open",
    "Does the dough need a second fold if the kitchen is cold in winter",
    "My starter was sluggish, so I let the dough rise a few hours longer",
    "Thanks for explaining the hydration; my loaf finally held its shape",
    "We tried rye flour for a third of the mix and the flavour was lovely",
    "The oven spring improved once I preheated the pot for forty minutes",
]


def test_classifier_learns_from_moderators(
    spam_on: Flask, app: Flask, api: Api, admin: FlaskClient
) -> None:
    app.config["SPAM_CHECKS"] = "off"
    set_site(moderation="all")
    ids = {}
    for i in range(4):
        for label, texts in (("spam", SPAM_TEXTS), ("approve", HAM_TEXTS)):
            for j, text in enumerate(texts):
                response = api.post(body=f"{text} ({i})", email=f"u{i}{j}{label}@example.org")
                ids.setdefault(label, []).append(response.get_json()["comment"]["id"])
    token = csrf(admin, "/admin/")
    for action, chosen in ids.items():
        admin.post("/admin/comments", data={"csrf_token": token, "action": action, "ids": chosen})
    site = db.session.scalars(select(Site)).one()
    assert site.spam_docs == 24 and site.ham_docs == 24
    app.config["SPAM_CHECKS"] = "on"
    set_site(moderation="none")
    new_spam = api.post(
        body="Cheap pills and replica watches, bitcoin profits guaranteed",
        form_token=aged_token(app, 30),
        email="bot@spam.example",
    )
    assert status_of(new_spam) == SPAM
    comment = db.session.get(Comment, new_spam.get_json()["comment"]["id"])
    assert comment.spam_score and comment.spam_score > 0.9 and "classifier" in comment.reasons
    ham = api.post(
        body="I let the dough rise overnight and the crust was lovely",
        form_token=aged_token(app, 30),
        email="baker@example.org",
    )
    assert status_of(ham) == APPROVED


def test_with_rate_limits_on_only_a_429_says_when_the_limit_resets(
    backend: str, db_folder: Path
) -> None:
    # Flask-Limiter's headers put its window's Retry-After on every answer of a limited
    # route: a 201 said "retry in 60 s", a quick form's 422 "60" beside its body's 2.
    limited = make_app(
        backend, db_folder, RATE_LIMITS="on", SPAM_CHECKS="on", RATE_LIMIT_POST="3 per minute"
    )
    with limited.app_context():
        api = Api(limited.test_client())
        posted = api.post(form_token=aged_token(limited, 30))
        assert posted.status_code == 201 and "Retry-After" not in posted.headers
        assert posted.headers["X-RateLimit-Remaining"] == "2"  # what is left, said as such
        quick = api.post(form_token=aged_token(limited, 1), body="Quick.")
        assert quick.status_code == 422 and quick.get_json()["retry_after"] == 2
        assert quick.headers["Retry-After"] == "2"
        api.post(form_token=aged_token(limited, 30), body="Third.")
        refused = api.post(form_token=aged_token(limited, 30), body="Fourth.")
        assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60


def test_spam_score_needs_enough_examples(api: Api) -> None:
    site = db.session.scalars(select(Site)).one()
    assert spam.spam_score(site, {"cheap", "pills"}) is None


def test_rate_limit_answers_429_with_retry_after(backend: str, db_folder: Path) -> None:
    limited = make_app(backend, db_folder, RATE_LIMITS="on", RATE_LIMIT_POST="2 per minute")
    with limited.app_context():
        api = Api(limited.test_client())
        assert api.post(body="1").status_code == 201
        assert api.post(body="2").status_code == 201
        third = api.post(body="3")
        assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
        assert third.get_json()["error"] == "rate_limited"
        assert db.session.scalar(select(func.count(Comment.id))) == 2


def test_login_is_rate_limited(backend: str, db_folder: Path) -> None:
    limited = make_app(backend, db_folder, RATE_LIMITS="on", RATE_LIMIT_LOGIN="3 per minute")
    with limited.app_context():
        client = limited.test_client()
        token = csrf(client, "/admin/login")
        data = {"csrf_token": token, "email": "x@y.z", "password": "wrong"}
        statuses = [client.post("/admin/login", data=data).status_code for _ in range(4)]
        assert statuses[:3] == [401, 401, 401]
        assert statuses[-1] == 429


# --- admin pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/threads", "/admin/blocks", "/admin/events", "/admin/suppressions"]
)
def test_admin_pages_refuse_without_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_admin_actions_refuse_without_login(api: Api) -> None:
    set_site(moderation="all")
    comment_id = api.post().get_json()["comment"]["id"]
    response = api.client.post("/admin/comments", data={"action": "approve", "ids": comment_id})
    assert response.status_code in (302, 400)
    assert db.session.get(Comment, comment_id).status == PENDING  # type: ignore[union-attr]


def test_admin_actions_refuse_without_csrf(api: Api, admin: FlaskClient) -> None:
    set_site(moderation="all")
    comment_id = api.post().get_json()["comment"]["id"]
    response = admin.post("/admin/comments", data={"action": "approve", "ids": comment_id})
    assert response.status_code == 400
    assert db.session.get(Comment, comment_id).status == PENDING  # type: ignore[union-attr]


def test_wrong_password_is_refused(client: FlaskClient, runner: FlaskCliRunner) -> None:
    runner.invoke(
        args=["admin", "create", "mod@blog.example", "--password-stdin"], input=PASSWORD + "\n"
    )
    token = csrf(client, "/admin/login")
    response = client.post(
        "/admin/login", data={"csrf_token": token, "email": "mod@blog.example", "password": "nope"}
    )
    assert response.status_code == 401
    assert client.get("/admin/").status_code == 302


def test_admin_responses_are_not_stored_and_have_strict_csp(admin: FlaskClient) -> None:
    response = admin.get("/admin/")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_session_cookie_flags(admin: FlaskClient, client: FlaskClient) -> None:
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_queue_shows_reasons_and_score_and_bulk_approves(api: Api, admin: FlaskClient) -> None:
    set_site(moderation="all")
    ids = [api.post(body=f"held {i}").get_json()["comment"]["id"] for i in range(3)]
    html = admin.get("/admin/").get_data(as_text=True)
    assert "moderation-all" in html and "held 2" in html
    assert "ada@example.org" not in html
    admin.post(
        "/admin/comments",
        data={"csrf_token": csrf(admin, "/admin/"), "action": "approve", "ids": ids},
    )
    assert api.thread().get_json()["thread"]["count"] == 3
    events = db.session.scalars(select(ModerationEvent)).all()
    assert [e.action for e in events] == ["approve"] * 3
    assert events[0].actor == "admin:mod@blog.example"
    assert "approve" in admin.get("/admin/events").get_data(as_text=True)


def test_block_author_from_a_comment(app: Flask, api: Api, admin: FlaskClient) -> None:
    comment_id = api.post(email="troll@example.org").get_json()["comment"]["id"]
    admin.post(
        f"/admin/comments/{comment_id}/block",
        data={"csrf_token": csrf(admin, "/admin/"), "kind": "email"},
    )
    assert db.session.get(Comment, comment_id).status == SPAM  # type: ignore[union-attr]
    app.config["SPAM_CHECKS"] = "on"
    again = api.post(email="troll@example.org", body="I am back", form_token=aged_token(app, 30))
    assert status_of(again) == SPAM


def test_blocking_the_author_of_a_comment_already_spam_keeps_the_block_and_its_log(
    api: Api, admin: FlaskClient
) -> None:
    comment_id = api.post(email="troll@example.org").get_json()["comment"]["id"]
    token = csrf(admin, "/admin/")
    admin.post("/admin/comments", data={"csrf_token": token, "action": "spam", "ids": comment_id})
    response = admin.post(
        f"/admin/comments/{comment_id}/block", data={"csrf_token": token, "kind": "email"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalars(select(Block.kind)).all() == ["email"]
    actions = db.session.scalars(select(ModerationEvent.action).order_by(ModerationEvent.id))
    assert list(actions) == ["spam", "block-email"]
    assert "block-email" in admin.get("/admin/events").get_data(as_text=True)


def test_a_bulk_action_is_one_transaction(api: Api, admin: FlaskClient) -> None:
    ids = [api.post(body=f"c{i}").get_json()["comment"]["id"] for i in range(3)]
    token = csrf(admin, "/admin/")
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(db.engine, "commit", count)
    try:
        admin.post("/admin/comments", data={"csrf_token": token, "action": "spam", "ids": ids})
    finally:
        event.remove(db.engine, "commit", count)
    assert len(commits) == 1
    assert {c.status for c in db.session.scalars(select(Comment))} == {SPAM}


def test_close_and_reopen_thread(api: Api, admin: FlaskClient) -> None:
    api.post()
    html = admin.get("/admin/threads").get_data(as_text=True)
    assert "Hello world" in html
    thread_id = re.search(r"/admin/threads/(\d+)/close", html).group(1)  # type: ignore[union-attr]
    token = csrf(admin, "/admin/threads")
    admin.post(f"/admin/threads/{thread_id}/close", data={"csrf_token": token})
    assert api.post(body="closed?").status_code == 409
    assert api.thread().get_json()["thread"]["closed"] is True
    admin.post(f"/admin/threads/{thread_id}/reopen", data={"csrf_token": token})
    assert api.post(body="open again").status_code == 201


def test_thread_page_shows_subscriber_count_not_addresses(api: Api, admin: FlaskClient) -> None:
    api.post(email="sub1@example.org", notify=True)
    api.post(email="sub2@example.org", notify=True)
    html = admin.get("/admin/threads").get_data(as_text=True)
    assert "<td>2</td>" in html and "sub1@example.org" not in html


# --- moderation links in the owner's mail ----------------------------------------------


def test_moderation_link_works_and_twice_is_harmless(api: Api) -> None:
    set_site(moderation="all")
    comment_id = api.post().get_json()["comment"]["id"]
    path = f"/moderate/{make_token('moderate', {'c': comment_id})}"
    page = api.client.get(path)
    assert page.status_code == 200 and b"Approve" in page.data
    assert db.session.get(Comment, comment_id).status == PENDING  # type: ignore[union-attr]
    token = csrf(api.client, path)
    for _ in range(2):
        response = api.client.post(path, data={"csrf_token": token, "action": "approve"})
        assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Comment, comment_id).status == APPROVED  # type: ignore[union-attr]
    assert db.session.scalar(select(func.count(ModerationEvent.id))) == 1


def test_moderation_link_expires_and_resists_tampering(app: Flask, api: Api) -> None:
    set_site(moderation="all")
    comment_id = api.post().get_json()["comment"]["id"]
    token = make_token("moderate", {"c": comment_id})
    assert api.client.get(f"/moderate/{token[:-3]}abc").status_code == 404
    app.config["MODERATION_LINK_MAX_AGE"] = -1
    assert api.client.get(f"/moderate/{token}").status_code == 404
    other = make_token("unsubscribe", {"c": comment_id})
    app.config["MODERATION_LINK_MAX_AGE"] = 3600
    assert api.client.get(f"/moderate/{other}").status_code == 404


def test_approving_a_held_comment_publishes_and_notifies_once(
    app: Flask, api: Api, admin: FlaskClient
) -> None:
    from widget import mail as mailer

    from .smtp import SmtpServer

    smtp = SmtpServer().start()
    try:
        app.config["SMTP_URL"] = smtp.url
        api.post(email="fan@example.org", notify=True, body="I follow this")
        address = db.session.scalars(select(Address)).one()
        address.confirmed_at = address.created_at
        db.session.scalars(select(Subscription)).one().confirmed_at = address.created_at
        db.session.commit()
        set_site(moderation="all")
        held = api.post(email="late@example.org", body="Held first").get_json()
        mailer.run_worker(once=True)
        assert [
            m for m in smtp.recorder.to("fan@example.org") if "New comment" in m["Subject"]
        ] == []
        token = csrf(admin, "/admin/")
        for _ in range(2):  # approving twice is harmless
            admin.post(
                "/admin/comments",
                data={"csrf_token": token, "action": "approve", "ids": held["comment"]["id"]},
            )
        mailer.run_worker(once=True)
        notes = [m for m in smtp.recorder.to("fan@example.org") if "New comment" in m["Subject"]]
        assert len(notes) == 1 and "Held first" in notes[0].get_body(("plain",)).get_content()
        assert api.thread().get_json()["thread"]["count"] == 2
    finally:
        smtp.stop()


def test_each_defence_can_be_switched_off_per_site(
    spam_on: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    assert api.post(body="no token").get_json()["status"] == "pending"
    result = runner.invoke(
        args=["sites", "set", "default", "--disable-check", "form-token", "--max-links", "5"]
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["sites", "list"]).output
    assert "checks-off:form-token" in listed
    links = " ".join(f"https://l{i}.example" for i in range(5))
    assert api.post(body=f"no token needed now {links}").get_json()["status"] == "approved"
    runner.invoke(args=["sites", "set", "default", "--enable-check", "form-token"])
    assert api.post(body="token needed again").get_json()["status"] == "pending"
    bad = runner.invoke(args=["sites", "set", "default", "--disable-check", "nonsense"])
    assert bad.exit_code != 0
