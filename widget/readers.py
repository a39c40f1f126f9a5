"""A reader's data rights (GDPR art. 15, 17, 20): everything stored about one address, as
JSON, and its erasure. Nothing here logs or stores the address itself."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, update

from .addresses import older_spelling
from .extensions import db
from .mailboxes import get_or_create_address, lock_mailbox, spellings
from .models import (
    APPROVED,
    DELETED,
    PRIVACY,
    Address,
    Block,
    Comment,
    Delivery,
    ErasePolicy,
    ImportTombstone,
    ModerationEvent,
    Site,
    Subscription,
    Thread,
    Vote,
    utcnow,
)
from .serializers import iso
from .statements import dialect_insert
from .threads import lock_comments, lock_threads, refresh_thread
from .vault import vault
from .wording import mask_email

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


def stored_under_older_spelling(email: str) -> str | None:
    """The spelling addresses were folded to before 2026-11-29 (addresses.older_spelling) when
    comments or an address are stored under it: they may be this reader's, or belong to the
    mailbox that spelling names, so nothing acts on them without the owner's say."""
    older = older_spelling(email)
    if older is None:
        return None
    email_hash = vault().lookup_hash(older)
    found = db.session.scalar(
        select(Address.id).where(Address.email_hash == email_hash)
    ) or db.session.scalar(select(Comment.id).where(Comment.email_hash == email_hash).limit(1))
    return older if found else None


def erase_reader(email: str, actor: str = "owner") -> tuple[int, int]:
    """Erase what is stored about `email` (erase_by_hash). Commits."""
    return erase_by_hash(vault().lookup_hash(email), actor)


def erase_by_hash(email_hash: str, actor: str = "reader") -> tuple[int, int]:
    """Erase what is stored about the address with this keyed hash. Each comment, as its
    site's erase policy says, becomes "[deleted]" (name, website, text, address, hashes and
    IP removed; replies stay under it) or is removed (replies by others keep their text and
    move up to its parent); its subscriptions, queued mail and the address record go.
    Logged without the address. Returns (comments, subscriptions). Commits."""
    _hold_comments_of(email_hash)
    _forget_blocked_address(email_hash)
    erased = 0
    rows = db.session.execute(
        select(Comment, Site.erase_policy)
        .join(Thread, Thread.id == Comment.thread_id)
        .join(Site, Site.id == Thread.site_id)
        .where(Comment.email_hash == email_hash)
        .order_by(Comment.created_at, Comment.id)
        .execution_options(populate_existing=True)  # as they are now that they are held
    ).all()
    for comment, policy in rows:
        comment_id, thread_id = comment.id, comment.thread_id
        # Only a published comment is in the thread's count; any change bumps its version
        # (a held comment's page may show it to its author).
        delta = -1 if comment.status == APPROVED else 0
        # A moderator's edit kept the text before and after in the log: it goes too.
        db.session.execute(
            update(ModerationEvent)
            .where(ModerationEvent.comment_id == comment_id, ModerationEvent.action == "edit")
            .values(detail="")
            .execution_options(synchronize_session=False)
        )
        if policy == ErasePolicy.REMOVE:
            db.session.expunge(comment)  # its row goes below the ORM's back
            _remove(comment_id, thread_id)
        else:
            _blank(comment)
        refresh_thread(thread_id, delta)
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


def _hold_comments_of(email_hash: str) -> None:
    """Lock what the erasure changes in the order every writer keeps (locks.py): the
    reader's comments (and, where they are removed, every comment of their threads, as
    replies move up), then their threads; the site and the rest come after. A moderator's
    decision or a vote on one of them waits, or is waited for, but is never lost."""
    found = db.session.execute(
        select(Comment.id, Comment.thread_id, Site.erase_policy)
        .join(Thread, Thread.id == Comment.thread_id)
        .join(Site, Site.id == Thread.site_id)
        .where(Comment.email_hash == email_hash)
    ).all()
    ids = {comment_id for comment_id, _, _ in found}
    removing = {thread_id for _, thread_id, policy in found if policy == ErasePolicy.REMOVE}
    if removing:
        ids |= set(db.session.scalars(select(Comment.id).where(Comment.thread_id.in_(removing))))
    lock_comments(ids)
    lock_threads(thread_id for _, thread_id, _ in found)


#: What the moderation log says instead of an erased reader's masked address.
ERASED_ADDRESS = "an erased reader's address"


def _forget_blocked_address(email_hash: str) -> None:
    """The site's blocks of this address hold (they match its keyed hash, which is all
    that stays); the address they kept to show masked goes, and so does the log's masked
    mention of it. Call before the comments are blanked. Never commits."""
    sealed = (
        db.session.scalars(
            select(Address.email_enc).where(Address.email_hash == email_hash)
        ).first()
        or db.session.scalars(
            select(Comment.email_enc).where(
                Comment.email_hash == email_hash, Comment.email_enc != ""
            )
        ).first()
    )
    sites = set()
    for block in db.session.scalars(_email_blocks(email_hash)):
        sealed = sealed or block.email_enc
        block.email_enc = None
        sites.add(block.site_id)
    email = vault().decrypt(sealed) if sealed else ""
    if email:
        # Other addresses mask alike ("x•••@example.com"): only entries about this one's
        # comments, or on a site that blocks it.
        theirs = select(Comment.id).where(Comment.email_hash == email_hash)
        db.session.execute(
            update(ModerationEvent)
            .where(
                ModerationEvent.action.in_(("block-email", "unblock-email")),
                ModerationEvent.detail == mask_email(email),
                or_(
                    ModerationEvent.comment_id.in_(theirs),
                    and_(ModerationEvent.comment_id.is_(None), ModerationEvent.site_id.in_(sites)),
                ),
            )
            .values(detail=ERASED_ADDRESS)
            .execution_options(synchronize_session=False)
        )


def is_blocked_somewhere(email_hash: str) -> bool:
    """Does a site block this address (a block outlives the address's erasure)? Reads only."""
    return db.session.scalar(_email_blocks(email_hash).limit(1)) is not None


def _email_blocks(email_hash: str) -> Select[Block]:
    """The sites' blocks of this address (an email block holds its keyed hash)."""
    return select(Block).where(Block.kind == "email", Block.value == email_hash)


def _blank(comment: Comment) -> None:
    """A comment becomes "[deleted]": nothing of its author or text stays. Never commits."""
    comment.status = DELETED
    comment.author = comment.website = comment.body = comment.html = ""
    comment.email_enc = comment.email_hash = comment.avatar_seed = comment.ip = ""
    comment.notify = ""


def _bury_import_key(thread_id: int, import_key: str) -> None:
    site_id = db.session.scalar(select(Thread.site_id).where(Thread.id == thread_id))
    insert = dialect_insert(db.session.get_bind().dialect.name, ImportTombstone.__table__)
    row = {"site_id": site_id, "import_key": import_key, "created_at": utcnow()}
    db.session.execute(insert.values(row).on_conflict_do_nothing())


def _remove(comment_id: int, thread_id: int) -> None:
    """Delete a comment for good. Its replies, whoever wrote them, move up to its parent (a
    reply of a top-level comment becomes top-level, the root of its own replies), each one
    level less deep; its votes and queued mail go; its log entries stay, without it.
    Never commits."""
    # Locked (on PostgreSQL; SQLite has one writer at a time): a reply written before is
    # moved up with the others; one being written meanwhile fails its foreign key (a 409).
    parent_id, root_id, depth, import_key = db.session.execute(
        select(Comment.parent_id, Comment.root_id, Comment.depth, Comment.import_key)
        .where(Comment.id == comment_id)
        .with_for_update()
    ).one()
    if import_key:  # an imported comment: importing its file again must not restore it
        _bury_import_key(thread_id, import_key)
    # Its tree (the thread, for a row without root_id), read afresh: an earlier removal in
    # the same erasure may have moved some of it.
    tree = Comment.root_id == root_id if root_id is not None else Comment.thread_id == thread_id
    under: dict[int | None, list[int]] = {}
    for reply, above in db.session.execute(select(Comment.id, Comment.parent_id).where(tree)):
        under.setdefault(above, []).append(reply)
    # Every comment below it, by the depth and (for a top-level one) the root it moves to.
    moves: dict[tuple[int, int | None], list[int]] = {}
    stack = [
        (reply, depth, reply if parent_id is None else None) for reply in under.get(comment_id, [])
    ]
    while stack:
        node, node_depth, node_root = stack.pop()
        moves.setdefault((node_depth, node_root), []).append(node)
        stack.extend((reply, node_depth + 1, node_root) for reply in under.get(node, []))
    statements: list[Any] = [
        update(Comment).where(Comment.parent_id == comment_id).values(parent_id=parent_id)
    ]
    for (new_depth, new_root), nodes in moves.items():
        values: dict[str, int] = {"depth": new_depth}
        if new_root is not None:
            values["root_id"] = new_root
        statements.append(update(Comment).where(Comment.id.in_(nodes)).values(**values))
    # Children first, so the same holds with or without the database's ON DELETE rules.
    statements += [
        delete(Vote).where(Vote.comment_id == comment_id),
        delete(Delivery).where(Delivery.comment_id == comment_id),
        update(ModerationEvent)
        .where(ModerationEvent.comment_id == comment_id)
        .values(comment_id=None),
        delete(Comment).where(Comment.id == comment_id),
    ]
    for statement in statements:
        db.session.execute(statement.execution_options(synchronize_session=False))


#: Links one mailbox can ask for in a day, whatever spellings it uses: enough for a lost
#: mail, too few to flood it.
PRIVACY_LINKS_PER_DAY = 3
#: For a mailbox none of whose spellings has a published comment or a confirmed
#: subscription (anyone can type an address into a form): as many as confirmation mails to
#: it, once a day and three times ever.
UNCONFIRMED_LINKS_PER_DAY = 1
UNCONFIRMED_LINKS_EVER = 3


def _confirmed(address_id: int | None) -> bool:
    confirmed = db.session.scalar(select(Address.confirmed_at).where(Address.id == address_id))
    return confirmed is not None


def request_privacy_link(email: str) -> None:
    """Queue a mail with a link to the data of `email`, if anything is stored about it
    (the page says the same either way: nothing tells who comments here). Commits."""
    email_hash = vault().lookup_hash(email)
    address_id = db.session.scalar(select(Address.id).where(Address.email_hash == email_hash))
    published = db.session.scalar(
        select(Comment.id).where(Comment.email_hash == email_hash, Comment.status == APPROVED)
    )
    if published is None and address_id is None and not _any_comment(email_hash):
        return  # nothing stored about it
    # Held, spam or deleted comments only prove nothing (anyone can type an address): their
    # author still has a right to them, under the caps of a never-confirmed address.
    if address_id is None:  # a commenter's: a record, so that its mailbox is counted
        address_id = get_or_create_address(email).id
    lock_mailbox(address_id)
    if not _privacy_caps_allow(address_id, proven=published is not None or _confirmed(address_id)):
        return
    db.session.add(Delivery(kind=PRIVACY, address_id=address_id, created_at=utcnow()))
    db.session.commit()


def _any_comment(email_hash: str) -> bool:
    found = db.session.scalar(select(Comment.id).where(Comment.email_hash == email_hash).limit(1))
    return found is not None


def _privacy_caps_allow(address_id: int, proven: bool) -> bool:
    """Three links a day to one mailbox; while nothing shows its owner is the one asking
    (a published comment, a confirmed subscription), the caps of a confirmation mail to the
    never-confirmed spellings of that mailbox ("ada+1@", "ada+2@"…)."""
    links = select(func.count(Delivery.id)).where(Delivery.kind == PRIVACY)
    today = Delivery.created_at > utcnow() - timedelta(days=1)
    mailbox = Delivery.address_id.in_(spellings(address_id))
    if (db.session.scalar(links.where(mailbox, today)) or 0) >= PRIVACY_LINKS_PER_DAY:
        return False
    if proven:
        return True
    strangers = Delivery.address_id.in_(spellings(address_id, unconfirmed=True))
    if (db.session.scalar(links.where(strangers, today)) or 0) >= UNCONFIRMED_LINKS_PER_DAY:
        return False
    return (db.session.scalar(links.where(strangers)) or 0) < UNCONFIRMED_LINKS_EVER


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


def erase_policies(email_hash: str) -> dict[str, list[str]]:
    """Each erase policy of the sites this address commented on, with those sites' names
    (what erasing it does to its comments, and where). Reads only."""
    rows = db.session.execute(
        select(Site.erase_policy, Site.name)
        .distinct()
        .join(Thread, Thread.site_id == Site.id)
        .join(Comment, Comment.thread_id == Thread.id)
        .where(Comment.email_hash == email_hash)
        .order_by(Site.name)
    )
    policies: dict[str, list[str]] = {}
    for policy, site in rows:
        policies.setdefault(policy, []).append(site)
    return policies
