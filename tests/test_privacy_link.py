"""A reader's own data from /privacy (GDPR art. 15, 17, 20): the link goes by mail, the
page before it tells nobody anything, the link downloads everything and erases it.
Read as the reader does: the raw mail from a real SMTP server, the pages, the download."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from widget import clock
from widget.extensions import db
from widget.models import Address, Comment, Subscription

from .conftest import Api
from .smtp import SmtpServer, run_worker
from .test_mail_safety import (
    advance,
    csrf_token,
    link_in,
    mails_to,
    raw_header,
    subscribe_by_mail,
    text_of,
)

READER = "ada.privacy@example.org"


@pytest.fixture
def app_config(smtp: SmtpServer) -> dict[str, Any]:
    return {"SMTP_URL": smtp.url, "MAIL_BACKOFF_BASE": 0}


def _ask(api: Api, email: str) -> Any:
    page = api.client.get("/privacy")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    return api.client.post("/privacy", data={"csrf_token": token, "email": email})


def _rows() -> dict[str, int]:
    reader_comments = select(func.count(Comment.id)).where(Comment.author != "")
    return {
        "named comments": db.session.scalar(reader_comments) or 0,
        "comments": db.session.scalar(select(func.count(Comment.id))) or 0,
        "subscriptions": db.session.scalar(select(func.count(Subscription.id))) or 0,
        "addresses": db.session.scalar(select(func.count(Address.id))) or 0,
    }


def test_the_page_says_the_same_for_any_address_and_mails_only_a_known_one(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    api.post(email=READER)
    started = time.monotonic()
    known = _ask(api, READER)
    between = time.monotonic()
    unknown = _ask(api, "nobody.here@example.org")
    # Nothing tells who comments here: not the page, nor its time (a known address costs
    # a few more statements; both answers wait out the same floor).
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    floor = clock.SAME_TIME_SECONDS
    assert between - started >= floor and time.monotonic() - between >= floor
    assert "Check your inbox" in known.get_data(as_text=True)
    assert READER not in known.get_data(as_text=True)
    run_worker()
    assert len(mails_to(smtp, READER, "Your data")) == 1
    assert mails_to(smtp, "nobody.here@example.org") == []
    bad = _ask(api, "not an address")
    assert bad.status_code == 422 and "valid email" in bad.get_data(as_text=True)


def test_download_then_erase_through_the_mailed_link(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    posted = api.post(email=READER, body="My own words.", website="https://ada.example")
    parent = posted.get_json()["comment"]["id"]
    api.post(email="other@example.org", author="Bo", body="A reply.", parent_id=parent)
    subscribe_by_mail(api, smtp, READER, "/2026/hello")
    _ask(api, READER)
    run_worker()
    (mail,) = mails_to(smtp, READER, "Your data")
    assert raw_header(mail, "Subject") == "Your data: download or erase it"
    link = link_in(mail, "/privacy/")
    assert "one day" in text_of(mail)

    page = api.client.get(link)
    shown = page.get_data(as_text=True)
    assert page.status_code == 200 and "1 comment and 1 subscription" in shown
    assert READER not in shown

    download = api.client.get(link + "/export.json")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(download.get_data())
    assert [c["body"] for c in data["comments"]] == ["My own words."]
    assert [s["thread"] for s in data["subscriptions"]] == ["/2026/hello"]
    assert READER not in download.get_data(as_text=True)  # the contract: no address in exports
    assert "A reply." not in download.get_data(as_text=True)  # nobody else's data

    before = _rows()
    token = csrf_token(shown)
    refused = api.client.post(link + "/erase", data={"csrf_token": token})
    assert refused.status_code == 422 and "Tick the box" in refused.get_data(as_text=True)
    assert _rows() == before
    erased = api.client.post(link + "/erase", data={"csrf_token": token, "sure": "y"})
    assert erased.status_code == 200 and "erased" in erased.get_data(as_text=True)
    after = _rows()
    assert before == {"named comments": 2, "comments": 2, "subscriptions": 1, "addresses": 1}
    assert after == {"named comments": 1, "comments": 2, "subscriptions": 0, "addresses": 0}
    thread = api.thread().get_json()["comments"]
    assert thread[0]["deleted"] and thread[0]["author"] == ""
    assert thread[0]["replies"][0]["author"] == "Bo"  # the reply stays
    again = api.client.get(link).get_data(as_text=True)
    assert "Nothing is stored about your address" in again and "Erase my data" not in again
    # The erase form sent again (a reload of its answer): the same, not "0 comments erased".
    resent = api.client.post(link + "/erase", data={"csrf_token": token, "sure": "y"})
    assert resent.status_code == 200 and "Nothing is stored" in resent.get_data(as_text=True)
    assert _rows() == after


def test_a_reader_whose_only_comment_is_held_gets_a_link_once_a_day(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    """A held comment is still data about its author: the link comes, under the caps of an
    address nothing proves (anyone can type one into the form)."""
    db.session.execute(db.text("UPDATE sites SET moderation = 'all'"))
    db.session.commit()
    assert api.post(email=READER, body="Waiting for the owner.").status_code == 201
    for _ in range(3):
        assert _ask(api, READER).status_code == 200
    run_worker()
    (mail,) = mails_to(smtp, READER, "Your data")
    link = link_in(mail, "/privacy/")
    download = api.client.get(link + "/export.json")
    assert [c["body"] for c in json.loads(download.get_data())["comments"]] == [
        "Waiting for the owner."
    ]
    token = csrf_token(api.client.get(link).get_data(as_text=True))
    erased = api.client.post(link + "/erase", data={"csrf_token": token, "sure": "y"})
    assert erased.status_code == 200
    assert _rows()["named comments"] == 0
    advance(app, 25 * 3600)
    _ask(api, READER)  # nothing is stored about it any more: no mail
    run_worker()
    assert len(mails_to(smtp, READER, "Your data")) == 1


def test_links_per_address_are_capped_and_expire_after_a_day(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    api.post(email=READER)
    for _ in range(5):
        assert _ask(api, READER).status_code == 200
    run_worker()
    mails = mails_to(smtp, READER, "Your data")
    assert len(mails) == 3
    link = link_in(mails[0], "/privacy/")
    assert api.client.get(link).status_code == 200
    advance(app, 25 * 3600)
    expired = api.client.get(link)
    assert expired.status_code == 404 and "expired" in expired.get_data(as_text=True)
    assert api.client.get("/privacy/forged-token").status_code == 404


def test_an_address_only_a_subscribe_request_made_gets_few_links(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    """A stranger types someone's address into a subscribe form, then asks /privacy for it
    again and again: once a day and three times ever, like the confirmation mail itself."""
    victim = "victim@example.org"
    assert (
        api.client.post(
            "/api/subscriptions", json={"site": "default", "thread": "/t", "email": victim}
        ).status_code
        == 202
    )
    sent = []
    for _ in range(4):
        for _ in range(3):
            assert _ask(api, victim).status_code == 200
        run_worker()
        sent.append(len(mails_to(smtp, victim, "Your data")))
        advance(app, 25 * 3600)
    assert sent == [1, 2, 3, 3]
    # Another spelling of the same inbox shares those caps.
    assert (
        api.client.post(
            "/api/subscriptions",
            json={"site": "default", "thread": "/t", "email": "victim+2@example.org"},
        ).status_code
        == 202
    )
    _ask(api, "victim+2@example.org")
    run_worker()
    assert mails_to(smtp, "victim+2@example.org", "Your data") == []
    # A comment held for moderation proves nothing either: anyone can type an address.
    app.config["SPAM_CHECKS"] = "on"
    db.session.execute(db.text("UPDATE sites SET moderation = 'all'"))
    db.session.commit()
    for n in range(10, 14):
        api.post(email=f"victim+{n}@example.org", body="held")
        for _ in range(3):
            _ask(api, f"victim+{n}@example.org")
    run_worker()
    assert [r for r, _ in smtp.recorder.raw if r.startswith("victim+1")] == []


def test_published_comments_under_many_spellings_get_three_links_a_day_in_all(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    """A stranger publishes a comment under target+0@ … target+3@ (no moderation) and asks
    for each one's link again and again: the inbox behind them gets three a day."""
    for n in range(4):
        api.post(email=f"target+{n}@example.org", body=f"published {n}")
    sent = []
    for _ in range(2):
        for _ in range(3):
            for n in range(4):
                _ask(api, f"target+{n}@example.org")
        run_worker()
        sent.append(len([r for r, _ in smtp.recorder.raw if r.startswith("target")]))
        # Each link shows its own spelling's data: one comment, and no subscription.
        link = link_in(smtp.recorder.raw[-1][1], "/privacy/")
        assert "1 comment and 0 subscriptions" in api.client.get(link).get_data(as_text=True)
        advance(app, 25 * 3600)
    assert sent == [3, 6]


def test_requests_for_many_spellings_at_once_still_get_three_links(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    """Six spellings of one inbox asked for at the same moment: the caps are counted one
    request after the other (the mailbox's rows are held), so three links, not four."""
    import threading

    spellings = [f"ee+{n}@example.org" for n in range(8)]
    for email in spellings:
        api.post(email=email, body="published", notify="all")
    _ask(api, spellings[0])
    _ask(api, spellings[1])
    page = api.client.get("/privacy")
    token = csrf_token(page.get_data(as_text=True))
    start = threading.Barrier(6)

    def ask(email: str) -> None:
        start.wait()
        with app.app_context():
            api.client.post("/privacy", data={"csrf_token": token, "email": email})

    askers = [threading.Thread(target=ask, args=(email,)) for email in spellings[2:]]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    run_worker()
    links = [r for r, raw in smtp.recorder.raw if r.startswith("ee+") and b"Your data" in raw]
    assert len(links) == 3, links


def test_the_manage_page_links_to_the_data(app: Flask, api: Api, smtp: SmtpServer) -> None:
    subscribe_by_mail(api, smtp, READER, "/2026/hello")
    api.post(email="someone@example.org", author="Cy", body="New comment.")
    run_worker()
    notification = [m for m in mails_to(smtp, READER) if b"New comment." in m or b"Cy" in m][-1]
    manage = api.client.get(link_in(notification, "/subscriptions/")).get_data(as_text=True)
    assert "Download or erase your data" in manage
