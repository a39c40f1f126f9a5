"""A reader's data rights (GDPR art. 15, 17, 20): everything stored about one address, as
JSON, and its erasure. Nothing here logs or stores the address itself."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from .extensions import db
from .models import (
    APPROVED,
    DELETED,
    PRIVACY,
    Address,
    Comment,
    Delivery,
    ModerationEvent,
    Site,
    Subscription,
    Thread,
    utcnow,
)
from .serializers import iso
from .threads import refresh_thread
from .vault import vault

log = logging.getLogger(__name__)


def _comments_of(email_hash: str) -> list[tuple[Comment, Thread, str]]:
    rows = db.session.execute(
        select(Comment, Thread, Site.name)
        .join(Thread, Thread.id == Comment.thread_id)
        .join(Site, Site.id == Thread.site_id)
        .where(Comment.email_hash == email_hash)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    return [(comment, thread, site) for comment, thread, site in rows]


def export_reader(email: str) -> dict[str, Any]:
    """Everything stored about `email`: its address record, comments and subscriptions.
    Reads only."""
    return {"email": email, **export_by_hash(vault().lookup_hash(email))}


def export_by_hash(email_hash: str) -> dict[str, Any]:
    """Everything stored about the address with this keyed hash (a /privacy link names
    no address). Reads only."""
    address = db.session.scalar(select(Address).where(Address.email_hash == email_hash))
    comments = [
        {
            "id": comment.id,
            "site": site,
            "thread": thread.key,
            "thread_title": thread.title,
            "thread_url": thread.url,
            "parent_id": comment.parent_id,
            "author": comment.author,
            "website": comment.website,
            "body": comment.body,
            "status": comment.status,
            "created_at": iso(comment.created_at),
            "edited_at": iso(comment.edited_at),
            "ip_truncated": comment.ip,
            "notify": comment.notify,
        }
        for comment, thread, site in _comments_of(email_hash)
    ]
    subscriptions: list[dict[str, Any]] = []
    record: dict[str, Any] | None = None
    if address is not None:
        record = {
            "created_at": iso(address.created_at),
            "confirmed_at": iso(address.confirmed_at),
            "suppressed_at": iso(address.suppressed_at),
            "suppression_reason": address.suppression_reason,
            "paused_until": iso(getattr(address, "paused_until", None)),
        }
        rows = db.session.execute(
            select(Subscription, Thread, Site.name)
            .join(Thread, Thread.id == Subscription.thread_id)
            .join(Site, Site.id == Thread.site_id)
            .where(Subscription.address_id == address.id)
            .order_by(Subscription.created_at, Subscription.id)
        ).all()
        subscriptions = [
            {
                "site": site,
                "thread": thread.key,
                "thread_title": thread.title,
                "mode": getattr(subscription, "mode", "all"),
                "active": subscription.active,
                "created_at": iso(subscription.created_at),
                "confirmed_at": iso(subscription.confirmed_at),
                "unsubscribed_at": iso(subscription.unsubscribed_at),
            }
            for subscription, thread, site in rows
        ]
    return {
        "address": record,
        "comments": comments,
        "subscriptions": subscriptions,
    }


def erase_reader(email: str, actor: str = "owner") -> tuple[int, int]:
    """Erase what is stored about `email` (erase_by_hash). Commits."""
    return erase_by_hash(vault().lookup_hash(email), actor)


def erase_by_hash(email_hash: str, actor: str = "reader") -> tuple[int, int]:
    """Erase what is stored about the address with this keyed hash: each comment becomes
    "[deleted]" (name, website, text, address, hashes and IP removed; replies stay), its
    subscriptions, queued mail and the address record go. Logged without the address.
    Returns (comments, subscriptions). Commits."""
    erased = 0
    for comment, _thread, _site in _comments_of(email_hash):
        was_public = comment.status == APPROVED
        comment.status = DELETED
        comment.author, comment.website, comment.body, comment.html = "", "", "", ""
        comment.email_enc, comment.email_hash, comment.avatar_seed, comment.ip = "", "", "", ""
        comment.notify = ""
        # A moderator's edit kept the text before and after in the log: it goes too.
        db.session.execute(
            update(ModerationEvent)
            .where(ModerationEvent.comment_id == comment.id, ModerationEvent.action == "edit")
            .values(detail="")
            .execution_options(synchronize_session=False)
        )
        if was_public:
            refresh_thread(comment.thread_id, -1)
        else:
            refresh_thread(comment.thread_id, 0)  # its page may show it to its author
        erased += 1
    address_id = db.session.scalar(select(Address.id).where(Address.email_hash == email_hash))
    subscriptions = 0
    if address_id is not None:
        ids = select(Subscription.id).where(Subscription.address_id == address_id)
        subscriptions = len(db.session.scalars(ids).all())
        db.session.execute(
            delete(Delivery)
            .where(or_(Delivery.address_id == address_id, Delivery.subscription_id.in_(ids)))
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(Subscription)
            .where(Subscription.address_id == address_id)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(Address)
            .where(Address.id == address_id)
            .execution_options(synchronize_session=False)
        )
    detail = f"{erased} comments, {subscriptions} subscriptions"
    db.session.add(ModerationEvent(site_id=None, actor=actor, action="erase-reader", detail=detail))
    db.session.commit()
    log.info("Erased a reader's data: %s", detail)
    return erased, subscriptions


#: Links one address can ask for in a day: enough for a lost mail, too few to flood it.
PRIVACY_LINKS_PER_DAY = 3


def request_privacy_link(email: str) -> None:
    """Queue a mail with a link to the data of `email`, if anything is stored about it
    (the page says the same either way: nothing tells who comments here). Commits."""
    email_hash = vault().lookup_hash(email)
    address_id = db.session.scalar(select(Address.id).where(Address.email_hash == email_hash))
    comment_id = db.session.scalar(
        select(Comment.id).where(Comment.email_hash == email_hash).order_by(Comment.id).limit(1)
    )
    if address_id is None and comment_id is None:
        return
    mine = Delivery.address_id == address_id if address_id else Delivery.comment_id == comment_id
    sent_today = db.session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.kind == PRIVACY, mine, Delivery.created_at > utcnow() - timedelta(days=1)
        )
    )
    if (sent_today or 0) >= PRIVACY_LINKS_PER_DAY:
        return
    db.session.add(
        Delivery(
            kind=PRIVACY,
            address_id=address_id,
            comment_id=None if address_id else comment_id,
            created_at=utcnow(),
        )
    )
    db.session.commit()


def stored_about(email_hash: str) -> tuple[int, int]:
    """How many comments and subscriptions this address has here. Reads only."""
    comments = db.session.scalar(
        select(func.count(Comment.id)).where(Comment.email_hash == email_hash)
    )
    subscriptions = db.session.scalar(
        select(func.count(Subscription.id))
        .join(Address, Address.id == Subscription.address_id)
        .where(Address.email_hash == email_hash)
    )
    return int(comments or 0), int(subscriptions or 0)
