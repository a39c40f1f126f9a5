"""A reader's data rights: `readers export EMAIL FILE` and `readers erase EMAIL`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from widget import cli
from widget.extensions import db
from widget.models import Address, Comment, Delivery, ModerationEvent, Subscription, Thread

from .conftest import Api

EMAIL = "Erin.Reader@example.org"


def _seed(api: Api) -> tuple[int, int]:
    mine = api.post(author="Erin", email=EMAIL, website="https://erin.example", body="Mine.")
    reply = api.post(
        author="Bob",
        email="bob@example.org",
        body="A reply.",
        parent_id=mine.get_json()["comment"]["id"],
    )
    api.post(author="Erin", email=EMAIL.lower(), thread="/other", body="Also mine.")
    api.client.post(
        "/api/subscriptions", json={"site": "default", "thread": "/2026/hello", "email": EMAIL}
    )
    return mine.get_json()["comment"]["id"], reply.get_json()["comment"]["id"]


def _count(model: type, *where: object) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_export_writes_everything_stored_about_the_address(
    api: Api, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    _seed(api)
    out = tmp_path / "erin.json"
    result = runner.invoke(args=["readers", "export", EMAIL, str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 comments and 1 subscriptions" in result.output
    assert out.stat().st_mode & 0o777 == 0o600
    data = json.loads(out.read_text())
    assert data["email"] == EMAIL
    assert [c["body"] for c in data["comments"]] == ["Mine.", "Also mine."]
    assert data["comments"][0]["website"] == "https://erin.example"
    assert (
        data["comments"][0]["thread"] == "/2026/hello" and data["comments"][0]["site"] == "default"
    )
    assert [s["thread"] for s in data["subscriptions"]] == ["/2026/hello"]
    assert data["address"]["created_at"]
    # Bob's comment is not Erin's data.
    assert "A reply." not in out.read_text()


def test_erase_leaves_deleted_placeholders_and_no_trace_of_the_address(
    api: Api,
    runner: FlaskCliRunner,
    app: Flask,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine, reply = _seed(api)
    before = {
        "comments with the address": _count(
            Comment, Comment.email_hash != "", Comment.author == "Erin"
        ),
        "addresses": _count(Address),
        "subscriptions": _count(Subscription),
        "deliveries": _count(Delivery),
    }
    assert before["comments with the address"] == 2 and before["subscriptions"] == 1
    monkeypatch.setattr(cli, "at_a_terminal", lambda: True)  # a person types the command
    refused = runner.invoke(args=["readers", "erase", EMAIL], input="n\n")
    assert refused.exit_code == 1
    with caplog.at_level(logging.INFO):
        result = runner.invoke(args=["readers", "erase", EMAIL, "--yes"])
    assert result.exit_code == 0, result.output
    assert "Erased 2 comments and 1 subscriptions." in result.output
    db.session.expire_all()
    for comment in db.session.scalars(select(Comment).where(Comment.author == "")):
        assert (comment.body, comment.html, comment.website) == ("", "", "")
        assert (comment.email_enc, comment.email_hash, comment.avatar_seed, comment.ip) == ("",) * 4
    assert _count(Comment, Comment.author == "Erin") == 0
    assert _count(Subscription) == 0
    assert _count(Address) == before["addresses"] - 1  # Bob's address, if any, stays
    assert _count(Delivery, Delivery.subscription_id.is_not(None)) == 0
    # On the page: "[deleted]" with Bob's reply under it; the thread's count moved.
    page = api.thread().get_json()
    [top] = page["comments"]
    assert top["id"] == mine and top["deleted"] and top["author"] == "" and top["website"] == ""
    assert top["html"] == "<p>[deleted]</p>" and top["replies"][0]["id"] == reply
    assert page["thread"]["count"] == 1
    other = db.session.scalar(select(Thread).where(Thread.key == "/other"))
    assert other is not None and other.comment_count == 0
    # Logged without the address.
    event = db.session.scalars(
        select(ModerationEvent).where(ModerationEvent.action == "erase-reader")
    ).one()
    assert event.detail == "2 comments, 1 subscriptions"
    logged = caplog.text + result.output + event.detail + event.actor
    assert EMAIL.lower() not in logged.lower()
    # Nothing left to export.
    again = runner.invoke(args=["readers", "erase", EMAIL, "--yes"])
    assert "Erased 0 comments and 0 subscriptions." in again.output


def test_data_under_the_older_casefolded_spelling_is_pointed_out_not_taken(
    api: Api, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """Before 2026-11-29 "Straße@faß.de" was stored as "strasse@fass.de", which is another
    domain's address: the owner is told that data exists, and nothing acts on it unasked."""
    api.post(email="strasse@fass.de", body="Stored under the old spelling.")
    exported = runner.invoke(args=["readers", "export", "Straße@faß.de", str(tmp_path / "a.json")])
    assert exported.exit_code == 0, exported.output
    assert "Wrote 0 comments" in exported.output
    assert "'strasse@fass.de'" in exported.output and "before 2026-11-29" in exported.output
    erased = runner.invoke(args=["readers", "erase", "Straße@faß.de"])
    assert "Erased 0 comments" in erased.output and "'strasse@fass.de'" in erased.output
    assert db.session.scalar(select(func.count(Comment.id))) == 1
    plain = runner.invoke(args=["readers", "export", "ada@example.org", str(tmp_path / "b.json")])
    assert "Note:" not in plain.output
