"""Subscriptions: one per (thread, address), each confirmed by its own link (double opt-in),
fan-out, unsubscribe, and the links in readers' mail."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import DateTime, Integer, and_, bindparam, case, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .errors import Conflict, NotFound
from .extensions import db
from .limits import MAX_ID
from .mailboxes import get_or_create_address, spellings
from .models import (
    CONFIRM,
    DIGEST,
    MAIL_MODES,
    NOTIFY,
    QUEUED,
    Address,
    Comment,
    Delivery,
    MailMode,
    Site,
    Subscription,
    SubscriptionAlias,
    Thread,
    utcnow,
)
from .statements import dialect_insert
from .threads import THREAD_GONE, get_or_create_thread
from .tokens import (
    LINK_MAX_AGE,
    TokenError,
    created_window,
    names_row,
    read_token_issued,
)

#: Confirmation mails a stranger can have sent to an address that never confirmed anything:
#: this many ever, and at most one a day.
UNCONFIRMED_CONFIRMATIONS_EVER = 3
UNCONFIRMED_CONFIRMATIONS_PER_DAY = 1
#: An address that confirmed once gets at most this many confirmation mails a day.
CONFIRMED_CONFIRMATIONS_PER_DAY = 3
DAY = timedelta(days=1)
#: The hour (UTC) daily digests go out.
DIGEST_HOUR = 7


def subscribe_to_page(site: Site, key: str, email: str, mode: str = MailMode.ALL) -> Subscription:
    """ "Subscribe without commenting": the page's thread (created if need be, without a
    title or URL: a subscriber does not get to name the page). Commits."""
    thread = get_or_create_thread(site, key, "", "")
    subscription = subscribe(thread, email, mode)
    db.session.commit()
    return subscription


def subscribe(thread: Thread, email: str, mode: str = MailMode.ALL) -> Subscription:
    """Ask for a subscription of (thread, address): at most one exists. A new one, or one its
    owner left, waits for a click on its own confirmation link; one already confirmed and
    active stays as it is (its mode changes only on its owner's page). Part of the caller's
    transaction: never commits."""
    address = get_or_create_address(email)
    subscription = _find_or_add(thread.id, address.id)
    if subscription.active and subscription.confirmed_at is not None:
        return subscription
    subscription.mode = mode if mode in MAIL_MODES else MailMode.ALL
    subscription.active, subscription.unsubscribed_at = True, None
    subscription.confirmed_at = None
    _queue_confirmation(address, subscription, thread)
    return subscription


def _find_or_add(thread_id: int, address_id: int) -> Subscription:
    query = select(Subscription).where(
        Subscription.thread_id == thread_id, Subscription.address_id == address_id
    )
    subscription = db.session.scalar(query)
    if subscription is not None:
        return subscription
    subscription = Subscription(thread_id=thread_id, address_id=address_id, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(subscription)
    except IntegrityError:  # the same reader twice at once, or the thread merged away
        found = db.session.scalars(query).first()
        if found is None:
            raise Conflict(THREAD_GONE) from None
        subscription = found
    return subscription


def _queue_confirmation(address: Address, subscription: Subscription, thread: Thread) -> None:
    """One confirmation mail, unless the address owner said "never", or a stranger has had
    the address mailed as often as the caps allow."""
    # Concurrent requests for one address queue here (PostgreSQL row lock; SQLite has one
    # writer at a time anyway), so the caps below count every confirmation already queued.
    db.session.refresh(address, with_for_update=True)
    if address.suppressed_at is not None or not _may_send_confirmation(address):
        return
    now = utcnow()
    address.confirmation_sent_at = now
    address.confirmations_sent = (address.confirmations_sent or 0) + 1
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


def _may_send_confirmation(address: Address) -> bool:
    if address.confirmed_at is not None:
        mine = Delivery.address_id == address.id
        return _confirmations_today(mine) < CONFIRMED_CONFIRMATIONS_PER_DAY
    # Every never-confirmed spelling of one mailbox ("ada+1@", "ada+2@"…) shares the caps of
    # one address: a stranger cannot multiply them by inventing tags.
    strangers = spellings(address.id, unconfirmed=True)
    ever = db.session.scalar(
        select(func.coalesce(func.sum(Address.confirmations_sent), 0)).where(
            Address.id.in_(strangers)
        )
    )
    if (ever or 0) >= UNCONFIRMED_CONFIRMATIONS_EVER:
        return False
    return (
        _confirmations_today(Delivery.address_id.in_(strangers)) < UNCONFIRMED_CONFIRMATIONS_PER_DAY
    )


def _confirmations_today(to_whom: Any) -> int:
    """Confirmation mails queued in the last day to the addresses `to_whom` selects."""
    sent = db.session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.kind == CONFIRM, to_whom, Delivery.created_at > utcnow() - DAY
        )
    )
    return int(sent or 0)


def fan_out(comment: Comment) -> None:
    """Queue one delivery per subscriber who should hear of `comment`: one INSERT … SELECT.

    `all` subscribers and `replies` subscribers whose own comment it answers get a mail now;
    `digest` subscribers, and anyone past the site's daily cap on this thread, get a row
    their next daily digest collects. The (subscription, comment) unique constraint plus
    ON CONFLICT DO NOTHING keep it to one row each, however often this runs.
    """
    dialect = db.session.get_bind().dialect.name
    now = utcnow()
    cap = db.session.scalar(
        select(Site.daily_mail_cap)
        .join(Thread, Thread.site_id == Site.id)
        .where(Thread.id == comment.thread_id)
    )
    # On the connection: a session would read an INSERT with parameters as an ORM bulk insert.
    db.session.connection().execute(
        _fan_out_statement(dialect),
        # Parameter names differ from the table's columns, which an INSERT would claim.
        {
            "p_comment": comment.id,
            "p_thread": comment.thread_id,
            "p_author": comment.email_hash,
            "p_now": now,
            "p_since": now - DAY,
            "p_cap": cap if cap is not None else 10,
            "p_digest_at": next_digest_time(now),
            "p_answered": answered_authors(comment) or [""],
        },
    )


def next_digest_time(now: datetime) -> datetime:
    """When the next daily digest goes out: the next DIGEST_HOUR (UTC)."""
    today = now.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return today if today > now else today + DAY


def answered_authors(comment: Comment) -> list[str]:
    """Look-up hashes of the authors of the comments `comment` replies to, at any depth."""
    hashes: list[str] = []
    parent_id = comment.parent_id
    while parent_id is not None and len(hashes) < 100:
        row = db.session.execute(
            select(Comment.parent_id, Comment.email_hash).where(Comment.id == parent_id)
        ).first()
        if row is None:
            break
        parent_id, email_hash = row
        if email_hash and email_hash not in hashes:
            hashes.append(email_hash)
    return hashes


@cache
def _fan_out_statement(dialect_name: str) -> Any:
    # Built once per process: only the parameters change from comment to comment.
    earlier = aliased(Delivery)
    sent_today = (
        select(func.count(earlier.id))
        .where(
            earlier.subscription_id == Subscription.id,
            earlier.kind == NOTIFY,
            earlier.created_at > bindparam("p_since", type_=DateTime),
        )
        .scalar_subquery()
    )
    to_digest = or_(
        Subscription.mode == MailMode.DIGEST, sent_today >= bindparam("p_cap", type_=Integer)
    )
    now = bindparam("p_now", type_=DateTime)
    chosen = (
        select(
            case((to_digest, literal(DIGEST)), else_=literal(NOTIFY)).label("kind"),
            Subscription.id.label("subscription_id"),
            bindparam("p_comment", type_=Integer).label("comment_id"),
            literal(QUEUED).label("status"),
            literal(0).label("attempts"),
            case((to_digest, bindparam("p_digest_at", type_=DateTime)), else_=now).label(
                "next_attempt_at"
            ),
            now.label("created_at"),
            literal("").label("last_error"),
        )
        .join(Address, Address.id == Subscription.address_id)
        .where(
            Subscription.thread_id == bindparam("p_thread"),
            Subscription.active.is_(True),
            Subscription.confirmed_at.is_not(None),
            Address.suppressed_at.is_(None),
            or_(Address.paused_until.is_(None), Address.paused_until < now),
            Address.email_hash != bindparam("p_author"),
            or_(
                Subscription.mode != MailMode.REPLIES,
                Address.email_hash.in_(bindparam("p_answered", expanding=True)),
            ),
        )
    )
    return (
        dialect_insert(dialect_name, Delivery)
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
    """The address (and subscription) a link in a reader's mail is for.

    Confirm and manage links expire (tokens.LINK_MAX_AGE) and stop working when their
    address's generation moves on ("unsubscribe from everything" moves it).
    """
    try:
        payload, issued = read_token_issued(purpose, token, max_age=LINK_MAX_AGE.get(purpose))
    except TokenError as exc:
        raise NotFound(exc.message) from exc
    if not isinstance(payload, dict):
        raise NotFound("This link is not valid.")
    subscription = _subscription_or_alias(payload, issued) if "s" in payload else None
    address_id = subscription.address_id if subscription else payload.get("a")
    address = db.session.get(Address, address_id) if isinstance(address_id, int) else None
    if address is not None and "s" not in payload:
        if not names_row(payload, issued, address.created_at):
            address = None  # its id was an erased reader's: the link was for them
    if address is None or ("s" in payload and subscription is None):
        raise NotFound("This subscription no longer exists.")
    if "g" in payload and payload["g"] != address.generation:
        raise NotFound("This link is no longer valid. Use the newest mail you got from us.")
    return address, subscription


def _subscription_or_alias(payload: dict[str, Any], issued: datetime) -> Subscription | None:
    """The subscription a link made at `issued` names, or the one it was merged into
    (`threads merge`); never a later subscription that got the id of an erased one."""
    subscription_id = payload["s"]
    if not isinstance(subscription_id, int) or not 0 < subscription_id <= MAX_ID:
        return None
    found = db.session.get(Subscription, subscription_id)
    if found is not None and names_row(payload, issued, found.created_at):
        return found
    # Merged away: the alias of the subscription that had this id when the link was made.
    created_from, created_until = created_window(payload, issued)
    kept = db.session.scalar(
        select(SubscriptionAlias.subscription_id)
        .where(
            SubscriptionAlias.old_id == subscription_id,
            SubscriptionAlias.created_at >= issued,  # made before the merge
            or_(
                SubscriptionAlias.old_created_at.is_(None),
                and_(
                    SubscriptionAlias.old_created_at >= created_from,
                    SubscriptionAlias.old_created_at < created_until,
                ),
            ),
        )
        .order_by(SubscriptionAlias.created_at)
        .limit(1)
    )
    return db.session.get(Subscription, kept) if kept is not None else None


def confirm(subscription: Subscription) -> None:
    """Its owner followed this subscription's own confirmation link: it starts, and no other
    subscription of the address does. A subscription left since the link was sent stays
    left (only a new request, and its new link, bring it back). Commits."""
    if not subscription.active:
        raise NotFound("This subscription was stopped. Subscribe again on the article's page.")
    now = utcnow()
    if subscription.confirmed_at is None:
        subscription.confirmed_at = now
    if subscription.address.confirmed_at is None:
        subscription.address.confirmed_at = now
    db.session.commit()


def unsubscribe(address: Address, subscription: Subscription | None, everything: bool) -> int:
    """Stop one subscription, or every one of the address; twice is fine. Returns how many.

    "Everything" also moves the address's generation: every confirm and manage link sent
    before stops working. Commits.
    """
    query = select(Subscription).where(
        Subscription.address_id == address.id, Subscription.active.is_(True)
    )
    if not everything and subscription is not None:
        query = query.where(Subscription.id == subscription.id)
    stopped = 0
    for sub in db.session.scalars(query):
        sub.active, sub.unsubscribed_at, sub.confirmed_at = False, utcnow(), None
        stopped += 1
    if everything:
        address.generation = (address.generation or 0) + 1
    db.session.commit()
    return stopped


OWNER_ASKED = "The address owner asked for no mail."


def never_mail(address: Address) -> None:
    """The address owner asked for no mail at all from this site ("never email me
    again"): every subscription stops and nothing more is sent. Commits."""
    for sub in subscriptions_of(address):
        sub.active, sub.confirmed_at = False, None
    if address.suppressed_at is None:  # a server's refusal stays the server's: the admin's
        address.suppressed_at = utcnow()  # to lift, not the reader's to take back
        address.suppression_reason = OWNER_ASKED
    address.generation = (address.generation or 0) + 1
    db.session.commit()


def subscriptions_of(address: Address) -> list[Subscription]:
    return list(
        db.session.scalars(
            select(Subscription)
            .where(Subscription.address_id == address.id)
            .order_by(Subscription.created_at)
        )
    )


def allow_mail_again(address: Address) -> None:
    """The address owner takes back "never email me again" (from that link's page: only
    its owner has it). Its subscriptions stay stopped: each comes back by a new confirmed
    request. Commits."""
    if address.suppression_reason != OWNER_ASKED:
        raise Conflict("A mail server refused this address: only the site's owner can lift that.")
    address.suppressed_at, address.suppression_reason = None, ""
    db.session.commit()


def lift_suppression(address_id: int | None) -> None:
    """Let mail flow to an address a server had refused for good (the admin). Commits."""
    address = (
        db.session.get(Address, address_id) if address_id and 0 < address_id <= MAX_ID else None
    )
    if address is None:
        raise NotFound("No such address.")
    if address.suppression_reason == OWNER_ASKED:
        raise Conflict(
            "Its owner asked for no mail; only they can allow it again (their link's page)."
        )
    address.suppressed_at, address.suppression_reason = None, ""
    db.session.commit()


def set_mode(address: Address, subscription_id: int | None, mode: str) -> Subscription:
    """Its owner switches what one subscription sends (the manage page). Commits."""
    subscription = _own(address, subscription_id)
    if mode not in MAIL_MODES:
        raise NotFound("No such choice.")
    subscription.mode = mode
    db.session.commit()
    return subscription


def pause(address: Address, days: int) -> None:
    """No mail of any thread for `days` days (0 resumes). Commits."""
    address.paused_until = utcnow() + timedelta(days=days) if days > 0 else None
    db.session.commit()


def _own(address: Address, subscription_id: int | None) -> Subscription:
    wanted = subscription_id if subscription_id and 0 < subscription_id <= MAX_ID else None
    found = db.session.get(Subscription, wanted) if wanted else None
    if found is None or found.address_id != address.id:
        raise NotFound("No such subscription.")
    return found
