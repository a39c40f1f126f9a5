"""Threads: finding a page's thread, creating and refreshing it, its cached public pages,
cursors and counts."""

from __future__ import annotations

import base64
import gzip
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlsplit

from flask import current_app
from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from .compression import GZIP_MIN
from .errors import NotFound, ParleyError
from .extensions import Base, db
from .limits import MAX_ID, RECENT_MAX, THREAD_KEY_MAX, TITLE_MAX
from .locks import lock_rows, lock_where
from .models import (
    APPROVED,
    DELETED,
    Comment,
    ModerationEvent,
    Site,
    Subscription,
    Thread,
    Webhook,
    utcnow,
)
from .serializers import comment_json, thread_json, to_json
from .statements import Prepared
from .text import unsafe_in_line

Model = TypeVar("Model", bound=Base)

_SITES = cast(Table, Site.__table__)
_THREADS = cast(Table, Thread.__table__)
_COMMENTS = cast(Table, Comment.__table__)
_THREAD_BY_KEY = select(Thread).where(
    Thread.site_id == bindparam("site_id"), Thread.key == bindparam("key")
)
PUBLIC = (APPROVED, DELETED)


@dataclass(frozen=True)
class PageThread:
    """A site and the thread of one of its pages, found together by find_page_thread().

    Both are read-only snapshots, detached from the session: the hot paths only read them.
    """

    site: Site
    thread: Thread | None  # None until the page's first comment
    has_subscribers: bool  # False lets a post skip the fan-out statement (most threads)
    has_webhooks: bool = True  # False lets a post skip looking for the site's hooks (most sites)


_PAGE_THREAD = Prepared(
    select(
        *_SITES.c,
        *[column.label(f"thread_{column.name}") for column in _THREADS.c],
        exists()
        .where(Subscription.thread_id == _THREADS.c.id, Subscription.active.is_(True))
        .label("has_subscribers"),
        exists().where(Webhook.site_id == _SITES.c.id).label("has_webhooks"),
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


#: A thread merged into another while a comment or subscription was on its way into it.
THREAD_GONE = "The comments of this page just moved: reload the page and try again."

#: A request that names no site at all: a 400 (an unknown name is a 404).
SITE_MISSING = "Name the site: site=NAME."


def find_page_thread(site_name: str | None, key: str) -> PageThread:
    """The named site (or a 404) and its thread for `key`: one Core query for reads and posts.

    Loading both through the ORM cost a fifth of a post; the snapshots below cost little.
    """
    if not site_name:
        raise ParleyError(SITE_MISSING)
    row = _PAGE_THREAD.first(db.session.connection(), {"name": site_name, "key": key})
    if row is None:
        raise NotFound("Unknown site.")
    width = len(_SITE_COLUMNS)
    site = _site_snapshot(tuple(row[:width]))
    thread_values = row[width:-2]
    thread = None
    if thread_values[0] is not None:
        thread = detached(Thread, dict(zip(_THREAD_COLUMNS, thread_values, strict=True)))
    return PageThread(
        site=site, thread=thread, has_subscribers=bool(row[-2]), has_webhooks=bool(row[-1])
    )


def find_site(name: str | None) -> Site:
    """The named site (or a 404) as a read-only snapshot, for requests that only read it."""
    if not name:
        raise ParleyError(SITE_MISSING)
    row = db.session.connection().execute(_SITE_BY_NAME, {"name": name}).first()
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
        site = detached(Site, dict(zip(_SITE_COLUMNS, values, strict=True)))
        _site_snapshots[values] = site
    return site


def detached(model: type[Model], row: dict[str, Any]) -> Model:
    """A model instance holding a stored row, detached: readable everywhere, saved by nothing.

    The values go straight into its __dict__, as the ORM's own loading does: the
    constructor's attribute events cost more than the rest of building it.
    """
    instance = cast(Model, inspect(model).class_manager.new_instance())
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

    `found` is the thread when the caller has looked it up already. Never commits.
    """
    url = page_url(site, url, key)
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


def page_url(site: Site, url: str, key: str = "") -> str:
    """A thread's URL as stored: on one of the site's own origins, without fragment or query
    string (they may hold a reader's tokens); else nothing. A thread `key` with a query of
    its own (WordPress's plain permalinks: `/?p=12`) is read at that query, on that path."""
    if not _url_safe(url):
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    host = parts.hostname.lower()
    origin = f"{parts.scheme}://{f'[{host}]' if ':' in host else host}{port}"
    if origin not in site.origin_list:
        return ""
    path = parts.path or "/"
    if "?" in key and key.split("?", 1)[0] == path and _url_safe(key):
        return f"{origin}{key}"
    return f"{origin}{path}"


def _url_safe(text: str) -> bool:
    return not unsafe_in_line(text) and not any(ch.isspace() or ch in "\"'<>`\\" for ch in text)


def reading_url(site: Site, thread: Thread, comment_id: int | None = None) -> str:
    """Where a thread (or one of its comments) is read: the article's page when its URL is
    on one of the site's origins (a stranger's URL never reaches a mail or a chat room),
    else Parley's own page of the thread."""
    page = page_url(site, thread.url, thread.key) if thread.url else ""
    if page:
        return f"{page}#parley-{comment_id}" if comment_id else page
    query = f"site={quote(site.name)}&thread={quote(thread.key)}"
    url = f"{current_app.config['PUBLIC_URL']}/threads?{query}"
    return f"{url}#c{comment_id}" if comment_id else url


def title_settled(thread: Thread) -> bool:
    """Is what the thread is called its own now: a comment published under it, or named by
    its owner? Before, it is a claim anyone can make (a held comment, a page load)."""
    return thread.comment_count > 0 or thread.named_by_owner


def fill_page_details(site: Site, thread: Thread, title: str, url: str) -> Thread:
    """The page that shows a thread says what it is called and where it is: while no
    comment on it is published, that replaces what it was first told (a held comment's
    claim). Nothing changes once the thread is read or its owner named it, not even a
    missing title: anyone can send a GET that claims to be the page (a forged Origin), and
    a title reaches feeds, the recent block and subscribers' mail (the owner renames a
    thread in the admin). Commits if it changed."""
    if title_settled(thread):
        return thread
    title = " ".join(title.split())[:TITLE_MAX]
    if unsafe_in_line(title):
        title = ""
    title, url = title or thread.title, page_url(site, url, thread.key) or thread.url
    if (title, url) == (thread.title, thread.url):
        return thread
    db.session.execute(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(title=title, url=url, version=Thread.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    changed = {**{c: getattr(thread, c) for c in _THREAD_COLUMNS}, "title": title, "url": url}
    changed["version"] = thread.version + 1
    return detached(Thread, changed)


def refresh_thread(thread_id: int, delta: int | None = None) -> None:
    """Bump a thread's version (ETag, page cache) and move its public count.

    `delta` is the change a publish (+1) or unpublish (-1) makes, 0 for an edit; None
    recounts from the comments (imports, where many change at once).
    """
    if delta is not None:  # the hot path: one cached statement on the connection
        connection = db.session.connection()
        _MOVE_COUNT.execute(connection, {"p_thread": thread_id, "p_delta": delta})
        if delta:
            _COUNTS_MOVED.execute(connection, {"p_thread": thread_id})
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
    _COUNTS_MOVED.execute(db.session.connection(), {"p_thread": thread_id})


#: A count of the site moved: its cached counts answers (`counts()`) are stale.
_COUNTS_MOVED = Prepared(
    update(_SITES)
    .where(
        _SITES.c.id
        == select(_THREADS.c.site_id)
        .where(_THREADS.c.id == bindparam("p_thread"))
        .scalar_subquery()
    )
    .values(counts_version=_SITES.c.counts_version + 1)
)

_MOVE_COUNT = Prepared(
    update(_THREADS)
    .where(_THREADS.c.id == bindparam("p_thread"))
    .values(
        comment_count=_THREADS.c.comment_count + bindparam("p_delta", type_=Integer),
        version=_THREADS.c.version + 1,
    )
)


def lock_comments(ids: Iterable[int]) -> None:
    """Hold these comments' rows until commit, in id order (the order is locks.py's).
    Never commits."""
    lock_rows(_COMMENTS, Comment.status, list(ids))


def hold_comment(comment: Comment) -> None:
    """Lock the comment and read it again (SQLite: its write lock, which a SELECT … FOR
    UPDATE does not take): a decision committed while this request waited is seen, not
    written over. Never commits."""
    lock_comments([comment.id])
    db.session.refresh(comment)


def lock_comments_of_threads(thread_ids: Iterable[int]) -> None:
    """Hold every comment of these threads until commit, in id order. Never commits."""
    lock_where(_COMMENTS, Comment.status, _COMMENTS.c.thread_id.in_(sorted(set(thread_ids))))


def lock_threads(ids: Iterable[int], exclusive: bool = False) -> None:
    """Hold these threads' rows until commit, in id order (`exclusive`: they are about to be
    deleted, see locks.lock_where). Never commits."""
    lock_rows(_THREADS, Thread.version, list(ids), exclusive)


def lock_thread(thread_id: int) -> None:
    """Hold the thread's row until commit (SQLite: its write lock): a check that must see
    another request's write, then act, runs one request at a time. Never commits."""
    lock_threads([thread_id])


def is_closed(thread: Thread, site: Site) -> bool:
    """Closed by a moderator, or by the site's auto-close: `close_after_days` after the
    page's publication date when known, else after the thread's first comment. A thread a
    moderator reopened stays open."""
    return _closed(
        thread.closed,
        thread.keep_open,
        thread.published_at or thread.created_at,
        site.close_after_days,
    )


def _closed(closed: bool, keep_open: bool, start: datetime, days: int | None) -> bool:
    if closed:
        return True
    if not days or keep_open:
        return False
    return start + timedelta(days=days) <= utcnow()


# --- what the cached answers were made from (fastpath) ---------------------------------


def page_state(thread: Thread, site: Site) -> tuple[Any, ...]:
    """What a thread page's answer depends on besides the request: its version, whether it
    is closed (auto-close moves with time alone), the site's votes and origins (CORS)."""
    # The id and creation time tell a thread made again under the same key (after a move,
    # a merge or a site removed and added) from the one a kept answer was made of.
    return (
        thread.id,
        thread.created_at,
        thread.version,
        is_closed(thread, site),
        site.votes,
        site.origins,
    )


def page_state_now(connection: Connection, lookup: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """page_state() read afresh for (site name, thread key): one indexed statement."""
    row = connection.execute(_PAGE_STATE, {"name": lookup[0], "key": lookup[1]}).first()
    if row is None:
        return None
    thread_id, created, version, closed, keep_open, start, days, votes, origins = row
    return (
        thread_id,
        created,
        version,
        _closed(closed, keep_open, start, days),
        votes,
        origins,
    )


_PAGE_STATE = (
    select(
        _THREADS.c.id,
        _THREADS.c.created_at,
        _THREADS.c.version,
        _THREADS.c.closed,
        _THREADS.c.keep_open,
        func.coalesce(_THREADS.c.published_at, _THREADS.c.created_at, type_=DateTime),
        _SITES.c.close_after_days,
        _SITES.c.votes,
        _SITES.c.origins,
    )
    .select_from(_SITES.join(_THREADS, _THREADS.c.site_id == _SITES.c.id))
    .where(_SITES.c.name == bindparam("name"), _THREADS.c.key == bindparam("key"))
)


def counts_state_now(connection: Connection, lookup: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The state a counts answer depends on, read afresh for (site name,): the site (id and
    creation time: not one removed and added again), its counts version and origins."""
    row = connection.execute(_COUNTS_STATE, {"name": lookup[0]}).first()
    return None if row is None else tuple(row)


_COUNTS_STATE = select(
    _SITES.c.id, _SITES.c.created_at, _SITES.c.counts_version, _SITES.c.origins
).where(_SITES.c.name == bindparam("name"))


def set_closed(thread_id: int, closed: bool, actor: str) -> Thread:
    """Close a thread to new comments, or reopen it (which overrides the site's auto-close);
    logged. Commits."""
    thread = db.session.get(Thread, thread_id) if thread_id <= MAX_ID else None
    if thread is None:
        raise NotFound("No such thread.")
    thread.closed = closed
    thread.keep_open = not closed
    thread.version += 1
    action = "close-thread" if closed else "reopen-thread"
    db.session.add(
        ModerationEvent(site_id=thread.site_id, actor=actor, action=action, detail=thread.key)
    )
    db.session.commit()
    return thread


# --- reading -----------------------------------------------------------------


@dataclass(frozen=True)
class CachedBody:
    """A serialized answer and, when it is over GZIP_MIN bytes, its gzip form: compressed
    once when it is cached, sent to every client that accepts gzip."""

    body: bytes
    gzipped: bytes | None

    @classmethod
    def of(cls, body: bytes) -> CachedBody:
        gzipped = gzip.compress(body, 6, mtime=0) if len(body) > GZIP_MIN else None
        return cls(body, gzipped)


class PageCache:
    """Serialized thread pages keyed by thread version (and counts answers keyed by the
    site's counts version): an unchanged thread costs no query."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[tuple[Any, ...], CachedBody] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> CachedBody | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key: tuple[Any, ...], value: CachedBody) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def page_cache() -> PageCache:
    return current_app.extensions["parley_page_cache"]  # type: ignore[no-any-return]


class Sort(StrEnum):
    """The order of a thread's top-level comments; replies always stay oldest first."""

    OLDEST = "oldest"
    NEWEST = "newest"
    TOP = "top"


def thread_page_etag(
    thread: Thread,
    cursor: str | None,
    limit: int,
    sort: str = "oldest",
    votes: bool = False,
    closed: bool = False,
) -> str:
    """The weak validator of one page of a thread (without quotes or W/). `closed` is part
    of it: auto-close changes the answer with no write to the thread."""
    shape = f"{limit}-{sort}-{int(votes)}{'-c' if closed else ''}"
    return f"t{thread.id}v{thread.version}-{shape}-{cursor or ''}"


def thread_page(
    thread: Thread,
    cursor: str | None,
    limit: int,
    sort: Sort = Sort.OLDEST,
    votes: bool = False,
    closed: bool = False,
) -> CachedBody:
    """The JSON page of a thread (and its gzip form): cached per (thread, version, cursor,
    limit, sort, votes, closed)."""
    key = (thread.id, thread.version, cursor, limit, sort, votes, closed)
    cached = page_cache().get(key)
    if cached is None:
        comments, next_cursor = load_page(thread, cursor, limit, sort, votes)
        body = {
            "thread": {**thread_json(thread), "closed": closed, "votes": votes},
            "comments": comments,
            "next_cursor": next_cursor,
        }
        cached = CachedBody.of(to_json(body))
        page_cache().put(key, cached)
    return cached


def load_page(
    thread: Thread,
    cursor: str | None,
    limit: int,
    sort: Sort = Sort.OLDEST,
    votes: bool = False,
) -> tuple[list[dict[str, Any]], str | None]:
    """`limit` top-level comments after `cursor` in `sort` order, with all their replies, as
    public trees, and the cursor of the next page (None on the last)."""
    roots = _ordered(
        select(Comment.id).where(
            Comment.thread_id == thread.id,
            Comment.parent_id.is_(None),
            Comment.status.in_(PUBLIC),
        ),
        sort,
    ).limit(limit + 1)
    if cursor:
        roots = roots.where(_after(decode_cursor(cursor, sort), sort))
    # One query: the page's top-level comments and every reply below them.
    rows = db.session.scalars(
        select(Comment)
        .where(Comment.root_id.in_(roots), Comment.status.in_(PUBLIC))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    tops = sorted((c for c in rows if c.parent_id is None), key=_sort_key(sort))
    more = len(tops) > limit
    tops = tops[:limit]
    next_cursor = encode_cursor(tops[-1], sort) if more and tops else None
    keep = {c.id for c in tops}
    tree = _build_tree([c for c in rows if c.root_id in keep], [c.id for c in tops], votes)
    return tree, next_cursor


def _ordered(query: Select[Any], sort: Sort) -> Select[Any]:
    if sort == Sort.NEWEST:
        return query.order_by(Comment.created_at.desc(), Comment.id.desc())
    if sort == Sort.TOP:
        return query.order_by(Comment.score.desc(), Comment.created_at, Comment.id)
    return query.order_by(Comment.created_at, Comment.id)


def _sort_key(sort: Sort) -> Any:
    if sort == Sort.NEWEST:
        return lambda c: (-c.created_at.timestamp(), -c.id)
    if sort == Sort.TOP:
        return lambda c: (-c.score, c.created_at, c.id)
    return lambda c: (c.created_at, c.id)


def _after(position: tuple[int | None, datetime, int], sort: Sort) -> Any:
    """The comments that come after `position` in `sort` order (a cursor's condition)."""
    score, at, last = position
    later = or_(Comment.created_at > at, and_(Comment.created_at == at, Comment.id > last))
    if sort == Sort.NEWEST:
        return or_(Comment.created_at < at, and_(Comment.created_at == at, Comment.id < last))
    if sort == Sort.TOP:
        return or_(Comment.score < score, and_(Comment.score == score, later))
    return later


def _build_tree(
    rows: list[Comment], root_order: list[int] | None = None, votes: bool = False
) -> list[dict[str, Any]]:
    """Public trees of `rows` (roots in `root_order` when given), built without recursion,
    and never deeper than MAX_DEPTH (older or imported chains are shown flattened there)."""
    children = _shown_children(rows, int(current_app.config["MAX_DEPTH"]))
    built: dict[int, dict[str, Any] | None] = {}
    # Post-order with an explicit stack: a comment is built once all its replies are.
    stack: list[tuple[Comment, bool]] = [(c, False) for c in children.get(None, [])]
    while stack:
        comment, replies_done = stack.pop()
        kids = children.get(comment.id, [])
        if not replies_done:
            stack.append((comment, True))
            stack.extend((kid, False) for kid in kids if kid.id not in built)
            continue
        replies = [node for kid in kids if (node := built.get(kid.id))]
        # A deleted comment with nothing under it disappears.
        keep = comment.status != DELETED or replies
        built[comment.id] = comment_json(comment, replies, votes) if keep else None
    order = root_order if root_order is not None else [c.id for c in children.get(None, [])]
    return [node for root_id in order if (node := built.get(root_id))]


def _shown_children(rows: list[Comment], limit: int) -> dict[int | None, list[Comment]]:
    """Replies under each comment as shown: a reply deeper than `limit` goes under its
    ancestor at depth `limit` - 1, beside the comment it answers."""
    under: dict[int | None, list[Comment]] = {}
    for comment in rows:
        under.setdefault(comment.parent_id, []).append(comment)
    shown: dict[int | None, list[Comment]] = {None: under.get(None, [])}
    # (comment, its depth as shown, the comment it is shown under)
    queue: list[tuple[Comment, int, int | None]] = [(c, 0, None) for c in shown[None]]
    while queue:
        comment, depth, holder = queue.pop()
        for reply in under.get(comment.id, []):
            if depth < limit:
                shown.setdefault(comment.id, []).append(reply)
                queue.append((reply, depth + 1, comment.id))
            else:
                shown.setdefault(holder, []).append(reply)
                queue.append((reply, depth, holder))
    for replies in shown.values():
        replies.sort(key=lambda c: (c.created_at, c.id))
    return shown


def flatten(tree: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """A tree as ("open", comment) / ("close", comment) steps, for templates that must not
    recurse: each comment opens; one with replies closes after its last reply."""
    steps: list[tuple[str, dict[str, Any]]] = []
    stack: list[tuple[str, dict[str, Any]]] = [("open", node) for node in reversed(tree)]
    while stack:
        kind, node = stack.pop()
        steps.append((kind, node))
        if kind == "open" and node["replies"]:
            stack.append(("close", node))
            stack.extend(("open", reply) for reply in reversed(node["replies"]))
    return steps


def encode_cursor(comment: Comment, sort: Sort = Sort.OLDEST) -> str:
    """The cursor of the page that follows `comment` (a top-level one) in `sort` order."""
    score = comment.score if sort == Sort.TOP else None
    return cursor_after(comment.created_at, comment.id, score)


def cursor_after(created_at: datetime, comment_id: int, score: int | None = None) -> str:
    raw = f"{created_at.isoformat()}|{comment_id}"
    if score is not None:
        raw = f"{score}|{raw}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


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
            Comment.status.in_(PUBLIC),
            or_(
                Comment.created_at < root.created_at,
                and_(Comment.created_at == root.created_at, Comment.id < root.id),
            ),
        )
    )
    return cursor_after(root.created_at, root.id - 1) if (before or 0) >= limit else None


def decode_cursor(cursor: str, sort: Sort = Sort.OLDEST) -> tuple[int | None, datetime, int]:
    """(score for `top`, else None; created_at; id) of the comment a page starts after."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = raw.split("|")
        score = int(parts.pop(0)) if sort == Sort.TOP else None
        at, last_id = parts
        moment, after = datetime.fromisoformat(at), int(last_id)
    except (ValueError, UnicodeError, IndexError) as exc:
        raise ParleyError("The cursor is not valid.") from exc
    if not 0 <= after <= MAX_ID or moment.tzinfo is not None or abs(score or 0) > MAX_ID:
        raise ParleyError("The cursor is not valid.")
    return score, moment, after


def counts(site: Site, keys: list[str]) -> dict[str, int]:
    """Published comments per thread key, from the maintained counters: one statement."""
    rows = db.session.connection().execute(_COUNTS, {"site_id": site.id, "keys": keys})
    found: dict[str, int] = {key: count for key, count in rows}
    return {key: found.get(key, 0) for key in keys}


def counts_answer(site: Site, keys: list[str]) -> CachedBody:
    """The JSON of `counts()`, cached per (site, its counts version, keys): every count
    that moves bumps the site's version (refresh_thread), so a listing page asked for
    again costs no statement beyond the site's row."""
    key = ("counts", site.id, site.counts_version, tuple(keys))
    cached = page_cache().get(key)
    if cached is None:
        cached = CachedBody.of(to_json(counts(site, keys)))
        page_cache().put(key, cached)
    return cached


_COUNTS = select(_THREADS.c.key, _THREADS.c.comment_count).where(
    _THREADS.c.site_id == bindparam("site_id"),
    _THREADS.c.key.in_(bindparam("keys", expanding=True)),
)


def check_thread_key(key: str | None, name: str = "thread") -> str:
    """A thread key as a request names it, or a 400 that says what is wrong."""
    if not key:
        raise ParleyError(f"The query parameter {name!r} is required.")
    if len(key) > THREAD_KEY_MAX:
        raise ParleyError(f"The query parameter {name!r} is too long.")
    if unsafe_in_line(key):
        raise ParleyError(f"The query parameter {name!r} contains characters that are not allowed.")
    return key


def page_limit(raw: str | None = None) -> int:
    """Top-level comments per page: the configured size, or a valid `limit` parameter."""
    default, most = current_app.config["PAGE_SIZE"], current_app.config["MAX_PAGE_SIZE"]
    if raw is None or raw == "":
        return int(default)
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise ParleyError(f"limit must be a whole number from 1 to {most}.")
    return int(raw)


def sort_arg(raw: str | None) -> Sort:
    """The `sort` query parameter, or a 400 that lists the choices."""
    if not raw:
        return Sort.OLDEST
    try:
        return Sort(raw)
    except ValueError as exc:
        raise ParleyError("sort must be oldest, newest or top.") from exc


def empty_page(site: Site, key: str) -> dict[str, Any]:
    """The page of a thread nobody has commented on yet."""
    thread = {"key": key, "title": "", "url": "", "count": 0, "closed": False, "votes": site.votes}
    return {"thread": thread, "comments": [], "next_cursor": None}


def recent_comments(site: Site, limit: int) -> list[tuple[Comment, Thread]]:
    """The site's newest published comments, each with its thread (the site-wide feed and
    the "recent comments" block)."""
    rows = db.session.execute(
        select(Comment, Thread)
        .join(Thread, Thread.id == Comment.thread_id)
        .where(Thread.site_id == site.id, Comment.status == APPROVED)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(min(max(limit, 1), RECENT_MAX))
    ).all()
    return [(comment, thread) for comment, thread in rows]


def recent_limit(raw: str | None, default: int = 10) -> int:
    """The `limit` of a recent-comments request: 1 to RECENT_MAX, or a 400."""
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= RECENT_MAX:
        raise ParleyError(f"limit must be a whole number from 1 to {RECENT_MAX}.")
    return int(raw)
