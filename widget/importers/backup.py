"""The Parley JSON backup: `export FILE` writes it, `import parley FILE` restores it exactly.

It contains readers' addresses (the owner's data): keep it private.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, insert, select, text, update

from ..addresses import AddressRefused, normalize_address
from ..errors import ParleyError
from ..extensions import db
from ..limits import AUTHOR_MAX, MAX_ID, THREAD_KEY_MAX, TITLE_MAX
from ..models import (
    COMMENT_STATES,
    ERASE_POLICIES,
    MAIL_MODES,
    ROLES,
    Address,
    Block,
    Comment,
    ErasePolicy,
    MailMode,
    Site,
    SpamToken,
    Subscription,
    SubscriptionAlias,
    Thread,
)
from ..render import markdown_to_html, sanitize
from ..threads import page_url, refresh_thread
from ..vault import truncate_ip, vault
from .base import BadRow, ImportError_, Report, row_or_skip, set_roots
from .clean import IMPORT_KEY_MAX, as_text, line, web_url

FORMAT, VERSION = "parley-backup", 1
SITE_FIELDS = (
    "name",
    "moderation",
    "notify_owner",
    "max_links",
    "spam_threshold",
    "spam_docs",
    "ham_docs",
    "created_at",
    "disabled_checks",
)
#: Site settings added after version 1 was defined: a backup without them keeps the defaults.
OPTIONAL_SITE_FIELDS = (
    "owner_digest",
    "approval_mail",
    "close_after_days",
    "votes",
    "erase_policy",
)
THREAD_FIELDS = ("id", "key", "title", "url", "closed", "created_at")
COMMENT_FIELDS = (
    "id",
    "parent_id",
    "author",
    "website",
    "body",
    "html",
    "status",
    "reasons",
    "spam_score",
    "ip",
    "created_at",
    "edited_at",
    "import_key",
    "role",
)
ADDRESS_FIELDS = (
    "id",
    "confirmed_at",
    "confirmation_sent_at",
    "suppressed_at",
    "suppression_reason",
    "created_at",
)
SUBSCRIPTION_FIELDS = (
    "id",
    "address_id",
    "active",
    "confirmed_at",
    "created_at",
    "unsubscribed_at",
)
ADDRESS_DATES = ("confirmed_at", "confirmation_sent_at", "suppressed_at", "created_at")
#: Added after version 1 was defined: a backup without them restores the defaults.
OPTIONAL_ADDRESS_FIELDS = ("generation", "confirmations_sent", "paused_until")
OPTIONAL_SUBSCRIPTION_FIELDS = ("mode",)
ALIAS_FIELDS = ("old_id", "old_created_at", "created_at")
#: The largest id a column holds (PostgreSQL's integer).


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _pick(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in fields}


def _dump(handle: IO[str], value: Any) -> None:
    handle.write(json.dumps(value, ensure_ascii=False, sort_keys=True))


def export_to(path: Path, site_name: str | None) -> dict[str, int]:
    """Write every site (or one), its threads, comments and subscriptions, and the addresses."""
    sites = db.session.scalars(select(Site).order_by(Site.id)).all()
    if site_name:
        sites = [s for s in sites if s.name == site_name]
        if not sites:
            raise ParleyError(f"No site named {site_name!r}.")
    counts = {"sites": 0, "threads": 0, "comments": 0, "subscriptions": 0}
    address_ids: set[int] = set()
    # It holds every reader's address: readable by its owner only, as readers export is.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f'{{"format": "{FORMAT}", "version": {VERSION},\n"sites": [\n')
        for i, site in enumerate(sites):
            handle.write(",\n" if i else "")
            _export_site(handle, site, counts, address_ids)
        handle.write('\n],\n"addresses": [\n')
        rows: Any = (
            db.session.scalars(
                select(Address).where(Address.id.in_(address_ids)).order_by(Address.id)
            )
            if address_ids
            else []
        )
        for i, address in enumerate(rows):
            handle.write(",\n" if i else "")
            _dump(
                handle,
                {
                    **_pick(address, ADDRESS_FIELDS + OPTIONAL_ADDRESS_FIELDS),
                    "email": vault().decrypt(address.email_enc),
                },
            )
        handle.write("\n]}\n")
    return counts


def _export_site(
    handle: IO[str], site: Site, counts: dict[str, int], address_ids: set[int]
) -> None:
    counts["sites"] += 1
    head = {
        **_pick(site, SITE_FIELDS + OPTIONAL_SITE_FIELDS),
        "origins": site.origin_list,
        "owner_email": vault().decrypt(site.owner_email_enc) if site.owner_email_enc else None,
        "blocks": [
            {"kind": b.kind, "value": b.value, "created_at": _plain(b.created_at)}
            for b in db.session.scalars(
                select(Block).where(Block.site_id == site.id).order_by(Block.id)
            )
        ],
        "spam_tokens": [
            [t.token, t.spam, t.ham]
            for t in db.session.scalars(
                select(SpamToken).where(SpamToken.site_id == site.id).order_by(SpamToken.token)
            )
        ],
    }
    handle.write(json.dumps(head, ensure_ascii=False, sort_keys=True)[:-1] + ', "threads": [\n')
    threads = db.session.scalars(
        select(Thread).where(Thread.site_id == site.id).order_by(Thread.id)
    )
    for i, thread in enumerate(threads):
        handle.write(",\n" if i else "")
        comments = [
            {
                **_pick(c, COMMENT_FIELDS),
                "email": vault().decrypt(c.email_enc) if c.email_enc else "",
            }
            for c in db.session.scalars(
                select(Comment).where(Comment.thread_id == thread.id).order_by(Comment.id)
            )
        ]
        subs = db.session.scalars(
            select(Subscription)
            .where(Subscription.thread_id == thread.id)
            .order_by(Subscription.id)
        ).all()
        address_ids.update(s.address_id for s in subs)
        _dump(
            handle,
            {
                **_pick(thread, THREAD_FIELDS),
                "comments": comments,
                "subscriptions": _subscriptions_out(thread, subs),
            },
        )
        counts["threads"] += 1
        counts["comments"] += len(comments)
        counts["subscriptions"] += len(subs)
        db.session.expunge_all()
    handle.write("\n]}")


def _subscriptions_out(thread: Thread, subs: Sequence[Subscription]) -> list[dict[str, Any]]:
    """A thread's subscriptions, each with the ids merged into it (`threads merge`): mail
    already sent carries their links, which must go on acting on it after a restore. One
    query for the thread's aliases, not one per subscription."""
    aliases: dict[int, list[dict[str, Any]]] = {}
    for alias in db.session.scalars(
        select(SubscriptionAlias)
        .join(Subscription, Subscription.id == SubscriptionAlias.subscription_id)
        .where(Subscription.thread_id == thread.id)
        .order_by(SubscriptionAlias.id)
    ):
        aliases.setdefault(alias.subscription_id, []).append(_pick(alias, ALIAS_FIELDS))
    return [
        {
            **_pick(s, SUBSCRIPTION_FIELDS + OPTIONAL_SUBSCRIPTION_FIELDS),
            "aliases": aliases.get(s.id, []),
        }
        for s in subs
    ]


def import_from(path: Path, dry_run: bool = False) -> Report:
    """Restore a backup into a database with no comments yet; all of it or nothing (a dry
    run restores it, then rolls back).

    A backup is read like any other import: every row is checked and cleaned as a new
    comment would be, and a bad row is skipped with a reason rather than refusing the file.
    """
    report = Report("parley", dry_run=dry_run)
    if db.session.scalar(select(func.count(Comment.id))) or db.session.scalar(
        select(func.count(Thread.id))
    ):
        raise ImportError_("refused: a backup is restored into an empty database only")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeError, RecursionError) as exc:  # deep nesting: RecursionError
        raise ImportError_(f"not a readable JSON file: {type(exc).__name__}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportError_("refused: not a Parley backup")
    try:
        _restore(data, report)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        raise ImportError_(f"refused: {type(exc).__name__}: {exc}") from exc
    return report


def _restore(data: dict[str, Any], report: Report) -> None:
    # Ids and keys taken so far, as (table, value): a repeated one would fail the insert.
    seen: set[tuple[str, Any]] = set()
    addresses = _accepted(data["addresses"], partial(_address_row, seen=seen), report, "addresses")
    if addresses:
        db.session.execute(insert(Address), addresses)
    for site_data in data["sites"]:
        site = _restore_site(site_data)
        for thread_data in site_data["threads"]:
            _restore_thread(site, thread_data, report, seen)
    _reset_sequences()


def _accepted(
    rows: object, build: Callable[[Any], dict[str, Any]], report: Report, what: str
) -> list[dict[str, Any]]:
    """The rows `build` accepts; each refused one is counted in the report with its reason."""
    if not isinstance(rows, list):
        raise BadRow(f"no list of {what}")
    built = (row_or_skip(partial(build, row), report, what) for row in rows)
    return [row for row in built if row is not None]


def _fields(row: object) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise BadRow("no fields")
    return row


def _id(value: object) -> int:
    # bool is an int to Python, not an id; ids past PostgreSQL's integer fit no column.
    if type(value) is not int or not 0 < value <= MAX_ID:
        raise BadRow("a bad id")
    return value


def _when(value: object, required: bool = True) -> datetime | None:
    """A stored ISO date as naive UTC; None for an absent one when that is allowed."""
    if value in (None, "") and not required:
        return None
    try:
        moment = datetime.fromisoformat(value)  # type: ignore[arg-type]
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError) as exc:
        raise BadRow("a bad date") from exc
    return moment


def _count(value: object) -> int:
    """A counter (0 when a backup from before it has none)."""
    if value is None:
        return 0
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise BadRow("a bad count")
    return value


def _claim(seen: set[tuple[str, Any]], *taken: tuple[str, Any]) -> None:
    if any(entry in seen for entry in taken):
        raise BadRow("an id or key used twice")
    seen.update(taken)


def _address_row(data: object, seen: set[tuple[str, Any]]) -> dict[str, Any]:
    # Subscribers are mailed: an address gets in only as the subscribe form would take it.
    a = _fields(data)
    try:
        email = normalize_address(as_text(a.get("email"))).canonical
    except AddressRefused as exc:
        raise BadRow("an address that cannot receive mail safely") from exc
    row: dict[str, Any] = {
        name: _when(a.get(name), required=name == "created_at") for name in ADDRESS_DATES
    }
    row.update(
        id=_id(a.get("id")),
        # Links of an older generation stay dead ("never", "unsubscribe from everything").
        generation=_count(a.get("generation")),
        confirmations_sent=_count(a.get("confirmations_sent")),
        paused_until=_when(a.get("paused_until"), required=False),
        suppression_reason=as_text(a.get("suppression_reason")),
        email_hash=vault().lookup_hash(email),
        email_enc=vault().encrypt(email),
    )
    _claim(seen, ("address", row["id"]))
    return row


def _restore_site(data: dict[str, Any]) -> Site:
    site = db.session.scalar(select(Site).where(Site.name == data["name"]))
    if site is None:
        site = Site(name=data["name"])
        db.session.add(site)
    for name in SITE_FIELDS:
        setattr(site, name, data[name])
    for name in OPTIONAL_SITE_FIELDS:
        if name in data:
            setattr(site, name, data[name])
    if site.erase_policy not in ERASE_POLICIES:  # an unknown policy: the default
        site.erase_policy = ErasePolicy.PLACEHOLDER
    if isinstance(data["notify_owner"], bool):  # older backups: a yes/no for held comments
        site.notify_owner = "held" if data["notify_owner"] else "none"
    site.created_at = datetime.fromisoformat(data["created_at"])
    site.origins = " ".join(data["origins"])
    site.owner_email_enc = vault().encrypt(data["owner_email"]) if data["owner_email"] else None
    db.session.flush()
    for block in data["blocks"]:
        db.session.add(
            Block(
                site_id=site.id,
                kind=block["kind"],
                value=block["value"],
                created_at=datetime.fromisoformat(block["created_at"]),
            )
        )
    for token, spam, ham in data["spam_tokens"]:
        db.session.add(SpamToken(site_id=site.id, token=token, spam=spam, ham=ham))
    return site


def _restore_thread(site: Site, data: Any, report: Report, seen: set[tuple[str, Any]]) -> None:
    thread = row_or_skip(partial(_thread_row, data, site, seen), report, "threads")
    if thread is None:
        _count_lost_comments(data, report)
        return
    db.session.execute(insert(Thread), [thread])
    report.threads += 1
    before = report.imported
    _restore_comments(thread["id"], site.id, data["comments"], report, seen)
    if report.dry_run:
        report.per_thread[thread["key"]] += report.imported - before
    subs = _accepted(
        data.get("subscriptions", []),
        partial(_subscription_row, thread_id=thread["id"], seen=seen),
        report,
        "subscriptions",
    )
    if subs:
        aliases = [
            {**alias, "subscription_id": s["id"]} for s in subs for alias in s.pop("aliases")
        ]
        db.session.execute(insert(Subscription), subs)
        if aliases:
            db.session.execute(insert(SubscriptionAlias), aliases)
    report.loops += set_roots([thread["id"]])
    refresh_thread(thread["id"])


def _thread_row(data: object, site: Site, seen: set[tuple[str, Any]]) -> dict[str, Any]:
    site_id = site.id
    t = _fields(data)
    key = as_text(t.get("key"))
    if not key or len(key) > THREAD_KEY_MAX:  # no page could ask for it
        raise BadRow("a missing or too long key")
    if not isinstance(t.get("comments"), list):
        raise BadRow("no list of comments")
    row = {
        "id": _id(t.get("id")),
        "site_id": site_id,
        "key": key,
        "title": line(t.get("title"), TITLE_MAX),
        "url": page_url(site, web_url(t.get("url")), key),  # the site's own pages only
        "closed": t.get("closed") is True,
        "created_at": _when(t.get("created_at")),
    }
    _claim(seen, ("thread", row["id"]), ("key", (site_id, key)))
    return row


def _count_lost_comments(data: object, report: Report) -> None:
    comments = data.get("comments") if isinstance(data, dict) else None
    if isinstance(comments, list) and comments:
        report.skipped["comments of skipped threads"] += len(comments)


def _restore_comments(
    thread_id: int, site_id: int, rows: list[Any], report: Report, seen: set[tuple[str, Any]]
) -> None:
    build = partial(_comment_row, thread_id=thread_id, site_id=site_id, seen=seen)
    comments = _accepted(rows, build, report, "comments")
    if not comments:
        return
    # Inserted without parents first: a parent may come later in the list.
    parents = {c["id"]: c.pop("parent_id") for c in comments}
    db.session.execute(insert(Comment), comments)
    links = [{"id": c, "parent_id": p} for c, p in parents.items() if p in parents and p != c]
    report.orphans += sum(1 for p in parents.values() if p is not None) - len(links)
    if links:
        db.session.execute(update(Comment), links)  # one bulk UPDATE by primary key
    report.imported += len(comments)


def _comment_row(
    data: object, thread_id: int, site_id: int, seen: set[tuple[str, Any]]
) -> dict[str, Any]:
    c = _fields(data)
    row = {**_comment_text(c, site_id), **_comment_state(c), "thread_id": thread_id}
    keys = [("comment", row["id"])]
    if row["import_key"] is not None:
        keys.append(("import key", (thread_id, row["import_key"])))
    _claim(seen, *keys)
    return row


def _comment_text(c: dict[str, Any], site_id: int) -> dict[str, Any]:
    """Name, website, body and HTML as a new comment would have them."""
    email = as_text(c.get("email")).strip()
    author = line(c.get("author"), AUTHOR_MAX) or "Anonymous"
    body, html = as_text(c.get("body")), as_text(c.get("html"))
    return {
        "author": author,
        "website": web_url(c.get("website")),
        "email_enc": vault().encrypt(email) if email else "",
        "email_hash": vault().lookup_hash(email) if email else "",
        "avatar_seed": vault().avatar_seed(email or author, site_id=site_id),
        "body": body,
        # The stored HTML is what the widget shows: cleaned again, never trusted.
        "html": sanitize(html) if html else markdown_to_html(body) if body else "",
    }


def _comment_state(c: dict[str, Any]) -> dict[str, Any]:
    """Id, parent, status, dates and the rest, each checked for its column."""
    if c.get("status") not in COMMENT_STATES:
        raise BadRow("an unknown status")
    parent, key = c.get("parent_id"), c.get("import_key")
    return {
        "id": _id(c.get("id")),
        "parent_id": None if parent is None else _id(parent),
        "status": str(c["status"]),
        "reasons": as_text(c.get("reasons")),
        "spam_score": _score(c.get("spam_score")),
        "ip": truncate_ip(as_text(c.get("ip")).strip()),
        "created_at": _when(c.get("created_at")),
        "edited_at": _when(c.get("edited_at"), required=False),
        "import_key": key if _fits_import_key(key) else None,
        "role": c.get("role") if c.get("role") in ROLES else None,
    }


def _score(value: object) -> float | None:
    if type(value) in (int, float) and math.isfinite(value):  # type: ignore[arg-type]
        return float(value)  # type: ignore[arg-type]
    return None


def _fits_import_key(key: object) -> bool:
    return isinstance(key, str) and 0 < len(key) <= IMPORT_KEY_MAX and as_text(key) == key


def _subscription_row(data: object, thread_id: int, seen: set[tuple[str, Any]]) -> dict[str, Any]:
    s = _fields(data)
    address_id = _id(s.get("address_id"))
    if ("address", address_id) not in seen:
        raise BadRow("an address the backup does not hold (or that was refused)")
    row: dict[str, Any] = {
        "id": _id(s.get("id")),
        "thread_id": thread_id,
        "address_id": address_id,
        "active": s.get("active") is True,
        "confirmed_at": _when(s.get("confirmed_at"), required=False),
        "created_at": _when(s.get("created_at")),
        "unsubscribed_at": _when(s.get("unsubscribed_at"), required=False),
        "mode": _mode(s.get("mode")),
    }
    aliases = s.get("aliases") or []
    if not isinstance(aliases, list):
        raise BadRow("bad aliases")
    row["aliases"] = [_alias_row(alias) for alias in aliases]
    _claim(seen, ("subscription", row["id"]), ("follower", (thread_id, address_id)))
    return row


def _mode(value: object) -> str:
    if value is None:  # a backup from before modes: every comment, as then
        return MailMode.ALL
    if value not in MAIL_MODES:
        raise BadRow("a bad mail mode")
    return str(value)


def _alias_row(data: object) -> dict[str, Any]:
    """A merged-away id: since when and until when its links lived (see SubscriptionAlias)."""
    a = _fields(data)
    return {
        "old_id": _id(a.get("old_id")),
        "old_created_at": _when(a.get("old_created_at"), required=False),
        "created_at": _when(a.get("created_at")),
    }


def _reset_sequences() -> None:
    # Rows were inserted with their ids: move PostgreSQL's counters past them.
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("addresses", "threads", "comments", "subscriptions"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        )
