"""The Parley JSON backup: `export FILE` writes it, `import parley FILE` restores it exactly.

It contains readers' addresses (the owner's data): keep it private.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, insert, select, text, update

from ..errors import ParleyError
from ..extensions import db
from ..models import Address, Block, Comment, Site, SpamToken, Subscription, Thread
from ..threads import refresh_thread
from ..vault import vault
from .base import ImportError_, Report, set_roots

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
)
ADDRESS_FIELDS = (
    "id",
    "confirmed_at",
    "confirmation_sent_at",
    "suppressed_at",
    "suppression_reason",
    "created_at",
)
SUBSCRIPTION_FIELDS = ("id", "address_id", "active", "created_at", "unsubscribed_at")


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
    with open(path, "w", encoding="utf-8") as handle:
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
                {**_pick(address, ADDRESS_FIELDS), "email": vault().decrypt(address.email_enc)},
            )
        handle.write("\n]}\n")
    return counts


def _export_site(
    handle: IO[str], site: Site, counts: dict[str, int], address_ids: set[int]
) -> None:
    counts["sites"] += 1
    head = {
        **_pick(site, SITE_FIELDS),
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
                "subscriptions": [_pick(s, SUBSCRIPTION_FIELDS) for s in subs],
            },
        )
        counts["threads"] += 1
        counts["comments"] += len(comments)
        counts["subscriptions"] += len(subs)
        db.session.expunge_all()
    handle.write("\n]}")


def _dates(row: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        if row.get(name):
            row[name] = datetime.fromisoformat(row[name])
    return row


def import_from(path: Path) -> Report:
    """Restore a backup into a database with no comments yet; all of it or nothing."""
    report = Report("parley")
    if db.session.scalar(select(func.count(Comment.id))) or db.session.scalar(
        select(func.count(Thread.id))
    ):
        raise ImportError_("refused: a backup is restored into an empty database only")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeError) as exc:
        raise ImportError_(f"not a readable JSON file: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportError_("refused: not a Parley backup")
    try:
        _restore(data, report)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        raise ImportError_(f"refused: {type(exc).__name__}: {exc}") from exc
    return report


def _restore(data: dict[str, Any], report: Report) -> None:
    addresses = [
        _dates(dict(a), "confirmed_at", "confirmation_sent_at", "suppressed_at", "created_at")
        for a in data["addresses"]
    ]
    if addresses:
        db.session.execute(
            insert(Address),
            [
                {
                    **{k: a[k] for k in ADDRESS_FIELDS},
                    "email_hash": vault().lookup_hash(a["email"]),
                    "email_enc": vault().encrypt(a["email"]),
                }
                for a in addresses
            ],
        )
    for site_data in data["sites"]:
        site = _restore_site(site_data)
        for thread_data in site_data["threads"]:
            _restore_thread(site, thread_data, report)
    _reset_sequences()


def _restore_site(data: dict[str, Any]) -> Site:
    site = db.session.scalar(select(Site).where(Site.name == data["name"]))
    if site is None:
        site = Site(name=data["name"])
        db.session.add(site)
    for name in SITE_FIELDS:
        setattr(site, name, data[name])
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


def _restore_thread(site: Site, data: dict[str, Any], report: Report) -> None:
    thread = _dates({k: data[k] for k in THREAD_FIELDS}, "created_at")
    db.session.execute(insert(Thread), [{**thread, "site_id": site.id}])
    report.threads += 1
    comments = [_dates(dict(c), "created_at", "edited_at") for c in data["comments"]]
    if comments:
        db.session.execute(
            insert(Comment),
            [
                {
                    **{k: c[k] for k in COMMENT_FIELDS},
                    "parent_id": None,
                    "thread_id": thread["id"],
                    "email_enc": vault().encrypt(c["email"]) if c["email"] else "",
                    "email_hash": vault().lookup_hash(c["email"]) if c["email"] else "",
                    "avatar_seed": vault().avatar_seed(c["email"] or c["author"]),
                }
                for c in comments
            ],
        )
        for c in comments:
            if c["parent_id"]:
                db.session.execute(
                    update(Comment).where(Comment.id == c["id"]).values(parent_id=c["parent_id"])
                )
        report.imported += len(comments)
    subs = [_dates(dict(s), "created_at", "unsubscribed_at") for s in data["subscriptions"]]
    if subs:
        db.session.execute(insert(Subscription), [{**s, "thread_id": thread["id"]} for s in subs])
    set_roots([thread["id"]])
    refresh_thread(thread["id"])


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
