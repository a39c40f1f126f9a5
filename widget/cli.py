"""`flask --app app …` commands: sites, admins, the mail worker, import and export."""

from __future__ import annotations

import sys

import click
from flask import Flask
from sqlalchemy import select

from .errors import ParleyError
from .extensions import db
from .models import MODERATION_MODES, Site


def register(app: Flask) -> None:
    app.cli.add_command(sites)
    app.cli.add_command(admin)
    app.cli.add_command(mail)
    from .importers.cli import export_command, import_group

    app.cli.add_command(import_group)
    app.cli.add_command(export_command)


def _fail(exc: ParleyError) -> None:
    click.echo(f"Error: {exc.message}", err=True)
    sys.exit(1)


# --- sites -----------------------------------------------------------------------


def _site_options(func):  # type: ignore[no-untyped-def]
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
def sites_add(
    name: str, origins: tuple[str, ...], moderation: str | None, owner_email: str | None
) -> None:
    """Add a site: sites add blog --origin https://blog.example"""
    from .sites import save_site

    try:
        site = save_site(
            name,
            origins=list(origins),
            moderation=moderation or "first-time",
            owner_email=owner_email,
            create=True,
        )
    except ParleyError as exc:
        _fail(exc)
    click.echo(f"Added site {site.name} ({site.moderation}); origins: {site.origins or 'none'}")


@sites.command("set")
@click.argument("name")
@_site_options
def sites_set(
    name: str, origins: tuple[str, ...], moderation: str | None, owner_email: str | None
) -> None:
    """Change a site; --origin replaces the list of origins."""
    from .sites import save_site

    try:
        site = save_site(
            name,
            origins=list(origins) or None,
            moderation=moderation,
            owner_email=owner_email,
            create=False,
        )
    except ParleyError as exc:
        _fail(exc)
    click.echo(f"Updated site {site.name} ({site.moderation}); origins: {site.origins or 'none'}")


@sites.command("list")
def sites_list() -> None:
    """List the sites."""
    for site in db.session.scalars(select(Site).order_by(Site.name)):
        owner = "yes" if site.owner_email_enc else "no"
        click.echo(f"{site.name}\t{site.moderation}\towner-mail:{owner}\t{site.origins}")


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
    from .mailer import run_worker

    sent = run_worker(once=once, interval=interval)
    if once:
        click.echo(f"Processed {sent} deliveries.")
