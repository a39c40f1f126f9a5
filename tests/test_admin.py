"""The moderation pages (/admin/): search, paging, one comment's page, block lists shown
masked, each site's settings and webhooks, the dashboard, and moderators kept to their sites;
then a moderator's journeys in a browser, a phone's width and axe-core."""

from __future__ import annotations

import ast
import json
import os
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from widget import moderation
from widget.auth import create_admin
from widget.extensions import db
from widget.models import (
    APPROVED,
    DELETED,
    PENDING,
    SPAM,
    AdminUser,
    Block,
    Comment,
    Delivery,
    ModerationEvent,
    Site,
    Thread,
    utcnow,
)
from widget.sites import save_site
from widget.vault import vault
from widget.wording import REASONS

from .axe import AXE, axe_violations
from .conftest import PASSWORD, Api, Live, comment_payload, csrf, screenshot
from .live import CHROMIUM

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def set_site(**values: Any) -> Site:
    site = db.session.scalars(select(Site).where(Site.name == "default")).one()
    for key, value in values.items():
        setattr(site, key, value)
    db.session.commit()
    return site


def post(api: Api, ip: str = "192.0.2.1", **fields: Any) -> dict[str, Any]:
    response = api.client.post(
        "/api/comments", json=comment_payload(**fields), environ_base={"REMOTE_ADDR": ip}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["comment"]  # type: ignore[no-any-return]


def page_of(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def shown_ids(html: str) -> list[int]:
    """The comments a queue page lists, in order."""
    return [int(i) for i in re.findall(r'<li class="card status-\w+" id="c(\d+)"', html)]


def count_of(html: str, view: str) -> int:
    found = re.search(rf'status={view}[^"]*"[^>]*>\w+ <span class="count">(\d+)</span>', html)
    assert found, view
    return int(found.group(1))


def log_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    token = csrf(client, "/admin/login")
    response = client.post(
        "/admin/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def test_a_removed_admins_cookie_does_not_open_the_account_made_next_under_its_id(
    app: Flask, admin: FlaskClient
) -> None:
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["admin", "create", "temp@blog.example", "--password-stdin", "--role", "moderator"],
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    fired = log_in(app, "temp@blog.example")
    assert fired.get("/admin/").status_code == 200
    removed_id = db.session.scalar(
        select(AdminUser.id).where(AdminUser.email == "temp@blog.example")
    )
    assert runner.invoke(args=["admin", "remove", "temp@blog.example"]).exit_code == 0
    made = runner.invoke(
        args=["admin", "create", "boss@blog.example", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert made.exit_code == 0, made.output
    boss = db.session.scalars(select(AdminUser).where(AdminUser.email == "boss@blog.example")).one()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert boss.id == removed_id  # SQLite hands the id out again
    assert fired.get("/admin/").status_code == 302  # to the login page, not the boss's pages
    assert log_in(app, "boss@blog.example").get("/admin/").status_code == 200


# --- search -------------------------------------------------------------------------------


def test_search_by_text_author_and_thread_with_counts_that_follow(
    api: Api, admin: FlaskClient
) -> None:
    set_site(moderation="all")
    bread = post(api, body="The sourdough rose well", author="Mira", thread="/bread")
    post(api, body="A sourdough question", author="Jon", thread="/bread")
    other = post(api, body="Nothing about bread", author="Mira", thread="/other")
    token = csrf(admin, "/admin/")
    admin.post(
        "/admin/comments", data={"csrf_token": token, "action": "approve", "ids": bread["id"]}
    )

    html = page_of(admin, "/admin/?q=SOURDOUGH")
    assert len(shown_ids(html)) == 1  # the pending one; the approved one counts in its tab
    assert count_of(html, "pending") == 1 and count_of(html, "approved") == 1
    assert count_of(html, "all") == 2 and count_of(html, "spam") == 0
    everything = page_of(admin, "/admin/?q=sourdough&status=all")
    assert len(shown_ids(everything)) == 2 and "Filtered by:" in everything
    mira = shown_ids(page_of(admin, "/admin/?author=mira&status=all"))
    assert mira == [other["id"], bread["id"]]
    assert shown_ids(page_of(admin, "/admin/?thread=/other&status=all")) == [other["id"]]
    assert shown_ids(page_of(admin, "/admin/?thread=/oth&status=all")) == []  # a key, exactly
    assert "Nothing here that matches" in page_of(admin, "/admin/?q=rye")


def test_search_by_address_never_puts_the_address_in_a_url(api: Api, admin: FlaskClient) -> None:
    mine = post(api, email="Jane.Doe@Example.org", body="mine")
    post(api, email="other@example.org", body="not mine")
    token = csrf(admin, "/admin/")
    response = admin.post(
        "/admin/search",
        data={"csrf_token": token, "status": "all", "email": "  jane.doe@EXAMPLE.org "},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "jane" not in location.lower() and "example.org" not in location
    wanted = parse_qs(urlsplit(location).query)
    assert wanted["ah"] == [vault().lookup_hash("jane.doe@example.org")]
    html = page_of(admin, location)
    assert shown_ids(html) == [mine["id"]]
    assert "the address you typed" in html and "jane.doe@example.org" not in html.lower()
    assert "j•••@example.org" in html  # shown masked, never listed in full

    refused = admin.post(
        "/admin/search", data={"csrf_token": token, "status": "all", "email": "jane@"}
    )
    assert refused.status_code == 422
    assert "Type a whole address" in refused.get_data(as_text=True)
    assert admin.post("/admin/search", data={"email": "x@example.org"}).status_code == 400


def test_search_by_ip_range(api: Api, admin: FlaskClient) -> None:
    a = post(api, ip="203.0.113.7", body="a")
    b = post(api, ip="203.0.114.9", body="b")
    c = post(api, ip="203.1.2.3", body="c")
    post(api, ip="198.51.100.1", body="d")
    v6 = post(api, ip="2001:db8:1:2::5", body="e")

    def found(ip: str) -> set[int]:
        return set(shown_ids(page_of(admin, f"/admin/?status=all&ip={ip}")))

    assert found("203.0.113.200") == {a["id"]}  # the stored /24
    assert found("203.0.112.0/22") == {a["id"], b["id"]}
    assert found("203.0.0.0/16") == {a["id"], b["id"]}
    assert found("203.0.0.0/12") == {a["id"], b["id"], c["id"]}
    assert found("2001:db8:1::/48") == {v6["id"]}
    assert found("2001:db8::/40") == {v6["id"]}
    for bad, message in (("10.0.0.0/4", "too wide"), ("nonsense", "Type an IP address")):
        html = page_of(admin, f"/admin/?status=all&ip={bad}", status=400)
        assert message in html and shown_ids(html) == []


def test_no_why_held_on_approved_comments_and_reasons_in_words(
    app: Flask, api: Api, admin: FlaskClient
) -> None:
    set_site(moderation="first-time")
    held = post(api, body="hello")
    html = page_of(admin, "/admin/")
    assert "Why held" in html and "first comment from this address" in html
    token = csrf(admin, "/admin/")
    admin.post(
        "/admin/comments", data={"csrf_token": token, "action": "approve", "ids": held["id"]}
    )
    assert "Why held" not in page_of(admin, "/admin/?status=approved")
    assert "Why held" not in page_of(admin, f"/admin/comments/{held['id']}")


def test_every_reason_code_is_said_in_words() -> None:
    """Each code that spam.py and moderation.py can give has words (wording.REASONS)."""
    codes: set[str] = set()
    for name in ("spam.py", "moderation.py"):
        tree = ast.parse((ROOT / "widget" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "hold":
                codes.add(node.args[0].value)  # type: ignore[attr-defined]
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                for part in node.value.elts:
                    if isinstance(part, ast.List):
                        codes |= {e.value for e in part.elts if isinstance(e, ast.Constant)}
    assert {"first-comment", "moderation-all", "honeypot", "blocked-word"} <= codes
    assert codes <= set(REASONS), codes - set(REASONS)


# --- paging -------------------------------------------------------------------------------


def test_the_queue_the_log_and_the_blocks_page_by_fifty_with_counts(
    app: Flask, api: Api, admin: FlaskClient
) -> None:
    set_site(moderation="all")
    ids = [post(api, body=f"held {n}")["id"] for n in range(55)]
    first = page_of(admin, "/admin/")
    assert shown_ids(first) == ids[::-1][:50]
    assert "1–50 of 55 comments · page 1 of 2" in first and 'rel="next"' in first
    second = page_of(admin, "/admin/?page=2")
    assert shown_ids(second) == ids[::-1][50:] and "51–55 of 55 comments" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    past_the_end = page_of(admin, "/admin/?page=99")  # shows the last page, numbered so
    assert shown_ids(past_the_end) == ids[::-1][50:] and "page 2 of 2" in past_the_end
    assert page_of(admin, "/admin/?page=-3&page=x")  # odd pages are page 1

    token = csrf(admin, "/admin/")
    admin.post("/admin/comments", data={"csrf_token": token, "action": "approve", "ids": ids[:5]})
    emptied = page_of(admin, "/admin/?page=2")  # its five were approved: one page is left
    assert shown_ids(emptied) == ids[::-1][:50] and "1–50 of 50 comments" in emptied
    assert "page 2 of" not in emptied and 'rel="prev"' not in emptied
    admin.post("/admin/comments", data={"csrf_token": token, "action": "approve", "ids": ids[5:]})
    log = page_of(admin, "/admin/events")
    assert "1–50 of 55 entries" in log and log.count("<tr data-action=") == 50
    assert page_of(admin, "/admin/events?page=2").count("<tr data-action=") == 5

    site = db.session.scalars(select(Site)).one()
    for n in range(51):
        moderation.add_block(site, "word", f"word{n}", actor="test")
    blocks = page_of(admin, "/admin/blocks")
    assert "1–50 of 51 blocks" in blocks and "word50" in blocks and "word0<" not in blocks
    assert "word0<" in page_of(admin, "/admin/blocks?page=2")


# --- one comment's page ---------------------------------------------------------------------


def test_the_comment_page_shows_article_status_reasons_and_history(
    api: Api, admin: FlaskClient
) -> None:
    set_site(moderation="all")
    held = post(api, body="Held *here*", title="Hello world", url="https://blog.example/hello")
    html = page_of(admin, f"/admin/comments/{held['id']}")
    assert '<a href="https://blog.example/hello">Hello world</a>' in html
    assert "Pending" in html and "this site holds every comment for review" in html
    assert "<em>here</em>" in html and "No decision yet." in html
    assert "ada@example.org" not in html and "a•••@example.org" in html

    token = csrf(admin, "/admin/")
    admin.post(
        "/admin/comments", data={"csrf_token": token, "action": "approve", "ids": held["id"]}
    )
    html = page_of(admin, f"/admin/comments/{held['id']}")
    assert '<li data-action="approve">' in html and "admin:mod@blog.example" in html
    page_of(admin, "/admin/comments/99999", status=404)
    page_of(admin, "/admin/comments/99999999999999999", status=404)


def test_a_moderator_edits_a_comment_and_the_history_keeps_both_texts(
    api: Api, admin: FlaskClient
) -> None:
    posted = post(api, body="A typo: teh bread.")
    path = f"/admin/comments/{posted['id']}"
    token = csrf(admin, path)
    response = admin.post(f"{path}/edit", data={"csrf_token": token, "body": "A typo: the bread."})
    assert response.status_code == 302
    assert api.thread().get_json()["comments"][0]["html"] == "<p>A typo: the bread.</p>"
    html = page_of(admin, path)
    assert "Before and after" in html and "teh bread" in html and "edited" in html
    empty = admin.post(f"{path}/edit", data={"csrf_token": token, "body": ""})
    assert empty.status_code == 422 and "Write a comment." in empty.get_data(as_text=True)
    assert "Error:" in empty.get_data(as_text=True)  # in the page's title too


def test_a_reply_from_the_queue_is_published_with_the_role_and_approves_the_held_one(
    api: Api, admin: FlaskClient
) -> None:
    set_site(moderation="all")
    held = post(api, body="Is there a part two?")
    token = csrf(admin, "/admin/")
    response = admin.post(
        f"/admin/comments/{held['id']}/reply",
        data={"csrf_token": token, "body": "Yes, next week.", "back": "/admin/?status=pending"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/?status=pending"
    )
    (question,) = api.thread().get_json()["comments"]
    (answer,) = question["replies"]
    assert answer["role"] == "owner" and answer["html"] == "<p>Yes, next week.</p>"
    refused = admin.post(
        f"/admin/comments/{held['id']}/reply", data={"csrf_token": token, "body": " "}
    )
    assert refused.status_code == 422


def at_the_same_moment(
    admin: FlaskClient, token: str, calls: list[tuple[str, dict[str, str]]]
) -> list[int]:
    """POST each (path, form) from its own thread, all released at once; the statuses,
    sorted (which answered first is the database's choice)."""
    start, answers = threading.Barrier(len(calls)), []

    def send(path: str, data: dict[str, str]) -> None:
        start.wait()
        answers.append(admin.post(path, data={"csrf_token": token, **data}).status_code)

    senders = [threading.Thread(target=send, args=call) for call in calls]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    return sorted(answers)


def test_approving_twice_and_replying_at_the_same_moment_decide_once(
    api: Api, admin: FlaskClient
) -> None:
    """Two moderators (or a double click) approve a held comment while the owner replies to
    it: each request waits for the one before (every writer locks the comment, then its
    thread, then the site, then the spam filter's words), so none fails with a deadlock
    (503) or a duplicate word (500), and the comment is approved once."""
    set_site(moderation="all")
    token = csrf(admin, "/admin/")
    for attempt in range(6):
        held = post(api, body=f"Is there a part {attempt}? Quite a question about bread.")
        approve = ("/admin/comments", {"action": "approve", "ids": str(held["id"])})
        reply = (f"/admin/comments/{held['id']}/reply", {"body": f"Yes, soon {attempt}."})
        answers = at_the_same_moment(admin, token, [approve, approve, reply])
        assert answers == [302, 302, 302], (attempt, answers)
        db.session.expire_all()
        decisions = db.session.scalars(
            select(ModerationEvent.action).where(
                ModerationEvent.comment_id == held["id"], ModerationEvent.action == "approve"
            )
        ).all()
        assert decisions == ["approve"], (attempt, decisions)
    shown = api.thread().get_json()
    assert len(shown["comments"]) == 6 and all(len(c["replies"]) == 1 for c in shown["comments"])
    assert shown["thread"]["count"] == 12


def test_blocking_one_author_from_two_comments_at_once_keeps_one_block(
    api: Api, admin: FlaskClient
) -> None:
    """Two moderators block the same address from two of its comments at the same moment:
    both pages answer, one block row holds it (a duplicate block was a 500 on PostgreSQL)."""
    set_site(moderation="all")
    token = csrf(admin, "/admin/")
    for attempt in range(4):
        ids = [
            post(api, thread=f"/t{attempt}-{n}", email=f"spammer{attempt}@example.org")["id"]
            for n in range(2)
        ]
        calls = [(f"/admin/comments/{i}/block", {"kind": "email"}) for i in ids]
        calls.append(("/admin/comments", {"action": "approve", "ids": str(ids[0])}))
        answers = at_the_same_moment(admin, token, calls)
        assert answers == [302, 302, 302], (attempt, answers)
        email_hash = vault().lookup_hash(f"spammer{attempt}@example.org")
        db.session.expire_all()
        blocks = db.session.scalars(select(Block).where(Block.value == email_hash)).all()
        assert len(blocks) == 1 and blocks[0].email_enc is not None


def test_a_reply_sent_twice_is_published_once(app: Flask, api: Api, admin: FlaskClient) -> None:
    """A double click on "Reply" (or a resent form) must not publish the answer twice; the
    same words a minute later, or to another comment, are a new reply."""
    question = post(api, body="Is there a part two?")
    token = csrf(admin, "/admin/")
    said = []
    for _ in range(2):
        sent = admin.post(
            f"/admin/comments/{question['id']}/reply",
            data={"csrf_token": token, "body": "Yes, next week."},
        )
        assert sent.status_code == 302
        said += re.findall(
            r"published \(comment #(\d+)\)", page_of(admin, sent.headers["Location"])
        )
    ids = set(said)
    assert len(said) == 2 and len(ids) == 1  # both say the same comment
    (shown,) = api.thread().get_json()["comments"]
    assert [r["html"] for r in shown["replies"]] == ["<p>Yes, next week.</p>"]
    app.extensions["parley_clock"].advance(61)
    admin.post(
        f"/admin/comments/{question['id']}/reply",
        data={"csrf_token": token, "body": "Yes, next week."},
    )
    (shown,) = api.thread().get_json()["comments"]
    assert len(shown["replies"]) == 2
    # Two copies sent at the same moment (a double click on a slow line): one reply.
    for attempt in range(5):
        start = threading.Barrier(2)

        def send(words: str = f"At once {attempt}.", start: Any = start) -> None:
            start.wait()
            admin.post(
                f"/admin/comments/{question['id']}/reply",
                data={"csrf_token": token, "body": words},
            )

        senders = [threading.Thread(target=send) for _ in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        (shown,) = api.thread().get_json()["comments"]
        assert len(shown["replies"]) == 3 + attempt, attempt


def test_restoring_what_its_reader_deleted_is_a_message_not_a_500(
    api: Api, admin: FlaskClient
) -> None:
    response = api.client.post(
        "/api/comments",
        json={
            "site": "default",
            "thread": "/t",
            "author": "A",
            "email": "a@example.org",
            "body": "x",
        },
    )
    posted = response.get_json()
    api.client.delete(
        f"/api/comments/{posted['comment']['id']}",
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    token = csrf(admin, "/admin/")
    answer = admin.post(
        "/admin/comments",
        data={"csrf_token": token, "action": "restore", "ids": posted["comment"]["id"]},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    said = answer.get_data(as_text=True)
    assert "Restore: 0 comments." in said and "deleted by its reader" in said
    assert db.session.get(Comment, posted["comment"]["id"]).status == DELETED  # type: ignore[union-attr]


def test_destructive_actions_ask_a_second_time(api: Api, admin: FlaskClient) -> None:
    set_site(moderation="all")
    post(api)
    html = page_of(admin, "/admin/")
    for action in ("spam", "delete"):
        button = f'<button name="action" value="{action}" class="danger">'
        assert button in html
        before = html[: html.index(button)]
        assert before.rfind('<details class="confirm">') > before.rfind("</details>")
    assert '<button name="action" value="approve" class="approve">' in html


# --- blocks: masked, logged ------------------------------------------------------------------


def test_an_address_block_is_shown_masked_and_every_block_is_logged(
    api: Api, admin: FlaskClient
) -> None:
    troll = post(api, email="troll.person@example.org", ip="203.0.113.9")
    token = csrf(admin, "/admin/")
    for kind in ("email", "ip"):
        admin.post(f"/admin/comments/{troll['id']}/block", data={"csrf_token": token, "kind": kind})
    site = db.session.scalars(select(Site)).one()
    db.session.add(Block(site_id=site.id, kind="email", value=vault().lookup_hash("old@x.org")))
    db.session.commit()
    html = page_of(admin, "/admin/blocks")
    assert "t•••@example.org" in html and "203.0.113.0/24" in html
    assert "an address (not shown)" in html
    assert "troll.person" not in html and vault().lookup_hash("old@x.org") not in html

    admin.post(
        "/admin/blocks",
        data={
            "csrf_token": token,
            "site": "default",
            "kind": "email",
            "value": "Spammer@Example.net",
        },
    )
    assert "s•••@example.net" in page_of(admin, "/admin/blocks")
    for block in db.session.scalars(select(Block)).all():
        admin.post(f"/admin/blocks/{block.id}/delete", data={"csrf_token": token})
    assert db.session.scalar(select(func.count(Block.id))) == 0
    events = db.session.execute(
        select(ModerationEvent.action, ModerationEvent.detail).order_by(ModerationEvent.id)
    ).all()
    actions = [a for a, _ in events]
    assert actions[:3] == ["block-email", "spam", "block-ip"]
    assert actions.count("unblock-email") == 3 and actions.count("unblock-ip") == 1
    details = " ".join(d for _, d in events)
    assert "t•••@example.org" in details and "s•••@example.net" in details
    assert "troll.person" not in details.lower() and "spammer" not in details.lower()
    log = page_of(admin, "/admin/events")
    assert "blocked an address" in log and "unblocked an IP range" in log
    assert f'href="/admin/comments/{troll["id"]}"' in log
    assert '<a href="https://blog.example/2026/hello">Hello world</a>' in log
    assert "/admin/events?site=default&amp;thread=/2026/hello" in log


@pytest.mark.parametrize(
    "kind, value, message",
    [
        ("ip", "not-an-ip", "Type an IP address"),
        ("email", "nobody@", "Type a whole address"),
        ("domain", "a b", "Type a mail domain"),
        ("word", "", "Give what to block."),
    ],
)
def test_a_block_that_makes_no_sense_is_refused_on_the_page(
    admin: FlaskClient, kind: str, value: str, message: str
) -> None:
    token = csrf(admin, "/admin/blocks")
    answer = admin.post(
        "/admin/blocks", data={"csrf_token": token, "site": "default", "kind": kind, "value": value}
    )
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Block.id))) == 0


# --- a site's settings and webhooks ------------------------------------------------------------


def settings_form(html: str) -> dict[str, Any]:
    """What a browser sends for the settings form as the page shows it."""
    data: dict[str, Any] = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    }  # type: ignore[union-attr]
    form = html[
        html.index('class="settings"') : html.index("</form>", html.index('class="settings"'))
    ]
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        if ('type="checkbox"' in tag or 'type="radio"' in tag) and "checked" not in tag:
            continue
        data.setdefault(name.group(1), []).append(value.group(1) if value else "")
    origins = re.search(r'<textarea[^>]*name="origins"[^>]*>\s*([^<]*)</textarea>', form)
    data["origins"] = origins.group(1) if origins else ""
    return data


def test_settings_change_like_the_cli_and_show_the_owner_masked(
    admin: FlaskClient, runner: Any
) -> None:
    html = page_of(admin, "/admin/sites/default")
    assert "Owner address: <strong>none</strong>" in html
    data = settings_form(html)
    data.update(
        origins="https://blog.example/\nhttps://WWW.blog.example",
        moderation="all",
        owner_email="Owner.Person@Example.org",
        notify_owner="all",
        owner_digest="daily",
        approval_mail="y",
        max_links="7",
        checks=["honeypot", "links", "blocks"],
        close_after_days="30",
    )
    data.pop("votes", None)
    assert admin.post("/admin/sites/default", data=data).status_code == 302
    site = db.session.scalars(select(Site)).one()
    assert site.origins == "https://blog.example https://www.blog.example"
    assert (site.moderation, site.notify_owner, site.owner_digest) == ("all", "all", "daily")
    assert site.approval_mail and not site.votes and site.max_links == 7
    assert site.close_after_days == 30
    assert set(site.disabled_checks.split()) == {"form-token", "duplicate", "phrases", "classifier"}
    assert vault().decrypt(site.owner_email_enc or "") == "owner.person@example.org"
    html = page_of(admin, "/admin/sites/default")
    assert "o•••@example.org" in html and "owner.person" not in html.lower()
    listed = runner.invoke(args=["sites", "list"]).output
    assert "checks-off:" in listed and "all" in listed

    again = settings_form(html)
    again["remove_owner"] = "y"
    assert admin.post("/admin/sites/default", data=again).status_code == 302
    assert db.session.scalars(select(Site)).one().owner_email_enc is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"origins": "ftp://blog.example"}, "Not an http(s) origin"),
        ({"origins": ""}, "Give at least one origin"),
        ({"close_after_days": "99999"}, "From 0 (never) to 3650."),
        ({"max_links": "-1"}, "From 0 to 100."),
        ({"max_links": "many"}, "Not a valid integer value."),
        ({"moderation": "sometimes"}, "Not a valid choice."),
        ({"owner_email": "owner@"}, "Type a whole address"),
        ({"checks": ["honeypot", "nonsense"]}, "not a valid choice"),
    ],
)
def test_settings_errors_are_shown_on_the_page_never_a_500(
    admin: FlaskClient, change: dict[str, Any], message: str
) -> None:
    before = db.session.scalars(select(Site)).one().origins
    data = {**settings_form(page_of(admin, "/admin/sites/default")), **change}
    answer = admin.post("/admin/sites/default", data=data)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert message in html and "There is a problem" in html
    db.session.expire_all()
    assert db.session.scalars(select(Site)).one().origins == before
    assert admin.post("/admin/sites/default", data={**data, "csrf_token": "x"}).status_code == 400


def test_webhooks_are_added_listed_masked_and_removed(admin: FlaskClient) -> None:
    token = csrf(admin, "/admin/sites/default")
    added = admin.post(
        "/admin/sites/default/webhooks",
        data={
            "csrf_token": token,
            "url": "https://hooks.example/services/T000/SECRET-PATH",
            "format": "slack",
            "events": ["published", "spam"],
        },
    )
    assert added.status_code == 201
    html = added.get_data(as_text=True)
    secret = re.search(r'<code class="secret-value">([^<]+)</code>', html)
    assert secret and len(secret.group(1)) > 20
    listed = page_of(admin, "/admin/sites/default")
    assert "https://hooks.example/…" in listed and "SECRET-PATH" not in listed
    assert secret.group(1) not in listed  # shown once
    bad = admin.post(
        "/admin/sites/default/webhooks",
        data={"csrf_token": token, "url": "ftp://x", "format": "slack", "events": ["held"]},
    )
    assert bad.status_code == 422 and "https://" in bad.get_data(as_text=True)
    hook_id = re.search(r"/admin/sites/default/webhooks/(\d+)/delete", listed).group(1)  # type: ignore[union-attr]
    admin.post(f"/admin/sites/default/webhooks/{hook_id}/delete", data={"csrf_token": token})
    assert "None yet." in page_of(admin, "/admin/sites/default")


# --- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_counts_days_threads_and_deliveries(
    app: Flask, api: Api, admin: FlaskClient
) -> None:
    clock = app.extensions["parley_clock"]
    post(api, body="two days ago", thread="/old")
    clock.advance(2 * 86_400)
    set_site(moderation="all")
    for n in range(3):
        post(api, body=f"today {n}", thread="/busy", title="The busy one")
    today = post(api, body="spam today", thread="/busy")
    token = csrf(admin, "/admin/")
    admin.post("/admin/comments", data={"csrf_token": token, "action": "spam", "ids": today["id"]})
    site = db.session.scalars(select(Site)).one()
    db.session.add_all(
        [
            Delivery(kind="owner", site_id=site.id, status="sent"),
            Delivery(
                kind="owner",
                site_id=site.id,
                status="failed",
                attempts=8,
                last_error="550 5.1.1 <reader.name@example.org>: no such user",
            ),
        ]
    )
    db.session.commit()
    html = page_of(admin, "/admin/dashboard")
    now = utcnow()
    day = (now.date()).strftime("%a %d %b")
    before = (now - timedelta(days=2)).date().strftime("%a %d %b")
    assert re.search(rf"{day}</time></th><td>4</td><td>4</td><td>1</td>", html)
    assert re.search(rf"{before}</time></th><td>1</td><td>0</td><td>0</td>", html)
    assert html.count('<th scope="row"><time') == 30
    assert ">The busy one</a> (default): <a" in html and "4 comments" in html
    assert "Owner&#39;s mail" in html and '<td class="bad">1</td>' in html
    assert "r•••@example.org" in html and "reader.name" not in html


# --- moderators kept to their sites -------------------------------------------------------------


@pytest.fixture
def two_sites(app: Flask, api: Api) -> dict[str, Any]:
    save_site("other", origins=["https://other.example"], moderation="all", create=True)
    set_site(moderation="all")
    mine = post(api, body="on default", thread="/mine")
    theirs = post(api, body="on other", thread="/theirs", site="other")
    other = db.session.scalars(select(Site).where(Site.name == "other")).one()
    moderation.add_block(other, "word", "theirword", actor="test")
    create_admin("limited@blog.example", PASSWORD, sites=("default",))
    return {"mine": mine, "theirs": theirs, "other_site": other.id}


def test_a_moderator_of_one_site_sees_and_touches_nothing_of_another(
    app: Flask, two_sites: dict[str, Any]
) -> None:
    limited = log_in(app, "limited@blog.example")
    theirs = two_sites["theirs"]["id"]
    queue = page_of(limited, "/admin/?status=all")
    assert shown_ids(queue) == [two_sites["mine"]["id"]]
    assert count_of(queue, "all") == 1 and "<option>other</option>" not in queue
    for path in (
        f"/admin/comments/{theirs}",
        "/admin/sites/other",
        "/admin/suppressions",
    ):
        page_of(limited, path, status=404)
    assert "other" not in page_of(limited, "/admin/sites")
    assert "theirword" not in page_of(limited, "/admin/blocks")
    assert "/theirs" not in page_of(limited, "/admin/threads?show=all")
    assert "on other" not in page_of(limited, "/admin/?status=all&q=on")
    dashboard = page_of(limited, "/admin/dashboard")
    assert "/theirs" not in dashboard and "Bounced addresses" not in dashboard

    token = csrf(limited, "/admin/")
    limited.post("/admin/comments", data={"csrf_token": token, "action": "approve", "ids": theirs})
    assert db.session.get(Comment, theirs).status == PENDING  # type: ignore[union-attr]
    thread_id = db.session.scalar(select(Thread.id).where(Thread.key == "/theirs"))
    block_id = db.session.scalar(select(Block.id).where(Block.site_id == two_sites["other_site"]))
    for path, data in (
        (f"/admin/comments/{theirs}/block", {"kind": "ip"}),
        (f"/admin/comments/{theirs}/edit", {"body": "changed"}),
        (f"/admin/comments/{theirs}/reply", {"body": "hello"}),
        (f"/admin/threads/{thread_id}/close", {}),
        (f"/admin/threads/{thread_id}/move", {"new_key": "/stolen"}),
        (f"/admin/blocks/{block_id}/delete", {}),
        ("/admin/sites/other", {"moderation": "none"}),
        ("/admin/sites/other/webhooks", {"url": "https://x.example/h"}),
        ("/admin/blocks", {"site": "other", "kind": "word", "value": "x"}),
    ):
        answer = limited.post(path, data={"csrf_token": token, **data})
        assert answer.status_code in (404, 422), (path, answer.status_code)
    db.session.expire_all()
    assert db.session.get(Comment, theirs).status == PENDING  # type: ignore[union-attr]
    assert db.session.scalar(select(Thread.closed).where(Thread.id == thread_id)) is False
    assert db.session.get(Block, block_id) is not None
    other = db.session.get(Site, two_sites["other_site"])
    assert other is not None and other.moderation == "all"
    events = page_of(limited, "/admin/events")
    assert "theirword" not in events


def test_an_admin_of_every_site_sees_both(app: Flask, two_sites: dict[str, Any]) -> None:
    create_admin("everything@blog.example", PASSWORD)
    full = log_in(app, "everything@blog.example")
    assert count_of(page_of(full, "/admin/?status=all"), "all") == 2
    other = page_of(full, "/admin/?status=pending&site=other")
    assert count_of(other, "all") == 1 and shown_ids(other) == [two_sites["theirs"]["id"]]
    assert "theirword" in page_of(full, "/admin/blocks")
    assert page_of(full, "/admin/sites/other")


@pytest.mark.parametrize(
    "path",
    [
        "/admin/events?comment=99999999999999999999",
        "/admin/events?comment=x&site=nope&thread=%F0%9F%8D%9E",
        "/admin/?page=99999999999999999999&status=nonsense",
        "/admin/?ah=not-a-hash",
        "/admin/?ip=999.1.1.1",
        "/admin/blocks?page=abc&site=nope",
        "/admin/threads?page=0",
        "/admin/sites/nope",
        "/admin/comments/0",
    ],
)
def test_odd_input_is_answered_without_a_500(admin: FlaskClient, path: str) -> None:
    assert admin.get(path).status_code in (200, 400, 404)


# --- in a browser -------------------------------------------------------------------------------

browser_only = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Debian chromium")


def seed_queue(live: Live) -> dict[str, Any]:
    """A site with held comments, one of them a troll's, and a moderator."""
    live.reset(moderation="all")
    seeded = {
        "question": live.seed(
            thread="/2026/11/slow-bread",
            title="Slow bread",
            url="https://blog.example/2026/11/slow-bread",
            author="Mira",
            email="mira@example.org",
            body="Does the dough need a *second* fold in a cold kitchen?",
        ),
        "troll": live.seed(
            thread="/2026/11/slow-bread",
            author="Troll",
            email="troll@spam.example",
            body="Cheap pills at https://spam.example/buy — " + "very-long-word" * 6,
        ),
        "other": live.seed(
            thread="/2026/10/rye",
            title="Rye, at last",
            url="https://blog.example/2026/10/rye",
            author="Jon",
            email="jon@example.org",
            body="Rye flour for a third of the mix was lovely.",
        ),
    }
    with live.app.app_context():
        create_admin("owner@blog.example", PASSWORD, name="Ada (owner)")
    return seeded


def browser_log_in(page: Any, live: Live) -> None:
    page.goto(f"{live.api}/admin/login")
    page.fill("#email", "owner@blog.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Comments: Pending')")


@browser_only
def test_a_moderator_searches_approves_replies_edits_and_blocks(page: Any, live: Live) -> None:
    seeded = seed_queue(live)
    browser_log_in(page, live)
    assert "Why held" in page.inner_text("#c" + str(seeded["question"]["comment"]["id"]))

    # Search by text, then by the whole address in "More filters".
    page.fill("#q", "dough")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("text=Filtered by:")
    assert page.locator("ol.cards > li").count() == 1
    page.click("text=Clear all")
    page.click("summary:has-text('More filters')")
    page.fill("#email", "JON@example.org")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("text=the address you typed")
    assert "jon@example.org" not in page.url.lower()
    assert page.locator("ol.cards > li").count() == 1
    page.click("text=Clear all")

    # Approve one; reply to another from its row (which approves it too).
    question = f"#c{seeded['question']['comment']['id']}"
    page.click(f"#c{seeded['other']['comment']['id']} button[value=approve]")
    page.wait_for_selector("text=Approve: 1 comment.")
    page.click(f"{question} summary:has-text('Reply')")
    page.fill(f"{question} textarea", "Yes: fold once more, then rest it longer.")
    page.click(f"{question} button:has-text('Publish reply')")
    page.wait_for_selector("text=Your reply is published")

    # The comment's page: edit it; the history shows both texts.
    page.goto(f"{live.api}/admin/comments/{seeded['question']['comment']['id']}")
    page.wait_for_selector("text=replied")
    page.click("summary:has-text('Edit the text')")
    page.fill("#edit-body", "Does the dough need a second fold in a cold kitchen? (edited)")
    page.click("button:has-text('Save the edit')")
    page.wait_for_selector("text=Your edit is saved.")
    page.click("summary:has-text('Before and after')")
    assert "*second* fold" in page.inner_text(".history")

    # Block the troll's address: a second step, then the masked address on the blocks page.
    page.goto(f"{live.api}/admin/")
    troll = f"#c{seeded['troll']['comment']['id']}"
    page.click(f"{troll} summary:has-text('Block')")
    page.click(f"{troll} button:has-text('Block the address t•••@spam.example')")
    page.wait_for_selector("text=Blocked the author's address.")
    page.goto(f"{live.api}/admin/blocks")
    assert "t•••@spam.example" in page.inner_text("table")
    assert "troll@spam.example" not in page.content()
    page.goto(f"{live.api}/admin/events")
    assert "blocked an address (t•••@spam.example)" in page.inner_text("table")

    with live.app.app_context():
        reply = db.session.scalars(select(Comment).where(Comment.role.is_not(None))).one()
        assert reply.status == APPROVED and reply.author == "Ada (owner)"
        assert db.session.get(Comment, seeded["troll"]["comment"]["id"]).status == SPAM  # type: ignore[union-attr]


@browser_only
def test_a_moderator_changes_a_sites_settings(page: Any, live: Live) -> None:
    seed_queue(live)
    browser_log_in(page, live)
    page.click("nav.admin-nav a:has-text('Sites')")
    page.click("table a:has-text('default')")
    page.check("input[name=moderation][value=first-time]")
    page.fill("#owner_email", "me@blog.example")
    page.uncheck("input[name=checks][value=phrases]")
    page.fill("#close_after_days", "99999")
    page.click("button:has-text('Save the settings')")
    page.wait_for_selector("text=There is a problem")
    assert page.get_attribute("#close_after_days", "aria-invalid") == "true"
    page.fill("#close_after_days", "60")
    page.click("button:has-text('Save the settings')")
    page.wait_for_selector("text=Settings saved.")
    assert "m•••@blog.example" in page.inner_text("main")
    with live.app.app_context():
        site = db.session.scalars(select(Site)).one()
        assert site.moderation == "first-time" and site.close_after_days == 60
        assert "phrases" in site.disabled_checks


ADMIN_PAGES = {
    "queue": "/admin/",
    "comment": "/admin/comments/{troll}",
    "settings": "/admin/sites/default",
    "dashboard": "/admin/dashboard",
    "blocks": "/admin/blocks",
    "log": "/admin/events",
    "threads": "/admin/threads?show=all",
    "sites": "/admin/sites",
    "search-error": "/admin/?ip=nonsense",
}


@browser_only
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_admin_pages_fit_a_phone_and_pass_axe(browser: Any, live: Live, scheme: str) -> None:
    if not AXE.exists():
        pytest.skip("axe-core not installed (make test installs it)")
    seeded = seed_queue(live)
    with live.app.app_context():
        moderation.block_author(
            db.session.get(Comment, seeded["troll"]["comment"]["id"]),
            "email",
            "admin:test",  # type: ignore[arg-type]
        )
    context = browser.new_context(
        bypass_csp=True, color_scheme=scheme, viewport={"width": 375, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    browser_log_in(page, live)
    found: dict[str, Any] = {}
    wide: list[str] = []
    for name, path in ADMIN_PAGES.items():
        page.goto(live.api + path.format(troll=seeded["troll"]["comment"]["id"]))
        # Every second step and form open: nothing may overflow then either.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        if not page.evaluate(NO_SIDEWAYS_SCROLL):
            wide.append(f"{name}: {page.evaluate('document.documentElement.scrollWidth')} px")
        found[name] = axe_violations(page)
        screenshot(page, f"admin-{name}-375-{scheme}-open.png")
    context.close()
    assert wide == [], f"scrolls sideways at 375 px: {wide}"
    assert {name: v for name, v in found.items() if v} == {}, json.dumps(found)


def seed_a_month(live: Live) -> None:
    """Four weeks of comments (some held, some spam) and an outbox, for the dashboard."""
    articles = ["/2026/11/slow-bread", "/2026/10/rye", "/2026/09/starter", "/2026/08/ovens"]
    made = []
    for day in range(28):
        for n in range((day * 7) % 5 + (3 if day % 7 in (1, 2) else 0)):
            thread = articles[(day + n) % len(articles)]
            posted = live.seed(thread=thread, body=f"Day {day}, comment {n}.")
            made.append((posted["comment"]["id"], day, n))
    with live.app.app_context():
        now = utcnow()
        for comment_id, day, n in made:
            comment = db.session.get(Comment, comment_id)
            assert comment is not None
            comment.created_at = now - timedelta(days=day, hours=n)
            comment.status = SPAM if n == 3 else APPROVED if n % 3 else PENDING
            comment.reasons = "" if n % 3 and n != 3 else "first-comment"
        site = db.session.scalars(select(Site)).one()
        for kind, status, count, error in (
            ("notify", "sent", 41, ""),
            ("confirm", "sent", 9, ""),
            ("confirm", "queued", 2, ""),
            ("owner", "sent", 12, ""),
            ("owner", "failed", 1, "550 5.1.1 <owner@blog.example>: mailbox unavailable"),
            ("webhook", "sent", 17, ""),
            ("webhook", "failed", 1, "HTTP 500"),
        ):
            for _ in range(count):
                attempts = 8 if error else 1
                db.session.add(
                    Delivery(
                        kind=kind,
                        site_id=site.id,
                        status=status,
                        attempts=attempts,
                        last_error=error,
                    )
                )
        db.session.commit()


@browser_only
def test_screenshots_of_the_admin_for_the_docs(browser: Any, live: Live) -> None:
    """The queue on a phone and a desktop, a comment, the settings, the dashboard, in
    test-artifacts/; with DOCS_SCREENSHOTS=1 they replace docs/admin-*.png too (look at
    them when the pages change)."""
    seeded = seed_queue(live)
    with live.app.app_context():
        site = db.session.scalars(select(Site)).one()
        site.owner_email_enc = vault().encrypt("owner@blog.example")
        db.session.commit()
        approved = db.session.get(Comment, seeded["other"]["comment"]["id"])
        assert approved is not None
        moderation.moderate(approved, "approve", "admin:owner@blog.example")
    question = seeded["question"]["comment"]["id"]
    shots = [
        ("admin-queue-375.png", "/admin/", 375),
        ("admin-queue-1280.png", "/admin/", 1280),
        ("admin-comment-1280.png", f"/admin/comments/{question}", 1280),
        ("admin-settings-1280.png", "/admin/sites/default", 1280),
        ("admin-dashboard-1280.png", "/admin/dashboard", 1280),
        ("admin-dashboard-375.png", "/admin/dashboard", 375),
    ]
    for name, path, width in shots:
        if name == "admin-dashboard-1280.png":
            seed_a_month(live)
        context = browser.new_context(
            color_scheme="light", viewport={"width": width, "height": 900}
        )
        page = context.new_page()
        browser_log_in(page, live)
        page.goto(live.api + path)
        shot = screenshot(page, name)
        if os.environ.get("DOCS_SCREENSHOTS") == "1":
            (DOCS / name).write_bytes(shot.read_bytes())
        assert page.evaluate(NO_SIDEWAYS_SCROLL), name
        context.close()
