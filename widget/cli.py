"""`flask --app app …` commands: sites, admins, the mail worker, import and export."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click
from flask import Flask
from sqlalchemy import select

from .errors import ParleyError
from .extensions import db
from .models import MODERATION_MODES, SPAM_CHECKS, Site


def register(app: Flask) -> None:
    app.cli.add_command(sites)
    app.cli.add_command(admin)
    app.cli.add_command(mail)
    from .importers.cli import export_command, import_group

    app.cli.add_command(import_group)
    app.cli.add_command(export_command)


def _fail(exc: ParleyError) -> NoReturn:
    click.echo(f"Error: {exc.message}", err=True)
    sys.exit(1)


# --- sites -----------------------------------------------------------------------


def _site_options(func):  # type: ignore[no-untyped-def]
    func = click.option(
        "--enable-check",
        "enable",
        multiple=True,
        type=click.Choice(SPAM_CHECKS),
        help="Switch a spam defence back on (repeatable).",
    )(func)
    func = click.option(
        "--disable-check",
        "disable",
        multiple=True,
        type=click.Choice(SPAM_CHECKS),
        help="Switch a spam defence off for this site (repeatable).",
    )(func)
    func = click.option(
        "--max-links",
        type=click.IntRange(0, 100),
        help="Links allowed in one comment before it is held (default 3).",
    )(func)
    func = click.option(
        "--votes", type=click.Choice(["on", "off"]), help="Readers may vote on comments."
    )(func)
    func = click.option("--owner-email", help="Gets a mail per held comment.")(func)
    func = click.option("--moderation", type=click.Choice(MODERATION_MODES))(func)
    func = click.option(
        "--origin",
        "origins",
        multiple=True,
        help="An origin allowed to embed the widget (repeatable).",
    )(func)
    return func


@click.group()
def sites() -> None:
    """Sites that embed Parley."""


@sites.command("add")
@click.argument("name")
@_site_options
def sites_add(name: str, **options: Any) -> None:
    """Add a site: sites add blog --origin https://blog.example"""
    site = _save_site(name, options, create=True)
    click.echo(f"Added site {site.name} ({site.moderation}); origins: {site.origins or 'none'}")


@sites.command("set")
@click.argument("name")
@_site_options
def sites_set(name: str, **options: Any) -> None:
    """Change a site; --origin replaces the list of origins."""
    site = _save_site(name, options, create=False)
    click.echo(f"Updated site {site.name} ({site.moderation}); origins: {site.origins or 'none'}")


def _save_site(name: str, options: dict[str, Any], create: bool) -> Site:
    from .sites import save_site

    try:  # what is not given stays as it is (a new site: save_site's defaults)
        return save_site(
            name,
            origins=list(options["origins"]) or None,
            moderation=options["moderation"],
            owner_email=options["owner_email"],
            max_links=options["max_links"],
            disable=options["disable"],
            enable=options["enable"],
            votes=None if options["votes"] is None else options["votes"] == "on",
            create=create,
        )
    except ParleyError as exc:
        _fail(exc)


@sites.command("list")
def sites_list() -> None:
    """List the sites."""
    for site in db.session.scalars(select(Site).order_by(Site.name)):
        owner = "yes" if site.owner_email_enc else "no"
        off = (
            f"\tchecks-off:{site.disabled_checks.replace(' ', ',')}" if site.disabled_checks else ""
        )
        click.echo(f"{site.name}\t{site.moderation}\towner-mail:{owner}\t{site.origins}{off}")


# --- admins ----------------------------------------------------------------------


@click.group()
def admin() -> None:
    """Moderator accounts for /admin/."""


@admin.command("create")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def admin_create(email: str, password_stdin: bool) -> None:
    """Create (or reset the password of) a moderator."""
    from .auth import create_admin

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_admin(email, password)
    except ParleyError as exc:
        _fail(exc)
    click.echo(f"Moderator {email} can log in at /admin/.")


# --- mail ------------------------------------------------------------------------


@click.group()
def mail() -> None:
    """Outgoing mail."""


@mail.command("worker")
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
def mail_worker(once: bool, interval: float) -> None:
    """Send queued mail over SMTP, with retries; run as many as you like."""
    from .mail import run_worker

    sent = run_worker(once=once, interval=interval)
    if once:
        click.echo(f"Processed {sent} deliveries.")
