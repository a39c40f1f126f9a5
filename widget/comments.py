"""Comments: threads, the public page of a thread, posting, editing, deleting, counts."""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from . import moderation, spam, subscriptions
from .errors import Conflict, Forbidden, NotFound, ParleyError, Unauthorized, ValidationFailed
from .extensions import db
from .forms import HONEYPOT_FIELD
from .models import APPROVED, DELETED, Comment, Site, Subscription, Thread, utcnow
from .render import markdown_to_html
from .serializers import comment_json, thread_json, to_json
from .tokens import TokenError, make_token, read_token
from .vault import truncate_ip, vault


@dataclass
class NewComment:
    """A reader's comment as it arrives, already validated by the form."""

    thread_key: str
    author: str
    email: str
    body: str
    website: str = ""
    title: str = ""
    url: str = ""
    parent_id: int | None = None
    notify: bool = False
    form_token: str | None = None
    honeypot: str = ""
    ip: str = ""


def new_comment_from(form: Any, thread_key: str, *, title: str, url: str, ip: str) -> NewComment:
    """What the comment form (API or no-JS page) carries, as a NewComment."""
    return NewComment(
        thread_key=thread_key,
        author=form.author.data or "",
        email=form.email.data or "",
        body=form.body.data or "",
        website=form.website.data or "",
        title=title,
        url=url,
        parent_id=form.parent_id.data,
        notify=bool(form.notify.data),
        form_token=form.form_token.data or None,
        honeypot=getattr(form, HONEYPOT_FIELD).data or "",
        ip=ip,
    )


# --- threads -----------------------------------------------------------------


_THREAD_BY_KEY = select(Thread).where(
    Thread.site_id == bindparam("site_id"), Thread.key == bindparam("key")
)


@dataclass(frozen=True)
class PageThread:
    """A site and the thread of one of its pages, found together by find_page_thread().

    Both are read-only snapshots, detached from the session: the hot paths only read them.
    """

    site: Site
    thread: Thread | None  # None until the page's first comment
    has_subscribers: bool  # False lets a post skip the fan-out statement (most threads)


_SITES: Any = Site.__table__
_THREADS: Any = Thread.__table__
_PAGE_THREAD = (
    select(
        *_SITES.c,
        *[column.label(f"thread_{column.name}") for column in _THREADS.c],
        exists()
        .where(Subscription.thread_id == _THREADS.c.id, Subscription.active.is_(True))
        .label("has_subscribers"),
    )
    .select_from(
        _SITES.outerjoin(
            _THREADS, and_(_THREADS.c.site_id == _SITES.c.id, _THREADS.c.key == bindparam("key"))
        )
    )
    .where(_SITES.c.name == bindparam("name"))
)
_SITE_COLUMNS = [column.name for column in _SITES.c]
_THREAD_COLUMNS = [column.name for column in _THREADS.c]


def find_page_thread(site_name: str | None, key: str) -> PageThread:
    """The named site (or a 404) and its thread for `key`: one Core query for reads and posts.

    Loading both through the ORM cost a fifth of a post; the snapshots below cost little.
    """
    row = None
    if site_name:
        row = db.session.connection().execute(_PAGE_THREAD, {"name": site_name, "key": key}).first()
    if row is None:
        raise NotFound("Unknown site.")
    width = len(_SITE_COLUMNS)
    site = _site_snapshot(tuple(row[:width]))
    thread_values = row[width:-1]
    thread = None
    if thread_values[0] is not None:
        thread = _detached(Thread, dict(zip(_THREAD_COLUMNS, thread_values, strict=True)))
    return PageThread(site=site, thread=thread, has_subscribers=bool(row[-1]))


def find_site(name: str | None) -> Site:
    """The named site (or a 404) as a read-only snapshot, for requests that only read it."""
    row = db.session.connection().execute(_SITE_BY_NAME, {"name": name}).first() if name else None
    if row is None:
        raise NotFound("Unknown site.")
    return _site_snapshot(tuple(row))


_SITE_BY_NAME = select(*_SITES.c).where(_SITES.c.name == bindparam("name"))
_site_snapshots: dict[tuple[Any, ...], Site] = {}


def _site_snapshot(values: tuple[Any, ...]) -> Site:
    # Every request names a site and sites seldom change: one instance per distinct row.
    # Any change gives a new row, hence a new snapshot; nothing can be stale.
    site = _site_snapshots.get(values)
    if site is None:
        if len(_site_snapshots) > 256:
            _site_snapshots.clear()
        site = _detached(Site, dict(zip(_SITE_COLUMNS, values, strict=True)))
        _site_snapshots[values] = site
    return site


def _detached(model: type[Any], row: dict[str, Any]) -> Any:
    """A model instance holding a stored row, detached: readable everywhere, saved by nothing.

    The values go straight into its __dict__, as the ORM's own loading does: the
    constructor's attribute events cost more than the rest of building it.
    """
    instance = inspect(model).class_manager.new_instance()
    instance.__dict__.update(row)
    make_transient_to_detached(instance)
    return instance


def find_thread(site: Site, key: str) -> Thread | None:
    return db.session.scalar(_THREAD_BY_KEY, {"site_id": site.id, "key": key})


def get_thread(site: Site, key: str) -> Thread:
    thread = find_thread(site, key)
    if thread is None:
        raise NotFound("No comments on this page yet.")
    return thread


def get_or_create_thread(
    site: Site, key: str, title: str, url: str, found: Thread | None = None
) -> Thread:
    """A thread is created by its first comment, keeping the title and URL sent with it.

    `found` is the thread when the caller has looked it up already.
    """
    thread = found or find_thread(site, key)
    if thread is not None:
        if not thread.title and title:
            if inspect(thread).detached:
                thread = db.session.merge(thread)
            thread.title, thread.url = title, url or thread.url
        return thread
    thread = Thread(site_id=site.id, key=key, title=title, url=url)
    try:
        with db.session.begin_nested():
            db.session.add(thread)
    except IntegrityError:
        # Two first comments at once: the other request created it.
        thread = get_thread(site, key)
    return thread


def refresh_thread(thread_id: int, delta: int | None = None) -> None:
    """Bump a thread's version (ETag, page cache) and move its public count.

    `delta` is the change a publish (+1) or unpublish (-1) makes, 0 for an edit; None
    recounts from the comments (imports, where many change at once).
    """
    if delta is not None:  # the hot path: one cached statement on the connection
        db.session.connection().execute(_MOVE_COUNT, {"p_thread": thread_id, "p_delta": delta})
        return
    public = (
        select(func.count(Comment.id))
        .where(Comment.thread_id == thread_id, Comment.status == APPROVED)
        .scalar_subquery()
    )
    db.session.execute(
        update(Thread)
        .where(Thread.id == thread_id)
        .values(comment_count=public, version=Thread.version + 1)
        .execution_options(synchronize_session=False)
    )


_MOVE_COUNT = (
    update(_THREADS)
    .where(_THREADS.c.id == bindparam("p_thread"))
    .values(
        comment_count=_THREADS.c.comment_count + bindparam("p_delta", type_=Integer),
        version=_THREADS.c.version + 1,
    )
)


# --- reading -----------------------------------------------------------------


class PageCache:
    """Serialized thread pages keyed by thread version: an unchanged thread costs no query."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key: tuple[Any, ...], value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def page_cache() -> PageCache:
    return current_app.extensions["parley_page_cache"]  # type: ignore[no-any-return]


def thread_page_etag(thread: Thread, cursor: str | None, limit: int) -> str:
    return f'W/"t{thread.id}v{thread.version}-{limit}-{cursor or ""}"'


def thread_page(thread: Thread, cursor: str | None, limit: int) -> bytes:
    """The JSON page of a thread: cached per (thread, version, cursor, limit)."""
    key = (thread.id, thread.version, cursor, limit)
    cached = page_cache().get(key)
    if cached is None:
        comments, next_cursor = load_page(thread, cursor, limit)
        body = {"thread": thread_json(thread), "comments": comments, "next_cursor": next_cursor}
        cached = to_json(body)
        page_cache().put(key, cached)
    return cached


def load_page(thread: Thread, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """`limit` top-level comments after `cursor` with all their replies, as public trees,
    and the cursor of the next page (None on the last)."""
    roots = (
        select(Comment.id)
        .where(
            Comment.thread_id == thread.id,
            Comment.parent_id.is_(None),
            Comment.status.in_((APPROVED, DELETED)),
        )
        .order_by(Comment.created_at, Comment.id)
        .limit(limit + 1)
    )
    if cursor:
        at, last_id = decode_cursor(cursor)
        roots = roots.where(
            or_(Comment.created_at > at, and_(Comment.created_at == at, Comment.id > last_id))
        )
    # One query: the page's top-level comments and every reply below them.
    rows = db.session.scalars(
        select(Comment)
        .where(Comment.root_id.in_(roots), Comment.status.in_((APPROVED, DELETED)))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    tops = [c for c in rows if c.parent_id is None]
    more = len(tops) > limit
    tops = tops[:limit]
    next_cursor = encode_cursor(tops[-1]) if more and tops else None
    keep = {c.id for c in tops}
    return _build_tree([c for c in rows if c.root_id in keep]), next_cursor


def _build_tree(rows: list[Comment]) -> list[dict[str, Any]]:
    children: dict[int | None, list[Comment]] = {}
    for comment in rows:
        children.setdefault(comment.parent_id, []).append(comment)

    def build(comment: Comment) -> dict[str, Any] | None:
        replies = [r for r in (build(c) for c in children.get(comment.id, [])) if r]
        if comment.status == DELETED and not replies:
            return None  # a deleted comment with nothing under it disappears
        return comment_json(comment, replies)

    return [node for node in (build(c) for c in children.get(None, [])) if node]


def encode_cursor(comment: Comment) -> str:
    """The cursor of the page that follows `comment` (a top-level one)."""
    return cursor_after(comment.created_at, comment.id)


def cursor_after(created_at: datetime, comment_id: int) -> str:
    raw = f"{created_at.isoformat()}|{comment_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_cursor_of(comment: Comment, limit: int) -> str | None:
    """A cursor for a page that shows `comment`: None when the first page does, else the
    cursor of a page that starts at its top-level comment."""
    root = comment
    if comment.root_id not in (None, comment.id):
        root = db.session.get(Comment, comment.root_id) or comment
    before = db.session.scalar(
        select(func.count(Comment.id)).where(
            Comment.thread_id == root.thread_id,
            Comment.parent_id.is_(None),
            Comment.status.in_((APPROVED, DELETED)),
            or_(
                Comment.created_at < root.created_at,
                and_(Comment.created_at == root.created_at, Comment.id < root.id),
            ),
        )
    )
    return cursor_after(root.created_at, root.id - 1) if (before or 0) >= limit else None


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, last_id = raw.split("|")
        return datetime.fromisoformat(at), int(last_id)
    except (ValueError, UnicodeError) as exc:
        raise ParleyError("The cursor is not valid.") from exc


def counts(site: Site, keys: list[str]) -> dict[str, int]:
    """Published comments per thread key, from the maintained counters."""
    rows = db.session.connection().execute(_COUNTS, {"site_id": site.id, "keys": keys})
    found: dict[str, int] = {key: count for key, count in rows}
    return {key: found.get(key, 0) for key in keys}


_COUNTS = select(_THREADS.c.key, _THREADS.c.comment_count).where(
    _THREADS.c.site_id == bindparam("site_id"),
    _THREADS.c.key.in_(bindparam("keys", expanding=True)),
)


# --- writing -----------------------------------------------------------------


def post_comment(page: PageThread, new: NewComment) -> tuple[Comment, str]:
    """Store a comment (published or held) and queue what follows; return it with its edit token.

    `page` is find_page_thread(site name, new.thread_key).
    """
    site = page.site
    email_hash = vault().lookup_hash(new.email)
    verdict = spam.check(site, new, email_hash)  # may refuse a forged or replayed form token
    thread = get_or_create_thread(site, new.thread_key, new.title, new.url, found=page.thread)
    if thread.closed:
        raise Conflict("Comments are closed on this page.")
    parent = _check_parent(thread, new.parent_id)
    status, reasons = moderation.initial_status(site, email_hash, verdict)
    row = {
        "thread_id": thread.id,
        "parent_id": parent.id if parent else None,
        "root_id": parent.root_id if parent else None,  # top level: its own id, set by _insert
        "author": new.author,
        "website": new.website,
        "email_enc": vault().encrypt(new.email),
        "email_hash": email_hash,
        "avatar_seed": vault().avatar_seed(new.email),
        "body": new.body,
        "html": markdown_to_html(new.body),
        "status": status,
        "reasons": " ".join(reasons),
        "spam_score": verdict.score,
        "ip": truncate_ip(new.ip),
        "created_at": utcnow(),
        "edited_at": None,
        "import_key": None,
    }
    comment: Comment = _detached(Comment, _insert(db.session.connection(), row))
    if new.notify:
        subscriptions.subscribe(thread, new.email)
    if status == APPROVED:
        moderation.on_published(comment, notify=page.has_subscribers)
    else:
        moderation.on_held(comment, site)
    db.session.commit()
    return comment, make_token("edit", {"c": comment.id})


_COMMENTS: Any = Comment.__table__
_COMMENT_COLUMNS = [c.name for c in _COMMENTS.columns if c.name != "id"]


def _insert(connection: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """Write a new comment with one INSERT … RETURNING; return the row with its id.

    The hot path of posting: the ORM's unit of work would cost more than the SQL.
    """
    if row["parent_id"] is not None:  # a reply: root_id is its parent's
        new_id = connection.execute(_INSERT_REPLY, row).scalar_one()
        return {**row, "id": new_id}
    params = {f"p_{name}": value for name, value in row.items() if name != "root_id"}
    new_id = connection.execute(_insert_own_root(connection.dialect.name), params).scalar_one()
    return {**row, "id": new_id, "root_id": new_id}


_INSERT_REPLY = insert(_COMMENTS).returning(_COMMENTS.c.id)


@cache
def _insert_own_root(dialect_name: str) -> Any:
    """INSERT of a top-level comment, its own root: the id is drawn inside the statement.

    PostgreSQL draws it from the column's sequence; SQLite lets one writer at a time in, so
    the largest id plus one is what it would have chosen itself.
    """
    postgres = dialect_name == "postgresql"
    drawn: Any
    if postgres:
        drawn = func.nextval(func.pg_get_serial_sequence("comments", "id"))
    else:
        drawn = func.coalesce(select(func.max(_COMMENTS.c.id)).scalar_subquery(), 0) + 1
    new = select(drawn.label("id")).subquery("new")
    names = [name for name in _COMMENT_COLUMNS if name != "root_id"]
    # Parameter names differ from the columns', which an INSERT would claim for itself.
    # PostgreSQL needs each one's type spelled out: a NULL in a SELECT list is text to it.
    params: list[Any] = [bindparam(f"p_{name}", type_=_COMMENTS.c[name].type) for name in names]
    if postgres:
        params = [cast(param, param.type) for param in params]
    return (
        insert(_COMMENTS)
        .from_select(["id", "root_id", *names], select(new.c.id, new.c.id, *params))
        .returning(_COMMENTS.c.id)
    )


def _check_parent(thread: Thread, parent_id: int | None) -> Comment | None:
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.thread_id != thread.id or parent.status != APPROVED:
        raise ValidationFailed(
            "Some fields need attention.",
            {"parent_id": ["The comment you reply to is not in this thread."]},
        )
    return parent


def comment_for_author(comment_id: int, authorization: str | None) -> Comment:
    """The comment an edit token is for, while the edit window lasts."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("Send the edit token as 'Authorization: Bearer <token>'.")
    window = int(current_app.config["EDIT_WINDOW"])
    try:
        payload = read_token("edit", authorization[7:].strip(), max_age=window)
    except TokenError as exc:
        if exc.expired:
            raise Forbidden("The time to edit or delete this comment has passed.") from exc
        raise Forbidden("This edit token is not valid.") from exc
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status == DELETED:
        raise NotFound("No such comment.")
    if not isinstance(payload, dict) or payload.get("c") != comment.id:
        raise Forbidden("This edit token is for another comment.")
    if comment.created_at + timedelta(seconds=window) < utcnow():
        raise Forbidden("The time to edit or delete this comment has passed.")
    return comment


def edit_comment(comment: Comment, body: str) -> Comment:
    comment.body = body
    comment.html = markdown_to_html(body)
    comment.edited_at = utcnow()
    if comment.status == APPROVED:
        refresh_thread(comment.thread_id, 0)
    db.session.commit()
    return comment


def delete_comment(comment: Comment, actor: str = "reader") -> None:
    """A reader's delete: the text goes, replies stay under a "[deleted]" placeholder."""
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
