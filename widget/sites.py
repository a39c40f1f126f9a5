"""Sites: who may embed Parley, and how each one is moderated."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from .errors import NotFound, ParleyError
from .extensions import db
from .models import MODERATION_MODES, SPAM_CHECKS, Site
from .vault import vault


def normalise_origin(origin: str) -> str:
    """ "https://Blog.example/" -> "https://blog.example"; refuse anything not an origin."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParleyError(f"Not an http(s) origin: {origin!r}")
    host = parts.hostname.lower()
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


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
    create: bool,
) -> Site:
    """Create (create=True) or change a site; what is None or empty stays as it is."""
    site = db.session.scalar(select(Site).where(Site.name == name))
    if create and site is not None:
        raise ParleyError(f"Site {name!r} exists already.")
    if not create and site is None:
        raise NotFound(f"No site named {name!r}.")
    if site is None:
        site = Site(name=name, origins="", moderation="first-time")
        db.session.add(site)
    if origins is not None:
        site.origins = " ".join(dict.fromkeys(normalise_origin(o) for o in origins))
    if moderation is not None:
        if moderation not in MODERATION_MODES:
            raise ParleyError(f"Moderation must be one of {', '.join(MODERATION_MODES)}.")
        site.moderation = moderation
    if owner_email is not None:
        site.owner_email_enc = vault().encrypt(owner_email) if owner_email else None
    if max_links is not None:
        site.max_links = max_links
    if votes is not None:
        site.votes = votes
    unknown = set(disable + enable) - set(SPAM_CHECKS)
    if unknown:
        raise ParleyError(
            f"Unknown check {', '.join(sorted(unknown))}; use {', '.join(SPAM_CHECKS)}."
        )
    off = (set((site.disabled_checks or "").split()) | set(disable)) - set(enable)
    site.disabled_checks = " ".join(sorted(off))
    db.session.commit()
    return site
