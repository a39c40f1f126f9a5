"""The owner in the conversation: replies with a role badge, moderator edits, restore rules,
admin roles and sites, and threads that close by themselves."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from tests.conftest import PASSWORD, POST, Api, Live, csrf, fill_form, screenshot
from tests.export_files import C, wxr
from widget import comments, moderation
from widget.auth import site_scope
from widget.errors import Conflict
from widget.extensions import db
from widget.models import AdminUser, Comment, ModerationEvent, Site, Thread, utcnow

DAY = 86_400


def _admin(runner: FlaskCliRunner, *args: str) -> AdminUser:
    result = runner.invoke(
        args=["admin", "create", "owner@blog.example", "--password-stdin", *args],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    return db.session.scalars(select(AdminUser)).one()


def _thread(key: str = "/2026/hello") -> Thread:
    return db.session.scalars(select(Thread).where(Thread.key == key)).one()


def test_an_owner_reply_is_published_at_once_with_its_badge_everywhere(
    app: Flask, api: Api, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    site = db.session.scalars(select(Site)).one()
    site.moderation = "all"  # a reader waits; the owner does not
    db.session.commit()
    question = api.post(body="Is there a part two?").get_json()["comment"]
    owner = _admin(runner, "--name", "Ada Owner")

    # Answering a held comment approves it first: nobody could see an answer to nothing.
    reply = comments.post_as_admin(owner, _thread(), "Yes, **next week**.", question["id"])

    page = api.thread().get_json()
    (shown_question,) = page["comments"]
    (shown_reply,) = shown_question["replies"]
    assert shown_question["role"] is None
    assert shown_reply["id"] == reply.id and shown_reply["role"] == "owner"
    assert shown_reply["author"] == "Ada Owner"
    assert "<strong>next week</strong>" in shown_reply["html"]
    assert "owner@blog.example" not in json.dumps(page)
    nojs = client.get("/threads?site=default&thread=/2026/hello").get_data(as_text=True)
    assert '<span class="badge">Owner</span>' in nojs
    german = client.get(
        "/threads?site=default&thread=/2026/hello", headers={"Accept-Language": "de"}
    ).get_data(as_text=True)
    assert '<span class="badge">Betreiber</span>' in german
    feed = client.get("/feeds/comments.atom?site=default").get_data(as_text=True)
    assert "<name>Ada Owner (Owner)</name>" in feed
    # A reader can type "(Owner)" in a name, not a category: feed readers can tell.
    assert feed.count('<category term="owner" label="Owner"') == 1
    actions = db.session.scalars(select(ModerationEvent.action)).all()
    assert "approve" in actions and "reply" in actions


def test_a_moderator_reply_carries_the_moderator_badge(
    app: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    question = api.post().get_json()["comment"]
    moderator = _admin(runner, "--role", "moderator")
    comments.post_as_admin(moderator, _thread(), "Thanks!", question["id"])
    (reply,) = api.thread().get_json()["comments"][0]["replies"]
    assert reply["role"] == "moderator" and reply["author"] == "Moderator"


def test_a_moderator_edit_is_sanitized_shown_and_logged_with_before_and_after(
    app: Flask, api: Api
) -> None:
    posted = api.post(body="Buy at [my shop](https://spam.example/x) tday").get_json()["comment"]
    etag = api.thread().headers["ETag"]
    comment = db.session.get(Comment, posted["id"])
    assert comment is not None
    moderation.moderator_edit(comment, "Buy today <script>alert(1)</script>", "admin:me")

    fresh = api.thread(headers={"If-None-Match": etag})
    assert fresh.status_code == 200  # the cached page moved on
    shown = fresh.get_json()["comments"][0]
    assert "spam.example" not in shown["html"] and "<script" not in shown["html"]
    assert shown["edited_at"] is not None
    event = db.session.scalars(
        select(ModerationEvent).where(ModerationEvent.action == "edit")
    ).one()
    assert json.loads(event.detail) == {
        "before": "Buy at [my shop](https://spam.example/x) tday",
        "after": "Buy today <script>alert(1)</script>",
    }


def test_restore_brings_back_what_a_moderator_deleted_but_not_what_a_reader_did(
    app: Flask, api: Api
) -> None:
    by_moderator = api.post(body="Deleted by a moderator.").get_json()["comment"]
    answer = api.post(body="Deleted by its reader.", author="Bo", email="bo@example.org")
    token = answer.get_json()["edit_token"]
    by_reader = answer.get_json()["comment"]
    deleted = api.client.delete(
        f"/api/comments/{by_reader['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert deleted.status_code in (200, 204)
    moderation.moderate_many([by_moderator["id"]], "delete", "admin:me")
    assert len(api.thread().get_json()["comments"]) == 0

    moderation.moderate_many([by_moderator["id"]], "restore", "admin:me")
    (shown,) = api.thread().get_json()["comments"]
    assert shown["id"] == by_moderator["id"] and "Deleted by a moderator." in shown["html"]

    for action in ("restore", "approve", "spam"):  # no way to publish a blank comment
        assert moderation.moderate_many([by_reader["id"]], action, "admin:me") == (0, 1)
        with pytest.raises(Conflict, match="nothing left to restore"):
            moderation.moderate(db.session.get(Comment, by_reader["id"]), action, "admin:me")
        db.session.rollback()
    reader_deleted = db.session.get(Comment, by_reader["id"])
    assert reader_deleted is not None and reader_deleted.status == "deleted"


def test_restoring_a_reader_deleted_comment_in_the_admin_says_why(
    app: Flask, api: Api, admin: FlaskClient
) -> None:
    answer = api.post().get_json()
    api.client.delete(
        f"/api/comments/{answer['comment']['id']}",
        headers={"Authorization": f"Bearer {answer['edit_token']}"},
    )
    held = db.session.get(Comment, api.post(body="Held one.").get_json()["comment"]["id"])
    assert held is not None
    held.status = "pending"
    db.session.commit()
    # Select all on the "All" tab, then Approve: the reader-deleted one is skipped and said.
    response = admin.post(
        "/admin/comments",
        data={
            "csrf_token": csrf(admin, "/admin/?status=all"),
            "action": "approve",
            "ids": [str(answer["comment"]["id"]), str(held.id)],
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    assert "Approve: 1 comment." in shown and "nothing left to restore" in shown
    assert [c["html"] for c in api.thread().get_json()["comments"]] == ["<p>Held one.</p>"]
    nothing = admin.post(
        "/admin/comments",
        data={"csrf_token": csrf(admin, "/admin/"), "action": "approve"},
        follow_redirects=True,
    )
    assert "Select the comments first" in nothing.get_data(as_text=True)


def test_admins_limited_to_sites_and_roles_from_the_cli(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["sites", "add", "news", "--origin", "https://news.example"])
    owner = _admin(runner, "--role", "moderator", "--site", "news")
    news = db.session.scalars(select(Site).where(Site.name == "news")).one()
    assert owner.role == "moderator" and site_scope(owner) == [news.id]
    # Resetting the password keeps the scope; an unknown site is refused in one line.
    _admin(runner)
    assert site_scope(owner) == [news.id]
    refused = runner.invoke(
        args=["admin", "create", "owner@blog.example", "--password-stdin", "--site", "nope"],
        input=PASSWORD + "\n",
    )
    assert refused.exit_code == 1 and "No site named nope" in refused.output


# --- auto-close ----------------------------------------------------------------------


def test_threads_close_after_the_sites_days_and_a_reopen_overrides_it(
    app: Flask, api: Api, client: FlaskClient, runner: FlaskCliRunner, admin: FlaskClient
) -> None:
    result = runner.invoke(args=["sites", "set", "default", "--close-after-days", "30"])
    assert result.exit_code == 0, result.output
    assert api.post().status_code == 201
    first = api.thread()
    assert first.get_json()["thread"]["closed"] is False

    app.extensions["parley_clock"].advance(31 * DAY)
    later = api.thread(headers={"If-None-Match": first.headers["ETag"]})
    assert later.status_code == 200, "the cached open page must not outlive the deadline"
    assert later.get_json()["thread"]["closed"] is True
    refused = api.post(body="Too late?")
    assert refused.status_code == 409 and refused.get_json()["error"] == "conflict"
    nojs = client.get("/threads?site=default&thread=/2026/hello").get_data(as_text=True)
    assert "Comments are closed." in nojs and 'name="body"' not in nojs
    # A reader whose page was loaded before the deadline, in German: told so, text kept.
    late = client.post(
        "/threads?site=default&thread=/2026/hello",
        data={
            "csrf_token": csrf(client, "/threads?site=default&thread=/2027/open"),
            "author": "Lea",
            "email": "lea@example.org",
            "body": "Mein langer Text.",
        },
        headers={"Accept-Language": "de"},
    )
    german = late.get_data(as_text=True)
    assert late.status_code == 409
    assert json.load(open("static/i18n/de.json"))["closed"] in german
    assert "Mein langer Text.</textarea>" in german and "Start the conversation" not in german

    thread = _thread()
    reopened = admin.post(
        f"/admin/threads/{thread.id}/reopen",
        data={"csrf_token": csrf(admin, "/admin/threads")},
    )
    assert reopened.status_code == 302
    assert api.thread().get_json()["thread"]["closed"] is False
    assert api.post(body="Thanks for reopening.").status_code == 201


def test_auto_close_counts_from_the_pages_publication_date_when_known(
    app: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    runner.invoke(args=["sites", "set", "default", "--close-after-days", "10"])
    assert api.post().status_code == 201
    thread = _thread()
    thread.published_at = utcnow() - timedelta(days=11)
    db.session.commit()
    assert api.post(body="On an old article.").status_code == 409
    runner.invoke(args=["sites", "set", "default", "--close-after-days", "0"])
    assert api.post(body="Auto-close off again.").status_code == 201


def test_close_after_days_out_of_range_is_refused(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["sites", "set", "default", "--close-after-days", "-3"])
    assert result.exit_code == 2 and "close-after-days" in result.output


# --- in the browser -----------------------------------------------------------------


def test_reader_sees_the_owner_badge_and_a_closed_thread(browser: Any, live: Live) -> None:
    live.reset()
    question = live.seed(body="Will you write more?")
    with live.app.app_context():
        owner = AdminUser(email="owner@blog.example", password_hash="x", name="Ada")
        db.session.add(owner)
        db.session.commit()
        thread = db.session.scalars(select(Thread)).one()
        comments.post_as_admin(owner, thread, "Yes, soon.", question["comment"]["id"])
    context = browser.new_context(viewport={"width": 800, "height": 900})
    page = context.new_page()
    page.goto(live.article())
    badge = page.locator("#parley .badge")
    badge.wait_for()
    assert badge.inner_text() == "Owner"
    screenshot(page, "owner-badge.png")

    with live.app.app_context():
        site = db.session.scalars(select(Site)).one()
        site.close_after_days = 5
        db.session.commit()
        live.app.extensions["parley_clock"].advance(6 * DAY)
    try:
        page.reload()
        page.locator("#parley .home").get_by_text("Comments are closed.").wait_for()
        assert page.locator(f"#parley {POST}").count() == 0
        assert page.locator("#parley button", has_text="Reply").count() == 0
    finally:
        live.app.extensions["parley_clock"].advance(-6 * DAY)
        context.close()


def test_the_form_still_posts_before_the_deadline(page: Any, live: Live) -> None:
    with live.app.app_context():
        site = db.session.scalars(select(Site)).one()
        site.close_after_days = 5
        db.session.commit()
    page.goto(live.article())
    fill_form(page)
    page.click(f"#parley {POST}")
    page.locator("#parley .c", has_text="Hello from the browser.").wait_for()


# --- settings are decisions too --------------------------------------------------------


def test_settings_and_webhook_changes_are_logged_without_secrets(
    app: Flask, runner: FlaskCliRunner
) -> None:
    changed = runner.invoke(
        args=["sites", "set", "default", "--moderation", "all", "--owner-email", "me@own.example"]
    )
    assert changed.exit_code == 0, changed.output
    unchanged = runner.invoke(args=["sites", "set", "default", "--moderation", "all"])
    assert unchanged.exit_code == 0
    hook = runner.invoke(
        args=[
            "webhooks",
            "add",
            "default",
            "https://hooks.slack.com/services/T0/B0/SECRET",
            "--format",
            "slack",
        ]
    )
    assert hook.exit_code == 0, hook.output
    removed = runner.invoke(args=["webhooks", "remove", "1"])
    assert removed.exit_code == 0, removed.output
    events = db.session.scalars(select(ModerationEvent).order_by(ModerationEvent.id)).all()
    assert [(e.action, e.detail) for e in events] == [
        ("settings", "moderation, owner_email"),
        ("add-webhook", "slack to hooks.slack.com"),
        ("remove-webhook", "slack to hooks.slack.com"),
    ]
    assert all("me@own.example" not in e.detail and "SECRET" not in e.detail for e in events)


def test_removing_the_only_site_of_a_moderator_ends_their_access(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    runner.invoke(args=["sites", "add", "news", "--origin", "https://news.example"])
    _admin(runner, "--site", "news")
    assert runner.invoke(args=["sites", "remove", "news"]).exit_code == 0
    token = csrf(client, "/admin/login")
    login = client.post(
        "/admin/login",
        data={"csrf_token": token, "email": "owner@blog.example", "password": PASSWORD},
    )
    assert login.status_code == 401  # not a moderator of every site now
    listed = runner.invoke(args=["admin", "list"]).output
    assert listed == "owner@blog.example\towner\tsites:all\tlocked (no password)\n"
    assert runner.invoke(args=["admin", "remove", "owner@blog.example"]).exit_code == 0
    assert runner.invoke(args=["admin", "list"]).output == ""
    gone = runner.invoke(args=["admin", "remove", "owner@blog.example"])
    assert gone.exit_code == 1 and "No admin owner@blog.example" in gone.output


def test_an_imported_articles_publication_date_starts_its_auto_close(
    app: Flask, api: Api, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    recent = utcnow() - timedelta(days=2)
    export = wxr([("old", "Old post", [C(id=1, body="From 2020.")])]).replace(
        "<wp:status>",
        f"<wp:post_date_gmt>{recent:%Y-%m-%d %H:%M:%S}</wp:post_date_gmt>\n<wp:status>",
    )
    path = tmp_path / "blog.xml"
    path.write_text(export)
    result = runner.invoke(args=["import", "wordpress", str(path), "--site", "default"])
    assert result.exit_code == 0, result.output
    runner.invoke(args=["sites", "set", "default", "--close-after-days", "30"])
    # Its comment is from 2020, the article from two days ago: still open.
    assert api.post(thread="/old/", body="Still open?").status_code == 201
    app.extensions["parley_clock"].advance(29 * DAY)
    assert api.post(thread="/old/", body="Now closed?").status_code == 409


def test_erasing_a_reader_also_erases_their_text_from_the_edit_log(
    app: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    posted = api.post(email="erase.me@example.org", body="My secret original.").get_json()
    comment = db.session.get(Comment, posted["comment"]["id"])
    assert comment is not None
    moderation.moderator_edit(comment, "Edited by a moderator.", "admin:me")
    erased = runner.invoke(args=["readers", "erase", "erase.me@example.org", "--yes"])
    assert erased.exit_code == 0, erased.output
    details = db.session.scalars(select(ModerationEvent.detail)).all()
    assert not any("secret original" in d or "Edited by" in d for d in details)


def test_the_web_admin_cannot_aim_a_webhook_inside_and_moderators_cannot_change_settings(
    app: Flask, admin: FlaskClient, runner: FlaskCliRunner
) -> None:
    token = csrf(admin, "/admin/sites/default")
    for url in ("https://127.0.0.1:6379/", "https://10.0.0.1:8443/h", "https://169.254.169.254/x"):
        refused = admin.post(
            "/admin/sites/default/webhooks",
            data={"csrf_token": token, "url": url, "format": "generic", "events": ["held"]},
        )
        assert refused.status_code == 422, url
        assert "private network" in refused.get_data(as_text=True)
    broken = admin.post(
        "/admin/sites/default/webhooks",
        data={"csrf_token": token, "url": "https://[::1", "format": "generic", "events": ["held"]},
    )
    assert broken.status_code == 422
    # The CLI, on the server, may (a receiver on this machine).
    local = runner.invoke(args=["webhooks", "add", "default", "http://127.0.0.1:9/hook"])
    assert local.exit_code == 0, local.output

    runner.invoke(
        args=["admin", "create", "mod@blog.example", "--password-stdin", "--role", "moderator"],
        input=PASSWORD + "\n",
    )
    # The fixture's admin is now a moderator; the new password ended its session.
    admin.post(
        "/admin/login",
        data={
            "csrf_token": csrf(admin, "/admin/login"),
            "email": "mod@blog.example",
            "password": PASSWORD,
        },
    )
    token = csrf(admin, "/admin/sites/default")
    changed = admin.post("/admin/sites/default", data={"csrf_token": token, "moderation": "none"})
    assert changed.status_code == 403
    assert [e.action for e in db.session.scalars(select(ModerationEvent))] == ["add-webhook"]


def test_a_moderator_cannot_put_words_under_the_owners_badge(
    app: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    """A moderator (role) edits readers' comments, not the owner's reply: it would speak
    with the owner's badge. The owner still may."""
    question = api.post(body="Is there a part two?").get_json()["comment"]
    reply = comments.post_as_admin(_admin(runner), _thread(), "Yes, next week.", question["id"])
    moderator = _log_in_moderator(app, runner, "mod2@blog.example")
    token = csrf(moderator, f"/admin/comments/{reply.id}")
    refused = moderator.post(
        f"/admin/comments/{reply.id}/edit", data={"csrf_token": token, "body": "Send money."}
    )
    assert refused.status_code == 403
    assert "Only an owner can edit an owner" in refused.get_data(as_text=True)
    (shown,) = api.thread().get_json()["comments"][0]["replies"]
    assert shown["role"] == "owner" and "Send money" not in shown["html"]
    # The moderator still edits a reader's comment.
    token = csrf(moderator, f"/admin/comments/{question['id']}")
    edited = moderator.post(
        f"/admin/comments/{question['id']}/edit",
        data={"csrf_token": token, "body": "Is there a second part?"},
    )
    assert edited.status_code == 302


def _log_in_moderator(app: Flask, runner: FlaskCliRunner, email: str) -> FlaskClient:
    runner.invoke(
        args=["admin", "create", email, "--password-stdin", "--role", "moderator"],
        input=PASSWORD + "\n",
    )
    client = app.test_client()
    client.post(
        "/admin/login",
        data={"csrf_token": csrf(client, "/admin/login"), "email": email, "password": PASSWORD},
    )
    return client


def test_a_moderator_reads_a_sites_settings_without_a_form_to_change_them(
    app: Flask, runner: FlaskCliRunner
) -> None:
    moderator = _log_in_moderator(app, runner, "mod3@blog.example")
    page = moderator.get("/admin/sites/default")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Only an owner can change" in html
    assert '<fieldset class="plain" disabled>' in html
    assert "Save the settings" not in html and "Add the webhook" not in html


def test_admin_create_says_which_role_was_made(runner: FlaskCliRunner) -> None:
    for role, said in ((), "Owner"), (("--role", "moderator"), "Moderator"):
        result = runner.invoke(
            args=["admin", "create", f"{said.lower()}@blog.example", "--password-stdin", *role],
            input=PASSWORD + "\n",
        )
        assert result.output.strip().endswith(
            f"{said} {said.lower()}@blog.example can log in at /admin/."
        ), result.output
    # A new password without --role keeps the role, and says which.
    reset = runner.invoke(
        args=["admin", "create", "moderator@blog.example", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert reset.output.strip().endswith(
        "Moderator moderator@blog.example can log in at /admin/."
    ), reset.output
