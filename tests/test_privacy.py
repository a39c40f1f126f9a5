"""No response, page, feed, avatar, error or log line ever carries a reader's address or a
hash of it that a dictionary could reverse."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from sqlalchemy import select

from widget import mail as mailer
from widget.extensions import db
from widget.models import Address, Comment, Site, Subscription
from widget.tokens import make_token
from widget.vault import Vault, _derive, vault

from .conftest import Api

ADDRESSES = [f"privacy-probe-{i}-x7q@example.org" for i in range(6)] + [
    "Mixed.Case.Probe@Example.ORG"
]


def fingerprints(address: str) -> list[str]:
    """Everything that would give an address away: itself, its local part, common hashes."""
    out = []
    for form in {address, address.lower()}:
        out += [form, form.split("@")[0], base64.b64encode(form.encode()).decode().rstrip("=")]
        for name in ("md5", "sha1", "sha256"):
            out.append(hashlib.new(name, form.encode()).hexdigest())
    return out


def seed(api: Api) -> list[str]:
    """Comments, replies, held ones, subscriptions and a deletion; returns every address used."""
    site = db.session.scalars(select(Site)).one()
    site.owner_email_enc = vault().encrypt("owner-probe-9zz@example.org")
    db.session.commit()
    ids = []
    for i, address in enumerate(ADDRESSES):
        response = api.post(
            email=address,
            body=f"Comment {i}",
            notify=True,
            parent_id=ids[0] if ids and i % 2 else None,
        )
        assert response.status_code == 201
        ids.append(response.get_json()["comment"]["id"])
    site = db.session.scalars(select(Site)).one()
    site.moderation = "first-time"  # the next ones wait for a moderator
    db.session.commit()
    for i in range(2):
        assert (
            api.post(email=f"held-probe-{i}-q2w@example.org", body="held").get_json()["status"]
            == "pending"
        )
    held = [f"held-probe-{i}-q2w@example.org" for i in range(2)]
    api.client.post(
        "/api/subscriptions",
        json={
            "site": "default",
            "thread": "/2026/hello",
            "email": "subscriber-only-probe@example.org",
        },
    )
    posted = api.post(email=ADDRESSES[0], body="to be deleted").get_json()
    api.client.delete(
        f"/api/comments/{posted['comment']['id']}",
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    return ADDRESSES + held + ["subscriber-only-probe@example.org", "owner-probe-9zz@example.org"]


def crawl(client: FlaskClient) -> dict[str, bytes]:
    pages: dict[str, bytes] = {}

    def get(path: str, **kwargs: Any) -> Any:
        response = client.get(path, **kwargs)
        pages[f"GET {path}"] = response.data + str(response.headers).encode()
        return response

    thread = get("/api/comments?site=default&thread=/2026/hello&limit=2").get_json()
    cursor = thread["next_cursor"]
    while cursor:
        page = get(f"/api/comments?site=default&thread=/2026/hello&limit=2&cursor={cursor}")
        cursor = page.get_json()["next_cursor"]
    full = get("/api/comments?site=default&thread=/2026/hello&limit=200").get_json()
    for avatar in re.findall(r"/avatars/[0-9a-f]+\.svg", str(full)):
        get(avatar)
    for path in [
        "/",
        "/embed.js",
        "/i18n/de.json",
        "/i18n/ar.json",
        "/api/openapi.json",
        "/api/counts?site=default&thread=/2026/hello&thread=/x",
        "/api/form-token?site=default",
        "/threads?site=default&thread=/2026/hello",
        "/feeds/comments.atom?site=default&thread=/2026/hello",
        "/healthz",
        "/nope",
        "/api/nope",
        "/api/comments?site=nope&thread=/x",
        "/threads?site=default&thread=/2026/hello&reply=1",
        "/admin/login",
    ]:
        get(path)
    for subscription in db.session.scalars(select(Subscription)):
        get(f"/unsubscribe/{make_token('unsubscribe', {'s': subscription.id})}")
        payload = {"a": subscription.address_id, "s": subscription.id}
        get(f"/subscriptions/confirm/{make_token('confirm', payload)}")
    for address in db.session.scalars(select(Address)):
        get(f"/subscriptions/{make_token('manage', {'a': address.id})}")
    for comment in db.session.scalars(select(Comment)):
        get(f"/moderate/{make_token('moderate', {'c': comment.id})}")
    for status_path, body in [
        (
            "/api/comments",
            {"site": "default", "thread": "/e", "author": "", "email": ADDRESSES[1], "body": ""},
        ),
        (
            "/api/comments",
            {
                "site": "default",
                "thread": "/e",
                "author": "x",
                "email": ADDRESSES[2] + "\n",
                "body": "x",
            },
        ),
        ("/api/subscriptions", {"site": "nope", "thread": "/e", "email": ADDRESSES[3]}),
    ]:
        response = client.post(status_path, json=body)
        pages[f"POST {status_path} {response.status_code}"] = response.data
    return pages


def test_no_public_url_or_log_line_reveals_an_address(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    used = seed(api)
    mailer.run_worker(once=True)  # development mail goes to the log: it must hide recipients
    pages = crawl(api.client)
    assert len(pages) > 40
    secrets = {fp for address in used for fp in fingerprints(address)}
    for url, content in pages.items():
        text = content.decode("utf-8", "replace").lower()
        leaked = [s for s in secrets if s.lower() in text]
        assert leaked == [], f"{url} reveals {leaked}"
    logs = "\n".join(record.getMessage() for record in caplog.records).lower()
    assert "mail (no parley_smtp_url" in logs
    assert [s for s in secrets if s.lower() in logs] == []


def test_avatars_are_keyed_not_plain_hashes(api: Api) -> None:
    avatar = api.post(email="ada@example.org").get_json()["comment"]["avatar"]
    seed_part = avatar.rsplit("/", 1)[1].removesuffix(".svg")
    for name in ("md5", "sha1", "sha256"):
        assert seed_part not in hashlib.new(name, b"ada@example.org").hexdigest()


def test_addresses_at_rest_are_sealed_and_still_read_from_fernet() -> None:
    mine, other = Vault("k" * 40), Vault("z" * 40)
    sealed = mine.encrypt(" Reader@Example.org ")
    assert sealed != mine.encrypt("reader@example.org")  # a fresh nonce every time
    assert "reader" not in sealed.lower()
    assert mine.decrypt(sealed) == "reader@example.org"
    assert other.decrypt(sealed) == ""  # another key cannot open it
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert mine.decrypt(tampered) == "" and mine.decrypt("g1.!!") == ""
    # Addresses stored by the Fernet vault of earlier versions still read.
    old = Fernet(base64.urlsafe_b64encode(_derive("k" * 40, b"email-encryption")))
    assert mine.decrypt(old.encrypt(b"earlier@example.org").decode()) == "earlier@example.org"
