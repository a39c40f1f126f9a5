"""Subscriptions: one per (thread, address), double opt-in, fan-out, unsubscribe."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import DateTime, Integer, bindparam, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from .errors import NotFound
from .extensions import db
from .models import (
    CONFIRM,
    NOTIFY,
    QUEUED,
    Address,
    Comment,
    Delivery,
    Subscription,
    Thread,
    utcnow,
)
from .tokens import TokenError, read_token
from .vault import vault

#: At most one confirmation mail per address in this time.
CONFIRMATION_INTERVAL = timedelta(hours=1)


def get_or_create_address(email: str) -> Address:
    email_hash = vault().lookup_hash(email)
    address = db.session.scalar(select(Address).where(Address.email_hash == email_hash))
    if address is not None:
        return address
    address = Address(email_hash=email_hash, email_enc=vault().encrypt(email), created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(address)
    except IntegrityError:
        address = db.session.scalars(select(Address).where(Address.email_hash == email_hash)).one()
    return address


def subscribe(thread: Thread, email: str) -> Subscription:
    """At most one subscription per (thread, address); confirmation mail if never confirmed."""
    address = get_or_create_address(email)
    subscription = db.session.scalar(
        select(Subscription).where(
            Subscription.thread_id == thread.id, Subscription.address_id == address.id
        )
    )
    if subscription is None:
        subscription = Subscription(thread_id=thread.id, address_id=address.id, created_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(subscription)
        except IntegrityError:  # the same reader, twice at once
            subscription = db.session.scalars(
                select(Subscription).where(
                    Subscription.thread_id == thread.id, Subscription.address_id == address.id
                )
            ).one()
    if not subscription.active:
        subscription.active, subscription.unsubscribed_at = True, None
    if address.confirmed_at is None:
        _queue_confirmation(address, subscription, thread)
    return subscription


def _queue_confirmation(address: Address, subscription: Subscription, thread: Thread) -> None:
    now = utcnow()
    if address.confirmation_sent_at and now - address.confirmation_sent_at < CONFIRMATION_INTERVAL:
        return
    address.confirmation_sent_at = now
    db.session.add(
        Delivery(
            kind=CONFIRM,
            address_id=address.id,
            subscription_id=subscription.id,
            site_id=thread.site_id,
            created_at=now,
            next_attempt_at=now,
        )
    )


def fan_out(comment: Comment) -> None:
    """Queue one mail per confirmed, active subscriber but the author: one INSERT … SELECT.

    The (subscription, comment) unique constraint plus ON CONFLICT DO NOTHING make
    a second fan-out of the same comment a no-op.
    """
    dialect = db.session.get_bind().dialect.name
    now = utcnow()
    # On the connection: a session would read an INSERT with parameters as an ORM bulk insert.
    db.session.connection().execute(
        _fan_out_statement(dialect),
        # Parameter names differ from the table's columns, which an INSERT would claim.
        {
            "p_comment": comment.id,
            "p_thread": comment.thread_id,
            "p_author": comment.email_hash,
            "p_now": now,
        },
    )


@cache
def _fan_out_statement(dialect_name: str) -> Any:
    # Built once per process: only the parameters change from comment to comment.
    chosen = (
        select(
            literal(NOTIFY).label("kind"),
            Subscription.id.label("subscription_id"),
            bindparam("p_comment", type_=Integer).label("comment_id"),
            literal(QUEUED).label("status"),
            literal(0).label("attempts"),
            bindparam("p_now", type_=DateTime).label("next_attempt_at"),
            bindparam("p_now", type_=DateTime).label("created_at"),
            literal("").label("last_error"),
        )
        .join(Address, Address.id == Subscription.address_id)
        .where(
            Subscription.thread_id == bindparam("p_thread"),
            Subscription.active.is_(True),
            Address.confirmed_at.is_not(None),
            Address.suppressed_at.is_(None),
            Address.email_hash != bindparam("p_author"),
        )
    )
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(Delivery)
        .from_select(
            [
                "kind",
                "subscription_id",
                "comment_id",
                "status",
                "attempts",
                "next_attempt_at",
                "created_at",
                "last_error",
            ],
            chosen,
        )
        .on_conflict_do_nothing()
    )


def address_from_token(purpose: str, token: str) -> tuple[Address, Subscription | None]:
    """The address (and subscription) a confirm / unsubscribe / manage token is for."""
    try:
        payload = read_token(purpose, token)
    except TokenError as exc:
        raise NotFound(exc.message) from exc
    if not isinstance(payload, dict):
        raise NotFound("This link is not valid.")
    subscription = db.session.get(Subscription, payload["s"]) if "s" in payload else None
    address_id = subscription.address_id if subscription else payload.get("a")
    address = db.session.get(Address, address_id) if isinstance(address_id, int) else None
    if address is None or ("s" in payload and subscription is None):
        raise NotFound("This subscription no longer exists.")
    return address, subscription


def confirm(address: Address) -> None:
    if address.confirmed_at is None:
        address.confirmed_at = utcnow()
    db.session.commit()


def unsubscribe(address: Address, subscription: Subscription | None, everything: bool) -> int:
    """Stop one subscription, or every one of the address; twice is fine. Returns how many."""
    query = select(Subscription).where(
        Subscription.address_id == address.id, Subscription.active.is_(True)
    )
    if not everything and subscription is not None:
        query = query.where(Subscription.id == subscription.id)
    stopped = 0
    for sub in db.session.scalars(query):
        sub.active, sub.unsubscribed_at = False, utcnow()
        stopped += 1
    db.session.commit()
    return stopped


def subscriptions_of(address: Address) -> list[Subscription]:
    return list(
        db.session.scalars(
            select(Subscription)
            .where(Subscription.address_id == address.id)
            .order_by(Subscription.created_at)
        )
    )


def subscriber_count(thread: Thread) -> int:
    from sqlalchemy import func

    return (
        db.session.scalar(
            select(func.count(Subscription.id)).where(
                Subscription.thread_id == thread.id, Subscription.active.is_(True)
            )
        )
        or 0
    )
