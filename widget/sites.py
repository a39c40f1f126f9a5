"""Sites: who may embed Parley, and how each one is moderated."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import delete, exists, func, or_, select, update

from . import notices
from .addresses import AddressRefused, normalize_address
from .errors import NotFound, ParleyError
from .extensions import db
from .limits import SITE_NAME_MAX
from .models import (
    ERASE_POLICIES,
    MODERATION_MODES,
    OWNER_DIGEST_MODES,
    OWNER_NOTIFY_MODES,
    SPAM_CHECKS,
    Address,
    AdminSite,
    AdminUser,
    Block,
    Comment,
    Delivery,
    ModerationEvent,
    OwnerNotify,
    Site,
    SpamToken,
    Subscription,
    Thread,
    Vote,
)
from .tokens import TokenError, names_row, read_token_issued
from .vault import vault

#: Auto-close takes at most ten years.
MAX_CLOSE_AFTER_DAYS = 3650


#: A host name as browsers send it in Origin (IDNs in their xn-- form), or an IPv6 address.
_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_HOST = re.compile(rf"{_LABEL}(\.{_LABEL})*\.?|[0-9a-f.]*:[0-9a-f:.]*")
#: A site's name: it is typed in commands and URLs and labels its mail (List-Id).
SITE_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_-]|\.(?!\.|$))*")


def normalise_origin(origin: str) -> str:
    """ "https://Blog.example/" -> "https://blog.example"; refuse anything not an origin."""
    try:
        parts = urlsplit(origin.strip())
        host = (parts.hostname or "").lower()
        port = f":{parts.port}" if parts.port else ""
    except ValueError as exc:  # a port that is no number, a broken [IPv6]
        raise ParleyError(f"Not an http(s) origin: {origin!r}") from exc
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(host):
        raise ParleyError(f"Not an http(s) origin: {origin!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        # An origin is scheme, host and port: a path would be dropped without a word.
        raise ParleyError(
            f"Not an origin: {origin!r} (scheme, host and port only, e.g. https://blog.example)"
        )
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}"


def split_origins(values: list[str]) -> list[str]:
    """Origins as typed: one per value, or several in one separated by commas or spaces."""
    return [part for value in values for part in re.split(r"[\s,]+", value) if part]


def origin_allowed(site: Site, origin: str | None) -> bool:
    if not origin:
        return False
    try:
        return normalise_origin(origin) in site.origin_list
    except (ParleyError, ValueError):
        return False


def any_site_allows(origin: str) -> bool:
    """For CORS preflights, which carry no site: does some site allow this origin?"""
    try:
        wanted = normalise_origin(origin)
    except (ParleyError, ValueError):
        return False
    return any(wanted in origins.split() for origins in db.session.scalars(select(Site.origins)))


def save_site(
    name: str,
    *,
    origins: list[str] | None = None,
    moderation: str | None = None,
    owner_email: str | None = None,
    max_links: int | None = None,
    disable: tuple[str, ...] = (),
    enable: tuple[str, ...] = (),
    votes: bool | None = None,
    actor: str = "cli",
    notify_owner: str | None = None,
    owner_digest: str | None = None,
    approval_mail: bool | None = None,
    close_after_days: int | None = None,
    erase_policy: str | None = None,
    create: bool,
) -> Site:
    """Create (create=True) or change a site; what is None or empty stays as it is.

    `close_after_days` 0 switches auto-close off. Logged as `actor`'s decision, with the
    names of the settings it changed (never the owner's address). Commits."""
    site = db.session.scalar(select(Site).where(Site.name == name))
    if create and site is not None:
        raise ParleyError(f"Site {name!r} exists already.")
    if not create and site is None:
        raise NotFound(f"No site named {name!r}.")
    if site is None:
        if len(name) > SITE_NAME_MAX or not SITE_NAME.fullmatch(name):
            raise ParleyError(
                f"A site's name is up to {SITE_NAME_MAX} letters, digits, '-', '_' and '.' "
                f"(not {name!r})."
            )
        site = Site(name=name, origins="", moderation="first-time")
        db.session.add(site)
    before = {field: getattr(site, field) for field in SETTINGS}
    if origins is not None:
        site.origins = " ".join(dict.fromkeys(normalise_origin(o) for o in split_origins(origins)))
    _choose(site, "moderation", moderation, MODERATION_MODES)
    if owner_email is not None:
        site.owner_email_enc = vault().encrypt(_owner_address(owner_email)) if owner_email else None
    if max_links is not None:
        site.max_links = max_links
    if votes is not None:
        site.votes = votes
    _choose(site, "notify_owner", notify_owner, OWNER_NOTIFY_MODES)
    _choose(site, "owner_digest", owner_digest, OWNER_DIGEST_MODES)
    if approval_mail is not None:
        site.approval_mail = approval_mail
    _choose(site, "erase_policy", erase_policy, ERASE_POLICIES)
    if close_after_days is not None:
        if not 0 <= close_after_days <= MAX_CLOSE_AFTER_DAYS:
            raise ParleyError(f"Close after 0 (never) to {MAX_CLOSE_AFTER_DAYS} days.")
        site.close_after_days = close_after_days or None
    unknown = set(disable + enable) - set(SPAM_CHECKS)
    if unknown:
        raise ParleyError(
            f"Unknown check {', '.join(sorted(unknown))}; use {', '.join(SPAM_CHECKS)}."
        )
    off = (set((site.disabled_checks or "").split()) | set(disable)) - set(enable)
    site.disabled_checks = " ".join(sorted(off))
    changed = [field for field in SETTINGS if getattr(site, field) != before[field]]
    if create or changed:
        db.session.flush()  # a new site needs its id
        db.session.add(
            ModerationEvent(
                site_id=site.id,
                actor=actor,
                action="add-site" if create else "settings",
                detail=", ".join(field.replace("_enc", "") for field in changed),
            )
        )
    db.session.commit()
    return site


def owner_mail_site(token: str) -> Site:
    """The site whose owner's mail the link stops (tokens.owner_mail_token); NotFound once
    the site is gone or mails another address."""
    try:
        payload, issued = read_token_issued("owner-mail", token)
    except TokenError as exc:
        raise NotFound(exc.message) from exc
    site_id = payload.get("s") if isinstance(payload, dict) else None
    site = db.session.get(Site, site_id) if isinstance(site_id, int) and site_id > 0 else None
    if (
        site is None
        or not names_row(payload, issued, site.created_at)
        or payload.get("h") != notices.owner_mail_hash(site)
    ):
        raise NotFound("This link is no longer valid: the site mails another address now.")
    return site


def stop_owner_mail(site: Site) -> None:
    """The owner clicked "unsubscribe" in a mail about their site's comments: no more of
    them (the admin's settings or `sites set --notify-owner` turn them on again). Logged.
    Commits."""
    save_site(site.name, notify_owner=OwnerNotify.NONE, actor="owner-mail-link", create=False)


#: A site's settings, as `sites set` and the admin's settings page change them.
SETTINGS = (
    "origins",
    "moderation",
    "owner_email_enc",
    "max_links",
    "votes",
    "notify_owner",
    "owner_digest",
    "approval_mail",
    "close_after_days",
    "disabled_checks",
    "erase_policy",
)


def _lock_out_its_own_moderators(site_id: int | None) -> None:
    """A moderator limited to this site alone would moderate every site once its last
    AdminSite row goes (no row means every site): their login stops working instead, and
    their sessions end. `admin create` gives them a password and sites again."""
    theirs = (
        select(AdminSite.admin_id)
        .group_by(AdminSite.admin_id)
        .having(func.count() == 1, func.max(AdminSite.site_id) == site_id)
    )
    db.session.execute(
        update(AdminUser)
        .where(AdminUser.id.in_(theirs))
        .values(password_hash="", session_generation=AdminUser.session_generation + 1)
        .execution_options(synchronize_session=False)
    )


def _owner_address(raw: str) -> str:
    try:
        return normalize_address(raw).canonical
    except AddressRefused as exc:
        raise ParleyError(f"Not a mail address the owner can get mail at: {exc}") from exc


def _choose(site: Site, field: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is None:
        return
    if value not in allowed:
        label = field.replace("_", " ").capitalize()
        raise ParleyError(f"{label} must be one of {', '.join(allowed)}.")
    setattr(site, field, value)


def comment_count(name: str) -> int:
    """Comments stored for the named site (any status); NotFound if there is no such site."""
    site = db.session.scalar(select(Site).where(Site.name == name))
    if site is None:
        raise NotFound(f"No site named {name!r}.")
    return int(
        db.session.scalar(
            select(func.count(Comment.id))
            .join(Thread, Thread.id == Comment.thread_id)
            .where(Thread.site_id == site.id)
        )
        or 0
    )


def remove_site(name: str, *, delete_comments: bool = False) -> int:
    """Remove a site with its threads, subscriptions, block lists, spam filter and log.

    Refused while it holds comments unless `delete_comments`. Returns the comments deleted.
    Commits.
    """
    count = comment_count(name)
    if count and not delete_comments:
        raise ParleyError(
            f"Site {name!r} holds {count} comments; remove them too with --delete-comments."
        )
    site_id = db.session.scalar(select(Site.id).where(Site.name == name))
    _lock_out_its_own_moderators(site_id)
    threads = select(Thread.id).where(Thread.site_id == site_id)
    subs = select(Subscription.id).where(Subscription.thread_id.in_(threads))
    comments = select(Comment.id).where(Comment.thread_id.in_(threads))
    subscribers = list(
        db.session.scalars(select(Subscription.address_id).where(Subscription.id.in_(subs)))
    )
    # Children first, so the same holds with or without the database's ON DELETE CASCADE.
    for statement in (
        delete(Delivery).where(
            or_(
                Delivery.site_id == site_id,
                Delivery.subscription_id.in_(subs),
                Delivery.comment_id.in_(comments),
            )
        ),
        delete(Subscription).where(Subscription.thread_id.in_(threads)),
        delete(Vote).where(Vote.comment_id.in_(comments)),
        delete(ModerationEvent).where(
            or_(ModerationEvent.site_id == site_id, ModerationEvent.comment_id.in_(comments))
        ),
        update(Comment).where(Comment.thread_id.in_(threads)).values(parent_id=None),
        delete(Comment).where(Comment.thread_id.in_(threads)),
        delete(Block).where(Block.site_id == site_id),
        delete(SpamToken).where(SpamToken.site_id == site_id),
        delete(Thread).where(Thread.site_id == site_id),
        delete(Site).where(Site.id == site_id),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))
    _forget_addresses_left_with_nothing(subscribers)
    db.session.commit()
    return count


def _forget_addresses_left_with_nothing(address_ids: list[int]) -> None:
    """This site's subscribers whose address nothing else needs any more: no subscription,
    no comment, no mail queued elsewhere. One who asked for no mail at all keeps the
    address (and so the wish)."""
    if not address_ids:
        return
    db.session.execute(
        delete(Address)
        .where(
            Address.id.in_(address_ids),
            Address.suppressed_at.is_(None),
            ~exists().where(Subscription.address_id == Address.id),
            ~exists().where(Delivery.address_id == Address.id),
            ~exists().where(Comment.email_hash == Address.email_hash),
        )
        .execution_options(synchronize_session=False)
    )
