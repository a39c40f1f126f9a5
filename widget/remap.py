"""Moving and merging threads: an article changed its URL, or one article has two keys.

`move_thread`, `merge_threads` and `remap_threads` each own their transaction (one commit at
the end, nothing stored if anything is refused); the helpers never commit.

What a merge keeps:
- every comment, with its replies, votes and pending mail (comments keep their ids);
- one subscription per address on the merged thread: the one that still mails (active and
  confirmed) wins, else the newest request; the other's queued mail moves to it, so no
  mail is lost and none is sent twice (deliveries are unique per subscription and comment);
- the count and version of the merged thread, recounted (pages and ETags change).
A comment imported twice (the same source id under both keys) is kept once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update

from .errors import Conflict, NotFound, ParleyError
from .extensions import db
from .limits import TITLE_MAX
from .models import (
    CONFIRM,
    DROPPED,
    QUEUED,
    Comment,
    Delivery,
    ModerationEvent,
    Site,
    Subscription,
    SubscriptionAlias,
    Thread,
    utcnow,
)
from .text import unsafe_in_line
from .threads import check_thread_key, lock_comments_of_threads, lock_threads, refresh_thread

#: Lines a remap file may hold (a typo must not become a million moves).
REMAP_LINES_MAX = 100_000


@dataclass
class RemapReport:
    """What a move, merge or remap did (or, in a dry run, would do)."""

    moved: list[tuple[str, str]] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)
    comments: int = 0
    subscriptions: int = 0
    duplicate_subscriptions: int = 0
    duplicate_comments: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        head = "Would change (dry run, nothing stored)" if self.dry_run else "Changed"
        lines = [f"moved\t{old}\t{new}" for old, new in self.moved]
        lines += [f"merged\t{old}\t{new}" for old, new in self.merged]
        lines.append(
            f"{head}: {len(self.moved)} threads moved, {len(self.merged)} merged; "
            f"{self.comments} comments and {self.subscriptions} subscriptions moved, "
            f"{self.duplicate_subscriptions} duplicate subscriptions joined, "
            f"{self.duplicate_comments} comments imported twice kept once."
        )
        return "\n".join(lines)


# --- public services (each commits once) ------------------------------------------------


def move_thread(site_name: str, old_key: str, new_key: str, actor: str = "cli") -> RemapReport:
    """Give a thread a new key (its page moved); refused when the new key has a thread
    (merge them instead). Commits."""
    site = _site(site_name)
    thread = _thread(site, old_key)
    new_key = check_thread_key(new_key, "new key")
    if _find(site, new_key) is not None:
        raise Conflict(f"A thread {new_key!r} exists: merge them (threads merge).")
    report = RemapReport()
    _move(site, thread, new_key, actor, report)
    db.session.commit()
    return report


def retitle_thread(thread_id: int, title: str, actor: str) -> Thread:
    """The owner names a thread (its first writer or page load named it wrong): the title
    mail, feeds and the recent block show. Logged. Commits."""
    title = " ".join(title.split())
    if not title or len(title) > TITLE_MAX or unsafe_in_line(title):
        raise ParleyError(f"A title is one line of 1 to {TITLE_MAX} characters.")
    thread = db.session.get(Thread, thread_id)
    if thread is None:
        raise NotFound("No such thread.")
    before = thread.title
    thread.title, thread.version, thread.named_by_owner = title, thread.version + 1, True
    db.session.add(
        ModerationEvent(
            site_id=thread.site_id,
            actor=actor,
            action="retitle-thread",
            detail=f"{thread.key}: {before} -> {title}"[:500],
        )
    )
    db.session.commit()
    return thread


def merge_threads(
    site_name: str, keys: Iterable[str], into: str, actor: str = "cli"
) -> RemapReport:
    """Merge the threads of `keys` into the thread `into` (created by moving the first of
    them when it does not exist). Commits."""
    site = _site(site_name)
    into = check_thread_key(into, "into")
    sources = [_thread(site, key) for key in dict.fromkeys(keys) if key != into]
    if not sources:
        raise ParleyError("Name at least one thread to merge other than the target.")
    report = RemapReport()
    _merge_all(site, sources, into, actor, report)
    db.session.commit()
    return report


def remap_threads(
    site_name: str, rules_text: Iterable[str], actor: str = "cli", dry_run: bool = False
) -> RemapReport:
    """Apply a remap file: lines of `OLD NEW`, or `regex PATTERN REPLACEMENT` (Python `re`,
    `\\1` in the replacement), applied in order; `#` starts a comment. A key whose new key
    has a thread is merged into it. All of it in one transaction, or nothing. Commits (a
    dry run rolls back)."""
    site = _site(site_name)
    rules = parse_rules(rules_text)
    report = RemapReport(dry_run=dry_run)
    try:
        for rule in rules:
            for old, new in _pairs(site, rule):
                thread = _find(site, old)
                if thread is None or old == new:
                    continue
                _merge_all(site, [thread], check_thread_key(new, "new key"), actor, report)
    except Exception:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return report


# --- the rules of a remap file ------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    old: str = ""
    new: str = ""
    pattern: re.Pattern[str] | None = None


def parse_rules(lines: Iterable[str]) -> list[Rule]:
    """The rules of a remap file, or a ParleyError naming the first bad line."""
    rules: list[Rule] = []
    for number, raw in enumerate(lines, start=1):
        if number > REMAP_LINES_MAX:
            raise ParleyError(f"A remap file holds at most {REMAP_LINES_MAX} lines.")
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split()
        if parts[0] == "regex" and len(parts) == 3:
            try:
                rules.append(Rule(pattern=re.compile(parts[1]), new=parts[2]))
            except re.error as exc:
                raise ParleyError(f"Line {number}: not a regular expression ({exc}).") from exc
        elif len(parts) == 2 and parts[0] != "regex":
            rules.append(Rule(old=parts[0], new=parts[1]))
        else:
            raise ParleyError(
                f"Line {number}: write `OLD NEW` or `regex PATTERN REPLACEMENT` "
                "(keys hold no spaces)."
            )
    return rules


def _pairs(site: Site, rule: Rule) -> list[tuple[str, str]]:
    if rule.pattern is None:
        return [(rule.old, rule.new)]
    keys = db.session.scalars(
        select(Thread.key).where(Thread.site_id == site.id).order_by(Thread.id)
    ).all()
    pairs = []
    for key in keys:
        if rule.pattern.search(key):
            try:
                pairs.append((key, rule.pattern.sub(rule.new, key, count=1)))
            except (re.error, IndexError) as exc:
                raise ParleyError(f"The replacement {rule.new!r} is not valid ({exc}).") from exc
    return pairs


# --- helpers (never commit) -----------------------------------------------------------------


def _site(name: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.name == name))
    if site is None:
        raise NotFound(f"No site named {name!r}.")
    return site


def _find(site: Site, key: str) -> Thread | None:
    return db.session.scalar(select(Thread).where(Thread.site_id == site.id, Thread.key == key))


def _thread(site: Site, key: str) -> Thread:
    thread = _find(site, key)
    if thread is None:
        raise NotFound(f"No thread {key!r} on site {site.name!r}.")
    return thread


def _merge_all(
    site: Site, sources: list[Thread], into: str, actor: str, report: RemapReport
) -> None:
    target = _find(site, into)
    _hold_for_merge([*sources, *([target] if target else [])])
    if target is None:
        target = sources.pop(0)
        _move(site, target, into, actor, report)
    for source in sources:
        _merge(source, target, actor, report)
    refresh_thread(target.id)  # recount, new version: cached pages and ETags change
    db.session.expire_all()


def _hold_for_merge(threads: list[Thread]) -> None:
    """Lock the threads' comments, then the threads (locks.py's order: a moderator deciding
    on one of those comments meanwhile is waited for, not deadlocked with). The threads'
    locks are exclusive: a comment or subscription on its way into a thread that is about to
    go waits for the merge, then fails, instead of going with the thread (its rows
    cascade). A remap file's rules each take their own. Never commits."""
    ids = [thread.id for thread in threads]
    lock_comments_of_threads(ids)
    lock_threads(ids, exclusive=True)


def _move(site: Site, thread: Thread, new_key: str, actor: str, report: RemapReport) -> None:
    old_key = thread.key
    old_url = thread.url
    thread.key = new_key
    # A URL that was the old key on the site's origin follows the page.
    if old_url.endswith(old_key) and new_key.startswith("/") and old_key.startswith("/"):
        thread.url = old_url[: len(old_url) - len(old_key)] + new_key
    thread.version += 1
    db.session.add(
        ModerationEvent(
            site_id=site.id, actor=actor, action="move-thread", detail=f"{old_key} -> {new_key}"
        )
    )
    db.session.flush()
    report.moved.append((old_key, new_key))


def _merge(source: Thread, target: Thread, actor: str, report: RemapReport) -> None:
    report.duplicate_comments += _drop_twice_imported(source.id, target.id)
    report.comments += (
        db.session.execute(
            update(Comment)
            .where(Comment.thread_id == source.id)
            .values(thread_id=target.id)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        or 0
    )
    for sub in db.session.scalars(
        select(Subscription).where(Subscription.thread_id == source.id).order_by(Subscription.id)
    ).all():
        _move_subscription(sub, target.id, report)
    if not target.title and source.title:
        target.title, target.url = source.title, target.url or source.url
    db.session.add(
        ModerationEvent(
            site_id=target.site_id,
            actor=actor,
            action="merge-thread",
            detail=f"{source.key} -> {target.key}",
        )
    )
    report.merged.append((source.key, target.key))
    db.session.delete(source)
    db.session.flush()


def _drop_twice_imported(source_id: int, target_id: int) -> int:
    """Comments of `source` imported from the same source comment as one of `target`'s:
    their replies move under the target's copy, then they go."""
    target_copy = db.aliased(Comment)
    pairs = db.session.execute(
        select(Comment.id, Comment.root_id, target_copy.id, target_copy.root_id)
        .join(target_copy, target_copy.import_key == Comment.import_key)
        .where(
            Comment.thread_id == source_id,
            Comment.import_key.is_not(None),
            target_copy.thread_id == target_id,
        )
    ).all()
    for twin, twin_root, kept, kept_root in pairs:
        db.session.execute(
            update(Comment)
            .where(Comment.parent_id == twin)
            .values(parent_id=kept)
            .execution_options(synchronize_session=False)
        )
        if twin_root == twin:  # a top-level copy: its whole tree now hangs from the kept one
            db.session.execute(
                update(Comment)
                .where(Comment.root_id == twin)
                .values(root_id=kept_root)
                .execution_options(synchronize_session=False)
            )
    if pairs:
        db.session.execute(
            delete(Comment)
            .where(Comment.id.in_([twin for twin, *_ in pairs]))
            .execution_options(synchronize_session=False)
        )
    return len(pairs)


#: When two subscriptions of one reader merge, the one that tells them more wins.
MODE_BREADTH = {"all": 2, "digest": 1, "replies": 0}


def _rank(sub: Subscription) -> tuple[int, int, int]:
    mails = sub.active and sub.confirmed_at is not None
    return (2 if mails else 1 if sub.active else 0, MODE_BREADTH.get(sub.mode, 0), sub.id)


def _move_subscription(sub: Subscription, target_id: int, report: RemapReport) -> None:
    other = db.session.scalar(
        select(Subscription).where(
            Subscription.thread_id == target_id, Subscription.address_id == sub.address_id
        )
    )
    report.subscriptions += 1
    if other is None:
        sub.thread_id = target_id
        db.session.flush()
        return
    report.duplicate_subscriptions += 1
    keep, drop = (sub, other) if _rank(sub) > _rank(other) else (other, sub)
    _hand_over_deliveries(drop.id, keep.id)
    # Mail already sent carries the dropped id's links: they now act on the kept one.
    db.session.execute(
        update(SubscriptionAlias)
        .where(SubscriptionAlias.subscription_id == drop.id)
        .values(subscription_id=keep.id)
    )
    db.session.add(
        SubscriptionAlias(
            old_id=drop.id,
            subscription_id=keep.id,
            old_created_at=drop.created_at,
            created_at=utcnow(),
        )
    )
    db.session.delete(drop)
    db.session.flush()
    keep.thread_id = target_id
    db.session.flush()


def _hand_over_deliveries(from_id: int, to_id: int) -> None:
    """Deliveries of one subscription become another's: one per comment (when both have one,
    the one sent or claimed by a worker stays, else the kept subscription's), and at most
    one queued confirmation."""
    mine, theirs = db.aliased(Delivery), db.aliased(Delivery)
    both = db.session.execute(
        select(mine.id, mine.status, mine.lease_until, theirs.id)
        .join(theirs, theirs.comment_id == mine.comment_id)
        .where(mine.subscription_id == to_id, theirs.subscription_id == from_id)
    ).all()
    started = _started(from_id) if both else set()
    gone = []
    for kept_id, status, lease, other_id in both:
        idle = status == QUEUED and lease is None
        gone.append(kept_id if idle and other_id in started else other_id)
    if gone:
        db.session.execute(
            delete(Delivery)
            .where(Delivery.id.in_(gone))
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == from_id)
        .values(subscription_id=to_id)
        .execution_options(synchronize_session=False)
    )
    confirmations = db.session.scalars(
        select(Delivery.id)
        .where(
            Delivery.subscription_id == to_id,
            Delivery.kind == CONFIRM,
            Delivery.status == QUEUED,
        )
        .order_by(Delivery.id)
    ).all()
    if len(confirmations) > 1:  # the reader is asked once
        db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(confirmations[1:]))
            .values(status=DROPPED)
            .execution_options(synchronize_session=False)
        )


def _started(subscription_id: int) -> set[int]:
    """Deliveries of a subscription that were sent, failed or are claimed by a worker."""
    return set(
        db.session.scalars(
            select(Delivery.id).where(
                Delivery.subscription_id == subscription_id,
                (Delivery.status != QUEUED) | Delivery.lease_until.is_not(None),
            )
        )
    )
