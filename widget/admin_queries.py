"""What the moderation pages read: comment searches, lists with counts and pages, the
dashboard's figures. Read-only; every function takes the admin's site scope (`auth.site_scope`:
a list of site ids, or None for every site) and shows nothing outside it."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from math import ceil
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, true
from sqlalchemy.orm import aliased

from .errors import ParleyError
from .extensions import db
from .limits import MAX_ID
from .models import (
    COMMENT_STATES,
    FAILED,
    PENDING,
    SPAM,
    Block,
    Comment,
    Delivery,
    ModerationEvent,
    Site,
    Subscription,
    Thread,
    Webhook,
    utcnow,
)
from .vault import truncate_ip

T = TypeVar("T")
Scope = Sequence[int] | None

#: Rows per page on every list.
PAGE_SIZE = 50
#: The queue's views: each state (the queue itself first), and every comment at once.
VIEWS = (PENDING, *(state for state in COMMENT_STATES if state != PENDING), "all")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, with what the pager needs."""

    items: list[T]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_row(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_row(self) -> int:
        return (self.number - 1) * self.size + len(self.items)


def page_number(raw: str | None) -> int:
    """The `page` query argument: anything odd is page 1; at most page 10,000."""
    return min(int(raw), 10_000) if raw and raw.isascii() and raw.isdigit() and raw != "0" else 1


def _paged(query: Select[*tuple[Any, ...]], number: int, size: int = PAGE_SIZE) -> Page[Any]:
    total = int(
        db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    # Past the end (its last rows were just moderated away, or an old link): the last page.
    number = min(number, max(1, ceil(total / size)))
    rows = db.session.execute(query.limit(size).offset((number - 1) * size)).all()
    return Page(list(rows), total, number, size)


def _site_in(scope: Scope, column: Any = Site.id) -> ColumnElement[bool]:
    return true() if scope is None else column.in_(list(scope))


# --- sites, and one thing by id within the scope -----------------------------------------


def sites_in_scope(scope: Scope) -> list[Site]:
    return list(db.session.scalars(select(Site).where(_site_in(scope)).order_by(Site.name)))


def site_named(name: str, scope: Scope) -> Site | None:
    return db.session.scalar(select(Site).where(Site.name == name, _site_in(scope)))


def comment_in_scope(comment_id: int, scope: Scope) -> tuple[Comment, Thread, Site] | None:
    """A comment with its thread and site, or None when it is not there or not the admin's."""
    if not 0 < comment_id <= MAX_ID:
        return None
    row = db.session.execute(
        _comments().where(Comment.id == comment_id, _site_in(scope))
    ).one_or_none()
    return (row[0], row[1], row[2]) if row else None


def thread_in_scope(thread_id: int, scope: Scope) -> Thread | None:
    if not 0 < thread_id <= MAX_ID:
        return None
    return db.session.scalar(
        select(Thread).where(Thread.id == thread_id, _site_in(scope, Thread.site_id))
    )


def block_in_scope(block_id: int, scope: Scope) -> Block | None:
    if not 0 < block_id <= MAX_ID:
        return None
    return db.session.scalar(
        select(Block).where(Block.id == block_id, _site_in(scope, Block.site_id))
    )


def ids_in_scope(ids: Sequence[int], scope: Scope) -> list[int]:
    """The comment ids of a selection that the admin may act on."""
    wanted = [i for i in ids if 0 < i <= MAX_ID]
    if scope is None or not wanted:
        return wanted
    return list(
        db.session.scalars(
            select(Comment.id)
            .join(Thread, Thread.id == Comment.thread_id)
            .where(Comment.id.in_(wanted), Thread.site_id.in_(list(scope)))
        )
    )


# --- the queue and its search ----------------------------------------------------------


@dataclass(frozen=True)
class CommentSearch:
    """What the queue shows: a status (or "all") and any of the filters."""

    status: str = "pending"
    site: str = ""
    #: A thread's key, exactly.
    thread: str = ""
    #: Words in the comment's text (its Markdown source).
    text: str = ""
    #: Part of the author's name.
    author: str = ""
    #: The keyed look-up hash of an address typed in full (the address itself never travels
    #: in a URL or reaches a log).
    address_hash: str = ""
    #: An IP address or CIDR range.
    ip: str = ""

    @property
    def searching(self) -> bool:
        return any((self.text, self.author, self.address_hash, self.ip, self.thread, self.site))


def ip_range_clause(raw: str) -> ColumnElement[bool]:
    """Comments from an IP address or range. Comments keep a truncated address (a /24 of
    IPv4, a /48 of IPv6), so a narrower range matches its whole /24 or /48."""
    try:
        network = ipaddress.ip_network(raw.strip(), strict=False)
    except ValueError as exc:
        raise ParleyError("Type an IP address or a range such as 203.0.113.0/24.") from exc
    kept = 24 if network.version == 4 else 48
    if network.prefixlen >= kept:
        return Comment.ip == truncate_ip(str(network.network_address))
    if network.prefixlen >= kept - 8:  # at most 256 stored values
        stored = [str(n.network_address) for n in network.subnets(new_prefix=kept)]
        return Comment.ip.in_(stored)
    if network.version == 4 and network.prefixlen >= 8:  # at most 256 "a.b." prefixes
        prefixes = [
            str(n.network_address).rsplit(".", 2)[0] + "." for n in network.subnets(new_prefix=16)
        ]
        return or_(*(Comment.ip.startswith(prefix) for prefix in prefixes))
    raise ParleyError("That range is too wide: use /8 or narrower (/40 or narrower for IPv6).")


def check_ip_range(raw: str) -> None:
    """Raise ParleyError with a message when `raw` is not a range the search can use."""
    ip_range_clause(raw)


def _comments() -> Select[Comment, Thread, Site]:
    return (
        select(Comment, Thread, Site)
        .join(Thread, Thread.id == Comment.thread_id)
        .join(Site, Site.id == Thread.site_id)
    )


def _filters(search: CommentSearch, scope: Scope) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [_site_in(scope)]
    if search.site:
        found.append(Site.name == search.site)
    if search.thread:
        found.append(Thread.key == search.thread)
    if search.text:
        found.append(func.lower(Comment.body).contains(search.text.lower(), autoescape=True))
    if search.author:
        found.append(func.lower(Comment.author).contains(search.author.lower(), autoescape=True))
    if search.address_hash:
        found.append(Comment.email_hash == search.address_hash)
    if search.ip:
        found.append(ip_range_clause(search.ip))
    return found


def search_comments(search: CommentSearch, scope: Scope, number: int) -> Page[Any]:
    """A page of (comment, thread, site), newest first."""
    query = _comments().where(*_filters(search, scope))
    if search.status != "all":
        query = query.where(Comment.status == search.status)
    return _paged(query.order_by(Comment.created_at.desc(), Comment.id.desc()), number)


def status_counts(search: CommentSearch, scope: Scope) -> dict[str, int]:
    """How many comments each view holds under the same filters ("all" included)."""
    rows = db.session.execute(
        select(Comment.status, func.count(Comment.id))
        .join(Thread, Thread.id == Comment.thread_id)
        .join(Site, Site.id == Thread.site_id)
        .where(*_filters(search, scope))
        .group_by(Comment.status)
    ).all()
    counts = {state: 0 for state in VIEWS}
    for status, count in rows:
        counts[status] = int(count)
        counts["all"] += int(count)
    return counts


def comment_history(comment_id: int) -> list[ModerationEvent]:
    """Every decision on one comment, and the moderators' replies to it, oldest first."""
    replies = select(Comment.id).where(Comment.parent_id == comment_id)
    return list(
        db.session.scalars(
            select(ModerationEvent)
            .where(
                or_(
                    ModerationEvent.comment_id == comment_id,
                    and_(
                        ModerationEvent.action == "reply", ModerationEvent.comment_id.in_(replies)
                    ),
                )
            )
            .order_by(ModerationEvent.id)
        )
    )


# --- threads, blocks, the log ------------------------------------------------------------


@dataclass(frozen=True)
class ThreadLine:
    """One line of the threads page."""

    thread: Thread
    site_name: str
    subscribers: int


def threads_page(search: str, everything: bool, scope: Scope, number: int) -> Page[ThreadLine]:
    """Threads newest first. By default only live ones: with a public comment or a confirmed
    subscriber (a stranger's subscription requests or spam alone do not push real threads
    away)."""
    confirmed = (
        select(func.count(Subscription.id))
        .where(
            Subscription.thread_id == Thread.id,
            Subscription.active.is_(True),
            Subscription.confirmed_at.is_not(None),
        )
        .scalar_subquery()
    )
    query = (
        select(Thread, Site.name, confirmed)
        .join(Site, Site.id == Thread.site_id)
        .where(_site_in(scope))
    )
    if not everything:
        query = query.where(or_(Thread.comment_count > 0, confirmed > 0))
    if search:
        wanted = search.lower()
        query = query.where(
            or_(
                func.lower(Thread.key).contains(wanted, autoescape=True),
                func.lower(Thread.title).contains(wanted, autoescape=True),
            )
        )
    page = _paged(query.order_by(Thread.created_at.desc(), Thread.id.desc()), number)
    lines = [ThreadLine(thread, name, count or 0) for thread, name, count in page.items]
    return Page(lines, page.total, page.number)


def blocks_page(scope: Scope, site: str, number: int) -> Page[Any]:
    """(block, site name) newest first."""
    query = select(Block, Site.name).join(Site, Site.id == Block.site_id).where(_site_in(scope))
    if site:
        query = query.where(Site.name == site)
    return _paged(query.order_by(Block.id.desc()), number)


@dataclass(frozen=True)
class EventFilter:
    site: str = ""
    thread: str = ""
    comment_id: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.site or self.thread or self.comment_id)


def events_page(scope: Scope, wanted: EventFilter, number: int) -> Page[Any]:
    """(event, comment or None, thread or None, site name or None), newest first. An event of
    no site (a reader's data erased) is seen only by an admin of every site."""
    query = (
        select(ModerationEvent, Comment, Thread, Site.name)
        .outerjoin(Comment, Comment.id == ModerationEvent.comment_id)
        .outerjoin(Thread, Thread.id == Comment.thread_id)
        .outerjoin(Site, Site.id == ModerationEvent.site_id)
    )
    if scope is not None:
        query = query.where(ModerationEvent.site_id.in_(list(scope)))
    if wanted.site:
        query = query.where(Site.name == wanted.site)
    if wanted.thread:
        # Its comments' decisions, and the thread's own (closed, reopened: the key in detail).
        query = query.where(
            or_(
                Thread.key == wanted.thread,
                and_(
                    ModerationEvent.comment_id.is_(None),
                    ModerationEvent.action.in_(("close-thread", "reopen-thread")),
                    ModerationEvent.detail == wanted.thread,
                ),
            )
        )
    if wanted.comment_id is not None:
        query = query.where(ModerationEvent.comment_id == wanted.comment_id)
    return _paged(query.order_by(ModerationEvent.id.desc()), number)


# --- the dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    new: int
    #: Not published at once: it waited for review or went to spam.
    held: int
    #: In the spam folder now (by the checks or a moderator).
    spam: int


def days_of_comments(scope: Scope, days: int = 30, now: datetime | None = None) -> list[Day]:
    """New, held and spam comments per day (UTC) over the last `days` days, newest first;
    days without comments included."""
    today = (now or utcnow()).date()
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time())
    day = func.date(Comment.created_at)
    rows = db.session.execute(
        select(
            day,
            func.count(Comment.id),
            func.sum(case((Comment.reasons != "", 1), else_=0)),
            func.sum(case((Comment.status == SPAM, 1), else_=0)),
        )
        .join(Thread, Thread.id == Comment.thread_id)
        .where(Comment.created_at >= since, _site_in(scope, Thread.site_id))
        .group_by(day)
    ).all()
    # SQLite answers date() with text, PostgreSQL with a date.
    by_day = {str(found): (int(n), int(held or 0), int(sp or 0)) for found, n, held, sp in rows}
    result = []
    for back in range(days):
        when = today - timedelta(days=back)
        new, held, spam = by_day.get(when.isoformat(), (0, 0, 0))
        result.append(Day(when, new, held, spam))
    return result


def busiest_threads(
    scope: Scope, days: int = 30, limit: int = 10, now: datetime | None = None
) -> list[tuple[Thread, str, int]]:
    """(thread, site name, new comments) with the most new comments over the last days."""
    since = (now or utcnow()) - timedelta(days=days)
    count = func.count(Comment.id).label("n")
    rows = db.session.execute(
        select(Thread, Site.name, count)
        .join(Comment, Comment.thread_id == Thread.id)
        .join(Site, Site.id == Thread.site_id)
        .where(Comment.created_at >= since, _site_in(scope))
        .group_by(Thread.id, Site.name)
        .order_by(count.desc(), Thread.id.desc())
        .limit(limit)
    ).all()
    return [(thread, name, int(n)) for thread, name, n in rows]


def _delivery_site() -> tuple[Select[Any], ColumnElement[Any]]:
    """Deliveries with the site each one is for: its own, its webhook's, its subscription's
    thread's, or its comment's thread's."""
    by_subscription = aliased(Thread)
    by_comment = aliased(Thread)
    site_id = func.coalesce(
        Delivery.site_id, Webhook.site_id, by_subscription.site_id, by_comment.site_id
    )
    query = (
        select(Delivery)
        .outerjoin(Webhook, Webhook.id == Delivery.webhook_id)
        .outerjoin(Subscription, Subscription.id == Delivery.subscription_id)
        .outerjoin(by_subscription, by_subscription.id == Subscription.thread_id)
        .outerjoin(Comment, Comment.id == Delivery.comment_id)
        .outerjoin(by_comment, by_comment.id == Comment.thread_id)
    )
    return query, site_id


def _deliveries_in(scope: Scope) -> tuple[Select[Any], ColumnElement[bool]]:
    query, site_id = _delivery_site()
    # A delivery of no site (an address confirmation) is seen by an admin of every site.
    return query, true() if scope is None else site_id.in_(list(scope))


def delivery_counts(scope: Scope) -> dict[str, dict[str, int]]:
    """{kind: {status: count}} of the outbox: mail and webhooks."""
    query, in_scope = _deliveries_in(scope)
    rows = db.session.execute(
        query.with_only_columns(Delivery.kind, Delivery.status, func.count(Delivery.id))
        .where(in_scope)
        .group_by(Delivery.kind, Delivery.status)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for kind, status, n in rows:
        counts.setdefault(kind, {})[status] = int(n)
    return counts


def recent_failures(scope: Scope, limit: int = 10) -> list[Delivery]:
    """The last deliveries that failed for good, newest first."""
    query, in_scope = _deliveries_in(scope)
    return list(
        db.session.scalars(
            query.where(in_scope, Delivery.status == FAILED)
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    )
