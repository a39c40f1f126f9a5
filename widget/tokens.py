"""Signed, purpose-scoped tokens (itsdangerous, as Flask signs its sessions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any

from flask import current_app
from itsdangerous import (
    BadSignature,
    Serializer,
    SignatureExpired,
    Signer,
    TimestampSigner,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_encode

from .clock import clock

#: Each purpose has its own salt: a token made for one never passes as another.
PURPOSES = (
    "edit",
    "confirm",
    "unsubscribe",
    "manage",
    "moderate",
    "form",
    "never",
    "author",
    "privacy",
    "owner-mail",
)
#: A /privacy link opens a reader's data for a day.
PRIVACY_MAX_AGE = 86_400

DAY = 86400
#: How long each link in a reader's mail works. Unsubscribe links never expire (RFC 8058:
#: mail already delivered keeps its button); "never email me again" neither.
LINK_MAX_AGE: dict[str, int | None] = {
    "confirm": 7 * DAY,
    "manage": 90 * DAY,
    "unsubscribe": None,
    "never": None,
}


class TokenError(Exception):
    """The token is forged, tampered with, of another purpose, or too old."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


class _KeyCachingSigner(TimestampSigner):
    """Derives its signing key once per secret, not once for every token it signs or reads;
    reads the time from Parley's clock (which tests move instead of sleeping)."""

    def get_timestamp(self) -> int:
        return int(clock().time())

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        derived: dict[str | bytes | None, bytes] = self.__dict__.setdefault("_derived", {})
        key = derived.get(secret_key)
        if key is None:
            key = derived[secret_key] = super().derive_key(secret_key)
        return key


class _TokenSerializer(URLSafeTimedSerializer):
    """URL-safe signed JSON, never compressed: payloads are a few ids, and setting up zlib
    for each token cost more than signing it. Compressed tokens still load."""

    default_signer = _KeyCachingSigner

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        # itsdangerous builds a signer for every token; ours never changes its salt.
        return self._signer if salt is None else super().make_signer(salt)

    @cached_property
    def _signer(self) -> Signer:
        return super().make_signer(None)


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return _cached_serializer(current_app.config["SECRET_KEY"], purpose)


@lru_cache(maxsize=64)
def _cached_serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    # One per (secret, purpose): building one re-derives its signing key every time.
    return _TokenSerializer(secret, salt=f"parley-{purpose}")


def make_token(purpose: str, payload: Any) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int | None = None) -> Any:
    """Return the payload, or raise TokenError."""
    return read_token_issued(purpose, token, max_age)[0]


#: URL-safe base64 and the dots between a token's parts.
_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]+")


def read_token_issued(purpose: str, token: str, max_age: int | None = None) -> tuple[Any, datetime]:
    """Return (payload, when it was made, naive UTC), or raise TokenError."""
    # Only the characters a token is made of: base64's decoder also takes "/" and "+" for
    # "_" and "-", so a token spelled another way would still open.
    if not isinstance(token, str) or not _TOKEN_CHARACTERS.fullmatch(token):
        raise TokenError("This link is not valid.")
    try:
        payload, issued = _serializer(purpose).loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        raise TokenError("This link has expired.", expired=True) from exc
    except (BadSignature, UnicodeError, ValueError, TypeError) as exc:
        raise TokenError("This link is not valid.") from exc
    return payload, issued.replace(tzinfo=None)


_EPOCH = datetime(1970, 1, 1)


def row_stamp(created_at: datetime) -> int:
    """A row's creation time in whole microseconds: with its id, it names that row and not
    one created later that got the id again (within the second a token's own time allows)."""
    return (created_at - _EPOCH) // timedelta(microseconds=1)


def created_window(payload: Any, issued: datetime) -> tuple[datetime, datetime]:
    """[from, until): when the row a token names by id was created.

    Ids of deleted rows can come back (SQLite gives the largest free id again, and erasing
    a reader deletes rows), so tokens carry their row's creation time ("t"). Older ones
    were made for a row that existed then: created before the token's own time, which is
    in whole seconds, hence the second's grace.
    """
    stamp = payload.get("t") if isinstance(payload, dict) else None
    if isinstance(stamp, int) and not isinstance(stamp, bool):
        exact = _EPOCH + timedelta(microseconds=stamp)
        return exact, exact + timedelta(microseconds=1)
    return datetime.min, issued + timedelta(seconds=1)


def names_row(payload: Any, issued: datetime, created_at: datetime) -> bool:
    """Is the row created at `created_at` the one this token was made for?"""
    start, until = created_window(payload, issued)
    return start <= created_at < until


def comment_token(purpose: str, comment_id: int, created_at: datetime) -> str:
    """A token for one comment (edit, author, moderate): its id and creation time."""
    return make_token(purpose, {"c": comment_id, "t": row_stamp(created_at)})


def token_age(purpose: str, token: str) -> tuple[Any, float]:
    """Return (payload, age in seconds) of a timed token, or raise TokenError."""
    try:
        payload, issued = read_token_issued(purpose, token)
    except TokenError as exc:
        raise TokenError("The form token is not valid.") from exc
    return payload, clock().time() - issued.replace(tzinfo=UTC).timestamp()


# --- the links in a reader's mail ------------------------------------------------------


def confirm_token(subscription_id: int, generation: int, created_at: datetime) -> str:
    """Confirms exactly one subscription; dies with the address's generation, or in 7 days."""
    return make_token(
        "confirm", {"s": subscription_id, "g": generation, "t": row_stamp(created_at)}
    )


def manage_token(address_id: int, generation: int, created_at: datetime) -> str:
    """Opens the address's subscriptions page for 90 days (every mail carries a new one)."""
    return make_token("manage", {"a": address_id, "g": generation, "t": row_stamp(created_at)})


def unsubscribe_token(subscription_id: int, created_at: datetime) -> str:
    """Stops one subscription; works for as long as mail carrying it can exist."""
    return make_token("unsubscribe", {"s": subscription_id, "t": row_stamp(created_at)})


def never_token(address_id: int, created_at: datetime) -> str:
    """ "Never email me again", in every confirmation mail."""
    return make_token("never", {"a": address_id, "t": row_stamp(created_at)})


def moderation_token(comment_id: int, created_at: datetime, status: str, owner_hash: str) -> str:
    """A link in the owner's mail about one comment: it acts while the comment is in the
    state the mail told of, and while the site mails the owner address it went to."""
    payload = {"c": comment_id, "t": row_stamp(created_at), "s": status, "h": owner_hash}
    return make_token("moderate", payload)


def owner_mail_token(site_id: int, created_at: datetime, owner_hash: str) -> str:
    """Stops the owner's mail of one site (that mail's List-Unsubscribe), for as long as
    the site mails the owner address whose keyed hash it carries."""
    return make_token("owner-mail", {"s": site_id, "t": row_stamp(created_at), "h": owner_hash})


def privacy_token(email_hash: str) -> str:
    """Opens the data of one address (named by its keyed hash, never itself) for a day."""
    return make_token("privacy", {"h": email_hash})


def read_privacy_token(token: str) -> str:
    """The keyed address hash a /privacy link is for; TokenError when forged or expired."""
    payload = read_token("privacy", token, max_age=PRIVACY_MAX_AGE)
    email_hash = payload.get("h") if isinstance(payload, dict) else None
    if not isinstance(email_hash, str) or not email_hash:
        raise TokenError("This link is not valid.")
    return email_hash


def author_token(comment_id: int, created_at: datetime) -> str:
    """Given with every post: once that comment is approved, proof that this browser wrote
    it (first-time moderation then trusts the same address from this browser)."""
    return comment_token("author", comment_id, created_at)
