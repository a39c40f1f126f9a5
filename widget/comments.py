"""Comments: posting, the author's edit and delete within the edit window.

Threads, their cached pages and counts live in `threads`; what follows a publish or a hold
in `moderation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from . import moderation, spam
from .errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from .extensions import db
from .forms import NewComment
from .limits import MAX_ID
from .models import (
    APPROVED,
    DELETED,
    PENDING,
    SPAM,
    AdminUser,
    Comment,
    ModerationEvent,
    Site,
    Thread,
    utcnow,
)
from .render import markdown_to_html
from .statements import Prepared
from .threads import (
    THREAD_GONE,
    PageThread,
    detached,
    get_or_create_thread,
    hold_comment,
    is_closed,
    lock_comments,
    lock_thread,
    refresh_thread,
)
from .tokens import TokenError, comment_token, names_row, read_token_issued
from .vault import truncate_ip, vault

# --- writing -----------------------------------------------------------------


def post_comment(page: PageThread, new: NewComment) -> tuple[Comment, str]:
    """Store a comment (published or held) and queue what follows; return it with its edit token.

    `page` is find_page_thread(site name, new.thread_key).
    """
    site = page.site
    email_hash = vault().lookup_hash(new.email)
    html = markdown_to_html(new.body)
    verdict = spam.check(site, new, email_hash, html)  # may refuse a forged or replayed token
    thread = get_or_create_thread(site, new.thread_key, new.title, new.url, found=page.thread)
    if is_closed(thread, site):
        raise Conflict("Comments are closed on this page.")
    parent = _check_parent(thread, new.parent_id)
    status, reasons = moderation.initial_status(site, email_hash, verdict, new.author_token)
    row = {
        "thread_id": thread.id,
        "parent_id": parent.id if parent else None,
        "root_id": parent.root_id if parent else None,  # top level: its own id, set by _insert
        "depth": parent.depth + 1 if parent else 0,
        "score": 0,
        "author": new.author,
        "website": new.website,
        "email_enc": vault().encrypt(new.email),
        "email_hash": email_hash,
        "avatar_seed": vault().avatar_seed(new.email, site_id=site.id),
        "body": new.body,
        "html": html,
        "status": status,
        "reasons": " ".join(reasons),
        "spam_score": verdict.score,
        "ip": truncate_ip(new.ip),
        "created_at": utcnow(),
        "edited_at": None,
        "import_key": None,
        "role": None,
        # Its author is subscribed once it is published: spam or a held comment subscribes
        # nobody (and so mails nobody a confirmation).
        "notify": new.notify,
    }
    comment = detached(Comment, _insert(db.session.connection(), row))
    if status == APPROVED:
        moderation.on_published(comment, notify=page.has_subscribers)
    moderation.on_posted(comment, site, has_webhooks=page.has_webhooks)
    db.session.commit()
    return comment, comment_token("edit", comment.id, comment.created_at)


def post_as_admin(admin: AdminUser, thread: Thread, body: str, parent_id: int | None) -> Comment:
    """The owner (or a moderator) takes part: their comment is published at once with their
    role as its badge, mails the thread's subscribers and the site's webhooks, and is logged.

    Replying to a held comment approves it first (one cannot answer what nobody sees). It
    carries no address: nothing to subscribe, nothing to hide. Commits.
    """
    body = moderation.admin_text(body)
    actor = f"admin:{admin.email}"
    # Locks in the order every writer takes them (locks.py), the comment before
    # its thread: a moderator approving this parent meanwhile waits instead of deadlocking.
    held_parent = None
    if parent_id and parent_id <= MAX_ID:
        lock_comments([parent_id])
        held_parent = db.session.get(Comment, parent_id, populate_existing=True)
    lock_thread(thread.id)  # two copies sent at once: the second sees the first
    again = _same_reply_just_now(actor, thread, body, parent_id)
    if again is not None:  # a double click, or the form sent twice: one reply
        return again
    if held_parent is not None and held_parent.thread_id == thread.id:
        if held_parent.status == PENDING:
            moderation.apply_decision(held_parent, "approve", actor)
    parent = _check_parent(thread, parent_id)
    comment = Comment(
        thread_id=thread.id,
        parent_id=parent.id if parent else None,
        root_id=parent.root_id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        author=admin.name or admin.role.capitalize(),
        avatar_seed=vault().avatar_seed(f"admin:{admin.id}", site_id=thread.site_id),
        body=body,
        html=markdown_to_html(body),
        status=APPROVED,
        role=admin.role,
        created_at=utcnow(),
    )
    db.session.add(comment)
    db.session.flush()
    if comment.root_id is None:
        comment.root_id = comment.id
    moderation.record(comment, actor, "reply")
    moderation.on_published(comment)
    moderation.on_posted(comment, thread.site)
    db.session.commit()
    return comment


#: An admin's identical reply within this long is the same reply sent twice.
REPLY_REPEAT_WINDOW = timedelta(seconds=60)


def _same_reply_just_now(
    actor: str, thread: Thread, body: str, parent_id: int | None
) -> Comment | None:
    return db.session.scalar(
        select(Comment)
        .join(ModerationEvent, ModerationEvent.comment_id == Comment.id)
        .where(
            ModerationEvent.actor == actor,
            ModerationEvent.action == "reply",
            Comment.thread_id == thread.id,
            Comment.parent_id.is_(None) if parent_id is None else Comment.parent_id == parent_id,
            Comment.body == body,
            Comment.status == APPROVED,  # a reply deleted meanwhile is sent anew
            Comment.created_at > utcnow() - REPLY_REPEAT_WINDOW,
        )
        .limit(1)
    )


_COMMENTS = cast(Table, Comment.__table__)
_COMMENT_COLUMNS = [c.name for c in _COMMENTS.columns if c.name != "id"]


def _insert(connection: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """Write a new comment with one INSERT … SELECT … RETURNING; return the row with its id.

    The hot path of posting: the ORM's unit of work would cost more than the SQL. A reply
    takes its root and depth from its parent as the INSERT runs, not as read before: an
    erasure may have moved the parent up meanwhile, or removed it (a 409).
    """
    params = {f"p_{name}": value for name, value in row.items()}
    statements = _insert_statements(connection.dialect.name)
    if row["parent_id"] is None:
        try:
            new_id = statements.own_root.scalar(connection, params)
        except IntegrityError as exc:  # PostgreSQL: the thread was merged away meanwhile
            raise Conflict(THREAD_GONE) from exc
        return {**row, "id": new_id, "root_id": new_id}
    try:
        written = statements.reply.first(connection, params)
    except IntegrityError as exc:  # PostgreSQL: read before the removal, checked after it
        raise Conflict("The comment you reply to was just removed.") from exc
    if written is None:
        raise Conflict("The comment you reply to was just removed.")
    new_id, root_id, depth = written
    return {**row, "id": new_id, "root_id": root_id, "depth": depth}


@dataclass(frozen=True)
class _InsertStatements:
    own_root: Prepared  # a top-level comment, its own root
    reply: Prepared  # a reply, below its parent


@cache
def _insert_statements(dialect_name: str) -> _InsertStatements:
    """The two INSERTs of a new comment. Each draws what depends on other rows inside the
    statement: a top-level comment its id (PostgreSQL from the column's sequence; SQLite
    lets one writer at a time in, so the largest id plus one is what it would choose
    itself), a reply its root and depth from its parent's row."""
    postgres = dialect_name == "postgresql"
    # Parameter names differ from the columns', which an INSERT would claim for itself.
    # PostgreSQL needs each one's type spelled out: a NULL in a SELECT list is text to it.
    params: dict[str, Any] = {
        name: bindparam(f"p_{name}", type_=_COMMENTS.c[name].type) for name in _COMMENT_COLUMNS
    }
    if postgres:
        params = {name: sql_cast(param, param.type) for name, param in params.items()}
    drawn: Any
    if postgres:
        drawn = func.nextval(func.pg_get_serial_sequence("comments", "id"))
    else:
        drawn = func.coalesce(select(func.max(_COMMENTS.c.id)).scalar_subquery(), 0) + 1
    new = select(drawn.label("id")).subquery("new")
    names = [name for name in _COMMENT_COLUMNS if name != "root_id"]
    own_root = insert(_COMMENTS).from_select(
        ["id", "root_id", *names], select(new.c.id, new.c.id, *(params[n] for n in names))
    )
    parent = _COMMENTS.alias("parent")
    names = [name for name in _COMMENT_COLUMNS if name not in ("root_id", "depth")]
    reply = insert(_COMMENTS).from_select(
        [*names, "root_id", "depth"],
        select(*(params[n] for n in names), parent.c.root_id, parent.c.depth + 1).where(
            parent.c.id == params["parent_id"], parent.c.thread_id == params["thread_id"]
        ),
    )
    returned = (_COMMENTS.c.id, _COMMENTS.c.root_id, _COMMENTS.c.depth)
    return _InsertStatements(
        own_root=Prepared(own_root.returning(_COMMENTS.c.id)),
        reply=Prepared(reply.returning(*returned)),
    )


def _check_parent(thread: Thread, parent_id: int | None) -> Comment | None:
    """The comment a reply goes under: the one it answers, or, past the depth limit, that
    comment's ancestor at the deepest allowed level (threads never nest without end)."""
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.thread_id != thread.id or parent.status != APPROVED:
        raise ValidationFailed(
            "Some fields need attention.",
            {"parent_id": ["The comment you reply to is not in this thread."]},
        )
    deepest_parent = int(current_app.config["MAX_DEPTH"]) - 1
    while parent.depth > deepest_parent and parent.parent_id is not None:
        above = db.session.get(Comment, parent.parent_id)
        if above is None or above.status not in (APPROVED, DELETED):
            # A reply under a hidden comment would be counted and mailed, never shown.
            raise ValidationFailed(
                "Some fields need attention.",
                {"parent_id": ["The comment you reply to is not in this thread."]},
            )
        parent = above
    return parent


def comment_for_author(comment_id: int, authorization: str | None) -> Comment:
    """The comment an edit token is for, while the edit window lasts."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("Send the edit token as 'Authorization: Bearer <token>'.")
    window = int(current_app.config["EDIT_WINDOW"])
    try:
        payload, issued = read_token_issued("edit", authorization[7:].strip(), max_age=window)
    except TokenError as exc:
        if exc.expired:
            raise Forbidden("The time to edit or delete this comment has passed.") from exc
        raise Forbidden("This edit token is not valid.") from exc
    comment = db.session.get(Comment, comment_id) if comment_id <= MAX_ID else None
    if comment is None or comment.status == DELETED:
        raise NotFound("No such comment.")
    if not isinstance(payload, dict) or payload.get("c") != comment.id:
        raise Forbidden("This edit token is for another comment.")
    if not names_row(payload, issued, comment.created_at):  # its id was another's before
        raise Forbidden("This edit token is for another comment.")
    if comment.created_at + timedelta(seconds=window) < utcnow():
        raise Forbidden("The time to edit or delete this comment has passed.")
    if comment.status == SPAM or moderation.decided(comment):
        # The evidence a moderator acted on stays as it is.
        raise Forbidden("A moderator has reviewed this comment; it can no longer be changed.")
    return comment


def edit_comment(comment: Comment, body: str) -> Comment:
    """The author's new text: rendered, checked like a new post, and back to the queue when
    the checks fire or the site moderates everything. Commits."""
    thread = db.session.get(Thread, comment.thread_id)
    site = db.session.get(Site, thread.site_id) if thread else None
    assert thread is not None and site is not None
    # A moderator may have acted since the token was checked: look again under the lock.
    hold_comment(comment)
    if comment.status in (SPAM, DELETED) or moderation.decided(comment):
        raise Forbidden("A moderator has reviewed this comment; it can no longer be changed.")
    comment.body = body
    comment.html = markdown_to_html(body)
    comment.edited_at = utcnow()
    verdict = spam.check_edit(site, comment)
    was_public = comment.status == APPROVED
    status = moderation.status_after_edit(site, comment, verdict)
    comment.status = status
    if verdict.reasons:
        comment.reasons = " ".join(verdict.reasons)
    if was_public:
        refresh_thread(comment.thread_id, 0 if status == APPROVED else -1)
    if was_public and status != APPROVED:
        moderation.on_held(comment, site)
    db.session.commit()
    return comment


def delete_comment(comment: Comment, actor: str = "reader") -> None:
    """A reader's delete: the text goes, replies stay under a "[deleted]" placeholder."""
    hold_comment(comment)
    if actor == "reader" and (comment.status in (SPAM, DELETED) or moderation.decided(comment)):
        raise Forbidden("A moderator has reviewed this comment; it can no longer be changed.")
    was_public = comment.status == APPROVED
    comment.status = DELETED
    comment.body, comment.html, comment.website = "", "", ""
    comment.author = ""
    moderation.record(comment, actor, "delete")
    if was_public:
        refresh_thread(comment.thread_id, -1)
    db.session.commit()


def pending_status_label(comment: Comment) -> str:
    return "approved" if comment.status == APPROVED else "pending"
