"""Mail as a stranger attacks it and as a mail client reads it.

Every test reads what the real SMTP server (aiosmtpd on 127.0.0.1) received: the raw bytes
of each message, parsed the way a mail client parses them, and follows the links in them
the way a reader clicks them.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
import time
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select

from widget import clock
from widget.extensions import db
from widget.models import (
    CONFIRM,
    FAILED,
    SENT,
    Address,
    Comment,
    Delivery,
    Site,
    Subscription,
    Thread,
    utcnow,
)
from widget.sites import save_site
from widget.vault import vault

from .conftest import Api
from .smtp import SmtpServer, message_id, run_worker

POISON = "=?utf-8?q?a=0D=0AX-Inj=3A_1?=@example.org"
DAY = 86400


@pytest.fixture
def app_config(smtp: SmtpServer) -> dict[str, Any]:
    return {"SMTP_URL": smtp.url, "MAIL_BACKOFF_BASE": 0}


def advance(app: Flask, seconds: float) -> None:
    app.extensions["parley_clock"].advance(seconds)


# --- reading mail as a client does ---------------------------------------------------------


def header_block(raw: bytes) -> list[str]:
    """The top-level header lines as they arrived, unfolded (continuations joined)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # raises if a header is not ASCII
    lines: list[str] = []
    for line in head.split("\r\n"):
        assert len(line) <= 998, line
        if line[:1] in (" ", "\t"):
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def raw_header(raw: bytes, name: str) -> str:
    found = [line for line in header_block(raw) if line.lower().startswith(name.lower() + ":")]
    assert len(found) == 1, (name, header_block(raw))
    return found[0].split(":", 1)[1].strip()


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def text_of(raw: bytes) -> str:
    return parsed(raw).get_body(("plain",)).get_content()  # type: ignore[union-attr]


def link_in(raw: bytes, path: str) -> str:
    match = re.search(r"https?://[^\s]+" + re.escape(path) + r"[^\s]+", text_of(raw))
    assert match, text_of(raw)
    return match.group(0).split("parley.test", 1)[1]


def mails_to(smtp: SmtpServer, address: str, subject: str = "") -> list[bytes]:
    return [raw for raw in smtp.recorder.raw_to(address) if subject in str(parsed(raw)["Subject"])]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


def press_button(client: FlaskClient, path: str, **fields: str) -> Any:
    """Open a page from a mail link and press its button, as a reader does."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    token = csrf_token(page.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields})


def subscribe(api: Api, address: str, thread: str = "/2026/hello", **extra: Any) -> Any:
    body = {"site": "default", "thread": thread, "email": address, **extra}
    return api.client.post("/api/subscriptions", json=body)


def subscribe_by_mail(api: Api, smtp: SmtpServer, address: str, thread: str) -> None:
    """Subscribe, then click the confirmation link in the mail that arrives."""
    assert subscribe(api, address, thread).status_code == 202
    run_worker()
    confirmation = mails_to(smtp, address, "Confirm")[-1]
    done = press_button(api.client, link_in(confirmation, "/subscriptions/confirm/"))
    assert "Subscription confirmed" in done.get_data(as_text=True)


def test_the_confirmed_page_leads_back_to_the_article(api: Api, smtp: SmtpServer) -> None:
    api.post(body="The article has a comment, and so its address.")
    assert subscribe(api, "fan@example.org").status_code == 202
    run_worker()
    confirmation = mails_to(smtp, "fan@example.org", "Confirm")[-1]
    done = press_button(api.client, link_in(confirmation, "/subscriptions/confirm/"))
    html = done.get_data(as_text=True)
    assert "Subscription confirmed" in html
    assert '<a href="https://blog.example/2026/hello">Back to the article</a>' in html


# --- 1. one poisoned address stops nothing --------------------------------------------------


def test_an_encoded_word_address_is_refused_with_a_clear_422(api: Api) -> None:
    for response in (
        api.post(email=POISON, notify=True),
        subscribe(api, POISON),
    ):
        assert response.status_code == 422
        assert "email" in response.get_json()["errors"]
    assert db.session.scalar(select(func.count(Address.id))) == 0


def test_a_poisoned_row_from_before_fails_alone_and_the_queue_goes_on(
    api: Api, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    # As stored by an older version that accepted it: first in the queue.
    thread = Thread(site_id=db.session.scalars(select(Site.id)).one(), key="/old", title="Old")
    db.session.add(thread)
    db.session.flush()
    address = Address(email_hash="poison", email_enc=vault().encrypt(POISON), created_at=utcnow())
    db.session.add(address)
    db.session.flush()
    subscription = Subscription(thread_id=thread.id, address_id=address.id, active=True)
    db.session.add(subscription)
    db.session.flush()
    db.session.add(Delivery(kind=CONFIRM, address_id=address.id, subscription_id=subscription.id))
    db.session.commit()
    readers = [f"reader{i}@example.org" for i in range(5)]
    for reader in readers:
        assert subscribe(api, reader).status_code == 202
    caplog.set_level(logging.INFO, logger="widget.mail")
    run_worker()
    assert all(len(mails_to(smtp, r, "Confirm")) == 1 for r in readers)
    poisoned = db.session.scalars(select(Delivery).order_by(Delivery.id)).first()
    assert poisoned is not None and poisoned.status == FAILED
    assert "address refused" in poisoned.last_error and poisoned.lease_until is None
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("widget.mail"))
    assert f"mail {poisoned.id} (confirm): failed" in logged
    assert "@" not in logged  # one line per mail, never an address


# --- 2. page-supplied text cannot write headers or the body ---------------------------------

EVIL_TITLE = (
    "=?utf-8?q?Hi=0D=0ABcc=3A_victim@example.org=0D=0AX-Injected=3A_yes"
    "=0D=0A=0D=0Aforged_body?= and more"
)


def test_a_thread_title_cannot_add_headers_or_a_body(api: Api, smtp: SmtpServer) -> None:
    bidi = api.post(thread="/evil", title="Hi \u202eevil\u202c", email="mallory@example.org")
    assert bidi.status_code == 422 and "title" in bidi.get_json()["errors"]
    api.post(thread="/evil", title=EVIL_TITLE, email="mallory@example.org", body="first")
    subscribe_by_mail(api, smtp, "fan@example.org", "/evil")
    api.post(thread="/evil", title=EVIL_TITLE, email="mallory@example.org", body="second")
    run_worker()
    for raw in smtp.recorder.raw_to("fan@example.org"):  # the confirmation and the notification
        names = [line.split(":", 1)[0].lower() for line in header_block(raw)]
        assert "bcc" not in names and "x-injected" not in names
        message = parsed(raw)
        assert message["Bcc"] is None and message["X-Injected"] is None
        subject = str(message["Subject"])
        assert "\r" not in subject and "\n" not in subject and "\u202e" not in subject
        if "Confirm" not in subject:  # a confirmation names only the site in its subject
            assert "=?utf-8?q?Hi=0D=0ABcc" in subject  # shown as the text it is, never decoded
        assert not any(line.strip() == "forged_body" for line in text_of(raw).splitlines())
    assert smtp.recorder.raw_to("victim@example.org") == []


# --- 3. headers on the wire ----------------------------------------------------------------


def wire_lines(raw: bytes) -> list[str]:
    """The header block's physical lines, folds not joined."""
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")


def test_list_and_threading_headers_go_out_as_plain_ascii(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    app.config["MAIL_FROM"] = "Die Bücherei am Markt – Kommentare und Antworten <c@parley.test>"
    title = "Über die Grenzen des Wachstums — eine sehr lange Überschrift " * 3
    api.post(title=title, body="first")
    subscribe_by_mail(api, smtp, "fan@example.org", "/2026/hello")
    root = api.post(title=title, body="second").get_json()["comment"]["id"]
    api.post(title=title, body="a reply", parent_id=root, author="Zoë Ångström-Øster " * 3)
    run_worker()
    notes = mails_to(smtp, "fan@example.org", "New comment")
    assert len(notes) == 2
    for raw in smtp.recorder.raw_to("fan@example.org"):  # the confirmation too
        for line in wire_lines(raw):  # RFC 2047: 76 at most on a line with an encoded word
            assert "=?" not in line or len(line) <= 76, line
        # The HTML part says its charset itself too: a client that saves or forwards it
        # without the MIME header still shows "Zoë", not "ZoÃ«".
        (html,) = [p for p in parsed(raw).walk() if p.get_content_type() == "text/html"]
        assert html.get_content_charset() == "utf-8"
        assert '<html lang="en"><head><meta charset="utf-8">' in html.get_content()
    for raw in notes:
        unsubscribe = raw_header(raw, "List-Unsubscribe")
        assert re.fullmatch(r"<http://parley\.test/unsubscribe/[A-Za-z0-9_.-]+>", unsubscribe)
        assert raw_header(raw, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
        for name in ("Message-ID", "In-Reply-To", "References"):
            assert "=?" not in raw_header(raw, name)
            assert re.fullmatch(r"(<[^<>\s]+@parley\.test>\s*)+", raw_header(raw, name))
        assert raw_header(raw, "List-Id").endswith(".default.parley.test>")
        list_id = " ".join(str(parsed(raw)["List-Id"]).split())
        assert re.search(r"\S comments <thread-\d+\.default\.parley\.test>$", list_id), list_id
        assert raw_header(raw, "Auto-Submitted") == "auto-generated"
        assert title.strip()[:40] in str(parsed(raw)["Subject"])
    reply = notes[1]
    assert re.fullmatch(message_id("comment", root), raw_header(reply, "In-Reply-To"))
    # The one-click POST a mail provider sends, to the URL exactly as it stands in the header.
    url = raw_header(notes[0], "List-Unsubscribe")[1:-1].split("parley.test", 1)[1]
    done = api.client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    api.post(body="third")
    run_worker()
    assert len(mails_to(smtp, "fan@example.org", "New comment")) == 2


def test_the_confirmation_mail_can_be_left_in_one_click_and_threads_with_the_rest(
    api: Api, smtp: SmtpServer
) -> None:
    """A confirmation nobody asked for carries List-Unsubscribe too: its one-click POST is
    "never email me again"; it groups with the thread's later mails."""
    api.post(thread="/t", title="A page", body="first")
    assert subscribe(api, "target@example.org", "/t").status_code == 202
    run_worker()
    [confirmation] = mails_to(smtp, "target@example.org", "Confirm")
    never = raw_header(confirmation, "List-Unsubscribe")
    assert re.fullmatch(r"<http://parley\.test/subscriptions/never/[A-Za-z0-9_.-]+>", never)
    assert raw_header(confirmation, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert raw_header(confirmation, "List-Id").endswith(".default.parley.test>")
    thread_id = raw_header(confirmation, "In-Reply-To")
    assert re.fullmatch(message_id("thread", r"\d+"), thread_id)
    assert raw_header(confirmation, "References") == thread_id
    # What a mail provider sends: the token alone, no form, no cookie.
    url = never[1:-1].split("parley.test", 1)[1]
    assert "Never email me again" in api.client.get(url).get_data(as_text=True)
    assert api.client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert api.client.post(url, data={}).status_code == 400  # the page's button needs CSRF
    again = api.client.get(url).get_data(as_text=True)  # opened again: says it is done
    assert "This site will not email this address again." in again
    assert subscribe(api, "target@example.org", "/other").status_code == 202
    run_worker()
    assert len(mails_to(smtp, "target@example.org")) == 1


FOLLOWER = "follower@example.org"


def test_a_reader_who_follows_a_thread_leaves_only_the_new_request_in_one_click(
    api: Api, smtp: SmtpServer
) -> None:
    """She follows /t; someone asks for /other in her name; her mail provider's Unsubscribe
    on that confirmation drops the request, not her mail for /t."""
    api.post(thread="/t", body="first")
    subscribe_by_mail(api, smtp, FOLLOWER, "/t")
    assert subscribe(api, FOLLOWER, "/other").status_code == 202
    run_worker()
    confirmation = mails_to(smtp, FOLLOWER, "Confirm")[-1]
    leave = raw_header(confirmation, "List-Unsubscribe")
    assert re.fullmatch(r"<http://parley\.test/unsubscribe/[A-Za-z0-9_.-]+>", leave)
    url = leave[1:-1].split("parley.test", 1)[1]
    assert api.client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    stopped = api.client.get(link_in(confirmation, "/subscriptions/confirm/"))
    assert stopped.status_code == 404 and "was stopped" in stopped.get_data(as_text=True)
    api.post(thread="/t", body="second")
    run_worker()
    assert len(mails_to(smtp, FOLLOWER, "New comment")) == 1


def test_never_email_me_again_can_be_taken_back_from_its_page(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    assert subscribe(api, "zoe@example.org", "/t").status_code == 202
    run_worker()
    [confirmation] = mails_to(smtp, "zoe@example.org", "Confirm")
    never = link_in(confirmation, "/subscriptions/never/")
    assert api.client.post(never, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert subscribe(api, "zoe@example.org", "/t").status_code == 202
    run_worker()
    assert len(mails_to(smtp, "zoe@example.org")) == 1  # nothing while "never" holds
    page = api.client.get(never).get_data(as_text=True)
    assert "will not email this address again" in page and "Allow mail again" in page
    assert api.client.post(never, data={"allow": "y"}).status_code == 400  # needs its CSRF token
    one_click = {"allow": "y", "List-Unsubscribe": "One-Click"}  # a provider's POST: never "allow"
    assert api.client.post(never, data=one_click).status_code == 200
    assert "Allow mail again" in api.client.get(never).get_data(as_text=True)
    allowed = api.client.post(never, data={"allow": "y", "csrf_token": csrf_token(page)})
    assert allowed.status_code == 200 and "may email this address again" in allowed.get_data(
        as_text=True
    )
    advance(app, 25 * 3600)  # an address that never confirmed gets one confirmation a day
    assert subscribe(api, "zoe@example.org", "/t").status_code == 202
    run_worker()
    assert len(mails_to(smtp, "zoe@example.org", "Confirm")) == 2


def test_an_unsubscribe_link_used_already_says_so(api: Api, smtp: SmtpServer) -> None:
    subscribe_by_mail(api, smtp, "fan@example.org", "/t")
    api.post(thread="/t", body="news", email="writer@example.org")
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    url = raw_header(note, "List-Unsubscribe")[1:-1].split("parley.test", 1)[1]
    assert "Unsubscribe" in api.client.get(url).get_data(as_text=True)
    api.client.post(url, data={"List-Unsubscribe": "One-Click"})
    again = api.client.get(url).get_data(as_text=True)
    assert "You are unsubscribed: you get no mail about this thread." in again


# --- 4. consent per subscription ----------------------------------------------------------


def test_a_confirmed_reader_cannot_be_subscribed_to_anything_else_by_a_stranger(
    api: Api, smtp: SmtpServer
) -> None:
    subscribe_by_mail(api, smtp, "fan@example.org", "/a")
    assert subscribe(api, "fan@example.org", "/b").status_code == 202  # a stranger
    assert subscribe(api, "fan@example.org", "/c").status_code == 202
    run_worker()
    for thread in ("/a", "/b", "/c"):
        api.post(thread=thread, body=f"news on {thread}", email="writer@example.org")
    run_worker()
    notes = mails_to(smtp, "fan@example.org", "New comment")
    assert [b"news on /a" in raw for raw in notes] == [True]
    # Confirming /b (the second confirmation mail) confirms /b only.
    link = link_in(mails_to(smtp, "fan@example.org", "Confirm")[1], "/subscriptions/confirm/")
    press_button(api.client, link)
    api.post(thread="/b", body="more on b", email="writer@example.org")
    api.post(thread="/c", body="more on c", email="writer@example.org")
    run_worker()
    later = mails_to(smtp, "fan@example.org", "New comment")[1:]
    assert len(later) == 1 and b"more on b" in later[0]


def test_a_subscription_left_with_one_click_comes_back_only_by_a_new_confirmation(
    api: Api, smtp: SmtpServer
) -> None:
    subscribe_by_mail(api, smtp, "fan@example.org", "/2026/hello")
    api.post(body="one")
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    url = raw_header(note, "List-Unsubscribe")[1:-1].split("parley.test", 1)[1]
    api.client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert subscribe(api, "fan@example.org").status_code == 202  # a stranger re-subscribes
    api.post(body="two")
    run_worker()
    assert len(mails_to(smtp, "fan@example.org", "New comment")) == 1
    sub = db.session.scalars(select(Subscription)).one()
    assert sub.confirmed_at is None


# --- 5. mail on demand ----------------------------------------------------------------------


def test_spam_subscribes_nobody_and_mails_no_owner(app: Flask, api: Api, smtp: SmtpServer) -> None:
    save_site("default", owner_email="owner@blog.example", create=False)
    app.config["SPAM_CHECKS"] = "on"
    response = api.post(email="victim@example.org", notify=True, contact_fax="bot")
    assert response.status_code == 201
    run_worker()
    assert smtp.recorder.raw == []
    assert db.session.scalar(select(func.count(Subscription.id))) == 0


def test_a_held_comment_subscribes_its_author_once_the_owner_approves_it_by_mail(
    api: Api, smtp: SmtpServer
) -> None:
    save_site("default", owner_email="owner@blog.example", moderation="all", create=False)
    api.post(email="reader@example.org", notify=True, body="please publish")
    run_worker()
    assert mails_to(smtp, "reader@example.org") == []
    [owner_mail] = mails_to(smtp, "owner@blog.example", "awaits moderation")
    press_button(api.client, link_in(owner_mail, "/moderate/"), action="approve")
    run_worker()
    assert len(mails_to(smtp, "reader@example.org", "Confirm")) == 1


def test_unicode_spellings_are_one_address_for_blocks_caps_and_mail(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    fullwidth = "ｖｉｃｔｉｍ@ｅｘａｍｐｌｅ.org"
    assert subscribe(api, fullwidth, "/one").status_code == 202
    assert subscribe(api, "Victim@Example.org", "/two").status_code == 202
    run_worker()
    assert db.session.scalar(select(func.count(Address.id))) == 1
    assert len(mails_to(smtp, "victim@example.org")) == 1  # capped: one a day, one address
    site = db.session.scalars(select(Site)).one()
    from widget.moderation import add_block

    add_block(site, "domain", "example.org", actor="test")
    app.config["SPAM_CHECKS"] = "on"
    held = api.post(email=fullwidth, body="hello again")
    assert db.session.get(Comment, held.get_json()["comment"]["id"]).status == "spam"


def test_a_stranger_can_have_an_unconfirmed_address_mailed_once_a_day_three_times_ever(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    sent_per_day = []
    for day in range(5):
        for n in range(10):
            subscribe(api, "target@example.org", f"/day{day}/page{n}")
        run_worker()
        sent_per_day.append(len(mails_to(smtp, "target@example.org")))
        advance(app, DAY + 1)
    assert sent_per_day == [1, 2, 3, 3, 3]


def test_spellings_of_one_mailbox_share_a_strangers_caps(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    """victim+1@, victim+2@… (and Gmail's dotted forms) reach one inbox: a stranger gets it
    mailed once a day and three times ever, however many spellings they invent."""
    spellings = [f"victim+{n}@example.org" for n in range(6)] + ["victim@example.org"]
    gmail = ["v.ictim@gmail.com", "vic.tim@googlemail.com", "victim+x@gmail.com"]
    sent_per_day = []
    for day in range(4):
        for n, spelling in enumerate(spellings + gmail):
            subscribe(api, spelling, f"/day{day}/p{n}")
        assert subscribe(api, "other+1@example.org", f"/day{day}").status_code == 202
        run_worker()
        to_victim = [r for r, _ in smtp.recorder.raw if r.startswith("victim")]
        to_gmail = [r for r, _ in smtp.recorder.raw if r.endswith(("gmail.com", "googlemail.com"))]
        sent_per_day.append((len(to_victim), len(to_gmail)))
        advance(app, DAY + 1)
    assert sent_per_day == [(1, 1), (2, 2), (3, 3), (3, 3)]
    assert len(mails_to(smtp, "other+1@example.org")) == 3  # another mailbox: its own caps


def test_never_email_me_again_stops_every_later_mail(api: Api, smtp: SmtpServer) -> None:
    subscribe(api, "target@example.org", "/one")
    run_worker()
    [confirmation] = mails_to(smtp, "target@example.org")
    never = link_in(confirmation, "/subscriptions/never/")
    assert "No more mail" in press_button(api.client, never).get_data(as_text=True)
    advance(api.client.application, 2 * DAY)
    subscribe(api, "target@example.org", "/two")
    run_worker()
    assert len(mails_to(smtp, "target@example.org")) == 1


def test_many_held_comments_in_an_hour_come_as_one_digest(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    save_site("default", owner_email="owner@blog.example", moderation="all", create=False)
    for n in range(8):
        api.post(email=f"r{n}@example.org", body=f"held {n}")
    run_worker()
    assert len(mails_to(smtp, "owner@blog.example")) == 5
    advance(app, 3601)
    run_worker()
    [digest] = mails_to(smtp, "owner@blog.example", "await moderation")
    text = text_of(digest)
    assert "held 5" in text and "held 7" in text and text.count("/moderate/") >= 3


# --- 6. links that expire and are revoked ---------------------------------------------------


def test_confirm_and_manage_links_expire_and_unsubscribe_links_do_not(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    subscribe_by_mail(api, smtp, "fan@example.org", "/2026/hello")
    api.post(body="news")
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    manage = link_in(note, "/subscriptions/")
    unsubscribe = link_in(note, "/unsubscribe/")
    subscribe(api, "fan@example.org", "/other")
    run_worker()
    confirm = link_in(mails_to(smtp, "fan@example.org", "Confirm")[-1], "/subscriptions/confirm/")
    advance(app, 8 * DAY)
    assert api.client.get(confirm).status_code == 404
    assert api.client.get(manage).status_code == 200
    advance(app, 90 * DAY)
    assert api.client.get(manage).status_code == 404
    advance(app, 300 * DAY)
    assert api.client.get(unsubscribe).status_code == 200
    done = api.client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200


def test_unsubscribe_from_everything_revokes_every_earlier_link(api: Api, smtp: SmtpServer) -> None:
    subscribe_by_mail(api, smtp, "fan@example.org", "/2026/hello")
    subscribe(api, "fan@example.org", "/other")
    api.post(body="news")
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    manage = link_in(note, "/subscriptions/")
    confirm = link_in(mails_to(smtp, "fan@example.org", "Confirm")[-1], "/subscriptions/confirm/")
    press_button(api.client, link_in(note, "/unsubscribe/"), everything="y")
    assert api.client.get(manage).status_code == 404
    assert api.client.get(confirm).status_code == 404


def test_without_smtp_the_mail_is_printed_to_the_log_without_its_address(
    app: Flask, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """What `make run` shows: the mail's text with its links (to confirm, to moderate), the
    recipient as a keyed hash."""
    app.config["SMTP_URL"] = None
    caplog.set_level(logging.INFO)
    subscribe(api, "Reader@Example.org")
    run_worker()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert re.search(r"mail \(no PARLEY_SMTP_URL set\) to #[0-9a-f]{12}: Confirm your", logged)
    assert re.search(r"http://parley\.test/subscriptions/confirm/[\w.-]+", logged), logged
    assert "reader@" not in logged.lower()


# --- addresses beyond ASCII -----------------------------------------------------------------


def test_a_non_ascii_mailbox_needs_smtputf8_and_stops_nothing_without_it(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    assert subscribe(api, "dörte@example.de", "/one").status_code == 202
    assert subscribe(api, "plain@example.org", "/one").status_code == 202
    run_worker()
    assert len(mails_to(smtp, "plain@example.org")) == 1
    failed = db.session.scalars(select(Delivery).where(Delivery.status == FAILED)).one()
    assert "non-ASCII" in failed.last_error
    capable = SmtpServer(smtputf8=True).start()
    try:
        app.config["SMTP_URL"] = capable.url
        db.session.execute(
            insert(Delivery),
            [
                {
                    "kind": CONFIRM,
                    "address_id": failed.address_id,
                    "subscription_id": failed.subscription_id,
                }
            ],
        )
        db.session.commit()
        run_worker()
        assert len(capable.recorder.raw_to("dörte@example.de")) == 1
        assert db.session.scalar(select(func.count()).where(Delivery.status == SENT)) == 2
    finally:
        capable.stop()


def test_letters_that_casefold_apart_stay_distinct_domains_and_mailboxes(
    api: Api, smtp: SmtpServer
) -> None:
    """faß.de and fass.de are two domains (IDNA 2008): mail for one never goes to the other;
    Straße and STRASSE are two spellings of two mailboxes, only case is folded."""
    assert subscribe(api, "reader@xn--fa-hia.de", "/one").status_code == 202
    assert subscribe(api, "reader@fass.de", "/one").status_code == 202
    run_worker()
    assert len(smtp.recorder.raw_to("reader@xn--fa-hia.de")) == 1  # ß kept, sent as IDNA
    assert len(smtp.recorder.raw_to("reader@fass.de")) == 1
    [raw] = smtp.recorder.raw_to("reader@xn--fa-hia.de")
    assert b"fass.de" not in raw
    assert db.session.scalar(select(func.count(Address.id))) == 2
    assert subscribe(api, "Reader@XN--FA-HIA.DE", "/two").status_code == 202  # one address
    assert db.session.scalar(select(func.count(Address.id))) == 2


# --- what the attacker review found -------------------------------------------------------


def test_a_message_the_server_refuses_suppresses_no_subscriber(api: Api, smtp: SmtpServer) -> None:
    subscribe_by_mail(api, smtp, "fan@example.org", "/2026/hello")
    smtp.recorder.refuse_data = "554 5.7.1 <fan@example.org>: looks like spam"
    api.post(body="BUYNOW cheap", email="mallory@example.org")
    run_worker()
    refused = db.session.scalars(select(Delivery).where(Delivery.status == FAILED)).one()
    # The server's reply text (which names the address) is not kept.
    assert refused.last_error == "message refused (554)"
    assert db.session.scalars(select(Address.suppressed_at)).all() == [None]
    smtp.recorder.refuse_data = None
    api.post(body="an ordinary comment", email="writer@example.org")
    run_worker()
    assert len(mails_to(smtp, "fan@example.org", "New comment")) == 1


def test_a_server_without_starttls_defers_mail_and_fails_nothing(
    app: Flask, api: Api, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    app.config.update(
        SMTP_URL=smtp.url.replace("smtp://", "smtp+starttls://"), MAIL_BACKOFF_BASE=60
    )
    subscribe(api, "reader@example.org")
    caplog.set_level(logging.INFO, logger="widget.mail")
    run_worker()
    delivery = db.session.scalars(select(Delivery)).one()
    assert delivery.status == "queued" and delivery.attempts == 1, delivery.last_error
    assert "connecting" in delivery.last_error
    # The owner reads why in the journal, as a warning (not among the routine lines).
    (said,) = [r for r in caplog.records if f"mail {delivery.id} " in r.getMessage()]
    assert said.levelno == logging.WARNING and "STARTTLS" in said.getMessage()
    assert "reader@example.org" not in said.getMessage()


def test_a_subscription_answers_alike_and_as_slowly_for_a_new_or_known_address(
    api: Api, smtp: SmtpServer
) -> None:
    subscribe_by_mail(api, smtp, "known@example.org", "/2026/hello")
    for address in ("known@example.org", "new@example.org"):
        started = time.monotonic()
        answer = subscribe(api, address, "/2026/other")
        # Its time must not tell whether Parley holds something for the address.
        assert time.monotonic() - started >= clock.SAME_TIME_SECONDS
        assert answer.status_code == 202 and answer.get_json()["status"] == "accepted"


def test_a_confirmation_names_the_page_by_a_title_only_once_it_has_settled(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    def confirmation_after_a_post(moderation: str, thread: str, title: str, to: str) -> str:
        db.session.execute(db.text("UPDATE sites SET moderation = :m"), {"m": moderation})
        db.session.commit()
        api.post(thread=thread, title=title)
        assert subscribe(api, to, thread).status_code == 202
        run_worker()
        (mail,) = mails_to(smtp, to, "Confirm")
        return text_of(mail)

    # A held comment (never approved) may claim any title for a new thread: a stranger
    # asked to confirm does not read it.
    held = "Your parcel is held: pay the fee at evil dot example"
    text = confirmation_after_a_post("all", "/phish", held, "stranger@example.net")
    assert "parcel" not in text and '"/phish"' in text
    # Once something on it is published, its title names it.
    text = confirmation_after_a_post("none", "/real", "A real article", "reader@example.net")
    assert '"A real article"' in text


def test_a_title_cannot_change_what_the_list_id_names(api: Api, smtp: SmtpServer) -> None:
    api.post(thread="/t", title="Hi <evil.example.net> (unclosed", body="first")
    subscribe_by_mail(api, smtp, "fan@example.org", "/t")
    api.post(thread="/t", body="second", email="writer@example.org")
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    list_id = raw_header(note, "List-Id")
    assert "evil.example.net" not in list_id and re.search(r"<thread-\d+\.default\.", list_id)


def test_a_thread_url_off_the_site_never_reaches_a_reader(api: Api, smtp: SmtpServer) -> None:
    subscribe(api, "fan@example.org", "/new", url="https://evil.example.net/login")
    run_worker()
    confirm = link_in(mails_to(smtp, "fan@example.org", "Confirm")[-1], "/subscriptions/confirm/")
    press_button(api.client, confirm)
    api.post(thread="/new", body="hello", email="writer@example.org", url=None, title=None)
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    assert b"evil.example.net" not in note
    assert "/threads?site=default&thread=/new" in text_of(note)


def test_an_old_confirm_link_does_not_bring_back_a_subscription_left_since(
    api: Api, smtp: SmtpServer
) -> None:
    subscribe(api, "fan@example.org")
    run_worker()
    confirm = link_in(mails_to(smtp, "fan@example.org", "Confirm")[-1], "/subscriptions/confirm/")
    press_button(api.client, confirm)
    api.post(body="one", email="writer@example.org")
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    url = raw_header(note, "List-Unsubscribe")[1:-1].split("parley.test", 1)[1]
    api.client.post(url, data={"List-Unsubscribe": "One-Click"})
    page = api.client.get(confirm)  # says so at once, with no button that would fail
    assert page.status_code == 404 and "was stopped" in page.get_data(as_text=True)
    assert "<button" not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "mail_from", ["Parley, Blog <parley@blog.example>", "Parley <pärley@blog.example>", "nobody"]
)
def test_a_mail_from_that_would_break_every_mail_is_refused_at_start(
    tmp_path: Any, mail_from: str
) -> None:
    from widget import create_app

    with pytest.raises(ValueError, match="PARLEY_MAIL_FROM"):
        create_app({"SECRET_KEY": "k" * 40, "MAIL_FROM": mail_from, "INSTANCE_PATH": str(tmp_path)})


def test_a_strangers_thread_key_is_not_a_subject_line(api: Api, smtp: SmtpServer) -> None:
    key = "URGENT: your bank account is locked, call +1 800 555 0100 now"
    assert subscribe(api, "victim@example.org", key).status_code == 202
    run_worker()
    [mail] = mails_to(smtp, "victim@example.org")
    assert "URGENT" not in str(parsed(mail)["Subject"]) and "URGENT" not in text_of(mail)


def test_an_unsubscribe_link_of_a_subscription_gone_since_still_answers_kindly(
    api: Api, smtp: SmtpServer
) -> None:
    from widget.tokens import unsubscribe_token

    link = (
        f"/unsubscribe/{unsubscribe_token(4242, utcnow())}"  # merged away by `threads merge`, say
    )
    assert api.client.get(link).status_code == 200
    assert api.client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert api.client.get("/unsubscribe/forged.token.here").status_code == 404


def test_a_line_that_starts_with_from_arrives_as_written(api: Api, smtp: SmtpServer) -> None:
    """No mbox quoting (">From") in what the SMTP server receives, in either part."""
    subscribe_by_mail(api, smtp, "fan@example.org", "/2026/hello")
    api.post(body="Quoted below:\n\nFrom the start it was clear.", email="writer@example.org")
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    assert b"\n>From" not in note and b"\nFrom the start" in note  # a line of its own
    assert "From the start it was clear." in text_of(note)


def test_a_confirmation_names_only_the_site_in_its_subject(api: Api, smtp: SmtpServer) -> None:
    """Anyone can subscribe an inbox and be the first to name a new page: the subject of a
    mail to an inbox that asked for nothing carries none of their words."""
    assert (
        subscribe(api, "victim@example.org", "/claim-your-prize-at-scam.example").status_code == 202
    )
    api.client.get(
        "/api/comments",
        query_string={
            "site": "default",
            "thread": "/claim-your-prize-at-scam.example",
            "title": "WIN 1000 USD NOW at scam.example",
        },
        headers={"Origin": "https://blog.example"},
    )
    run_worker()
    [mail] = mails_to(smtp, "victim@example.org")
    assert raw_header(mail, "Subject") == "Confirm your subscription to comments on blog.example"


def test_an_address_a_server_refused_cannot_be_let_through_from_the_never_page(
    api: Api, smtp: SmtpServer
) -> None:
    assert subscribe(api, "bounced@example.org", "/t").status_code == 202
    run_worker()
    never = link_in(mails_to(smtp, "bounced@example.org", "Confirm")[0], "/subscriptions/never/")
    db.session.execute(
        db.text("UPDATE addresses SET suppressed_at = created_at, suppression_reason = :r"),
        {"r": "recipient refused (550)"},
    )
    db.session.commit()
    page = api.client.get(never).get_data(as_text=True)
    assert "Allow mail again" not in page and "refused this address" in page
    token = csrf_token(api.client.get("/privacy").get_data(as_text=True))  # the session's
    answer = api.client.post(never, data={"allow": "y", "csrf_token": token})
    assert answer.status_code == 409
    # Nor by saying "never" first (a provider's one-click POST, or the page's button).
    assert api.client.post(never, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert api.client.post(never, data={"csrf_token": token}).status_code == 200
    assert "Allow mail again" not in api.client.get(never).get_data(as_text=True)
    still = db.session.scalar(db.text("SELECT suppression_reason FROM addresses"))
    assert still == "recipient refused (550)"
