"""`flask --app app …` commands: sites, admins, the mail worker, webhooks, import and
export."""

from __future__ import annotations

import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from .config import is_on
from .errors import ParleyError
from .extensions import db
from .mail.headers import parse_sender
from .mail.transport import SmtpSession, TemporaryFailure
from .models import (
    ERASE_POLICIES,
    MODERATION_MODES,
    OWNER_DIGEST_MODES,
    OWNER_NOTIFY_MODES,
    ROLES,
    SPAM_CHECKS,
    WEBHOOK_EVENTS,
    WEBHOOK_FORMATS,
    Site,
)


def register(app: Flask) -> None:
    app.cli.add_command(check)
    app.cli.add_command(readers)
    app.cli.add_command(sites)
    app.cli.add_command(admin)
    app.cli.add_command(mail)
    app.cli.add_command(threads)
    app.cli.add_command(webhooks)
    from .importers.cli import export_command, import_group

    app.cli.add_command(import_group)
    app.cli.add_command(export_command)


class Commands(click.Group):
    """A command group whose commands say a refusal (ParleyError) in one line on stderr and
    exit 1, instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ParleyError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            sys.exit(1)


# --- check -----------------------------------------------------------------------


def _without_secrets(url: str) -> str:
    """scheme://host:port/path of a URL: no user name, no password, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@click.command("check")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for a server.")
def check(timeout: float) -> None:
    """Print what is configured (no secrets) and whether the database and the mail server
    answer; exits 1 when one does not."""
    config = current_app.config
    failed = False
    click.echo(f"public URL: {config['PUBLIC_URL']}")
    click.echo(f"instance folder: {current_app.instance_path}")
    try:
        db.session.execute(text("SELECT 1"))
        revision = None  # a new database has no tables yet: it answers, and needs db upgrade
        if sa_inspect(db.session.connection()).has_table("alembic_version"):
            revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        state = f"reachable, schema {revision or 'empty: run db upgrade'}"
        if (read_only := _sqlite_read_only()) is not None:
            state, failed = f"{state}, but {read_only}", True
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        db.session.rollback()
        state, failed = f"NOT reachable ({type(exc).__name__})", True
    click.echo(f"database: {db.engine.url.render_as_string(hide_password=True)} {state}")
    smtp = config.get("SMTP_URL")
    if not smtp:
        click.echo("mail: written to the log (PARLEY_SMTP_URL unset), nothing is sent")
    else:
        # As a delivery does: greeted, secured (STARTTLS, TLS) and logged in; a port that
        # merely accepts connections (a web server, a relay without STARTTLS) is not enough.
        try:
            SmtpSession(str(smtp), timeout).verify(parse_sender(config["MAIL_FROM"])[1])
            state = "answers (greeting, TLS, login and sender as configured)"
        except TemporaryFailure as exc:
            state, failed = f"NOT working ({exc})", True
        click.echo(f"mail: {_without_secrets(str(smtp))} {state}; from {config['MAIL_FROM']}")
    hops = config["PROXY_HOPS"]
    click.echo(
        f"proxy hops: {hops}"
        + (" (X-Forwarded-For/-Proto/-Host trusted)" if hops else " (no proxy header trusted)")
    )
    limits = "on" if config["RATELIMIT_ENABLED"] else "off"
    storage = _without_secrets(str(config["RATE_LIMIT_STORAGE_URL"]))
    shared = "" if storage.startswith("memory") else ", shared by every worker"
    click.echo(f"rate limits: {limits}, storage {storage}{shared}")
    click.echo(
        "secret key: "
        + ("from PARLEY_SECRET_KEY" if os.environ.get("PARLEY_SECRET_KEY") else "set")
        + (", separate PARLEY_EMAIL_KEY" if config.get("EMAIL_KEY") else "")
    )
    click.echo(f"spam checks: {'on' if is_on(config['SPAM_CHECKS']) else 'off'}")
    click.echo(f"demo: {'on' if is_on(config['DEMO']) else 'off'}")
    if failed:
        sys.exit(1)


def _sqlite_read_only() -> str | None:
    """What keeps this user from writing a SQLite database (the file, or the folder its
    journal goes to), or None: made by root, it is read-only to the service."""
    database = db.engine.url.database
    if db.engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    for path in (database, os.path.dirname(os.path.abspath(database))):
        if os.path.exists(path) and not os.access(path, os.W_OK):
            return f"read-only for this user ({path}): run commands as the service's user"
    return None


# --- readers ---------------------------------------------------------------------


@click.group(cls=Commands)
def readers() -> None:
    """A reader's data: export it, erase it (answer a data request)."""


@readers.command("export")
@click.argument("email")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def readers_export(email: str, file: str) -> None:
    """Write everything stored about EMAIL (comments, subscriptions) to FILE as JSON."""
    from .readers import export_reader

    data = export_reader(_address_or_refuse(email))
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the address
    except OSError as exc:
        raise click.ClickException(f"Cannot write {file}: {exc.strerror or exc}.") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
    click.echo(
        f"Wrote {len(data['comments'])} comments and {len(data['subscriptions'])} "
        f"subscriptions to {file}."
    )
    _note_older_spelling(email)


def _address_or_refuse(email: str) -> str:
    """EMAIL as typed, once it is an address at all: "erased 0 comments" for a typo would
    read as done."""
    from .addresses import AddressRefused, normalize_address

    try:
        normalize_address(email)
    except AddressRefused as exc:
        raise click.BadParameter(f"{email!r}: {exc}", param_hint="EMAIL") from exc
    return email


def _note_older_spelling(email: str) -> None:
    """Data stored before 2026-11-29 under a casefolded spelling is not taken as this
    reader's (it may be another mailbox's): say it exists and how to reach it."""
    from .readers import stored_under_older_spelling

    older = stored_under_older_spelling(email)
    if older:
        click.echo(
            f"Note: something is also stored under {older!r}, the spelling addresses were "
            "folded to before 2026-11-29 (ß as ss, ς as σ). It may be this reader's or that "
            "address's: if it is this reader's, run the same command with that spelling."
        )


def at_a_terminal() -> bool:
    """Is a person typing (a prompt can be answered), not a script or cron?"""
    return sys.stdin.isatty()


@readers.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask (asked only at a terminal).")
def readers_erase(email: str, yes: bool) -> None:
    """Erase EMAIL: comments become "[deleted]" or go (each site's --erase-policy);
    subscriptions and the address go. Asks first when run at a terminal; a script (or a
    data request handled by cron) runs it as typed."""
    from .readers import erase_reader

    if not yes and at_a_terminal():
        click.confirm("Erase this reader's comments and subscriptions for good?", abort=True)
    comments, subscriptions = erase_reader(_address_or_refuse(email))
    click.echo(f"Erased {comments} comments and {subscriptions} subscriptions.")
    _note_older_spelling(email)


# --- sites -----------------------------------------------------------------------


def _site_options(func):  # type: ignore[no-untyped-def]
    func = click.option(
        "--erase-policy",
        type=click.Choice(ERASE_POLICIES),
        help="A reader's erasure leaves their comments as [deleted] (placeholder, the default)"
        " or removes them, replies by others moving up (remove).",
    )(func)
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
    func = click.option(
        "--close-after-days",
        type=click.IntRange(0, 3650),
        help=(
            "Close threads N days after the page's publication date when known, else "
            "after their first comment (0: never)."
        ),
    )(func)
    func = click.option(
        "--approval-mail",
        type=click.Choice(["on", "off"]),
        help="Tell a reader by mail when their held comment is approved.",
    )(func)
    func = click.option(
        "--owner-digest",
        type=click.Choice(OWNER_DIGEST_MODES),
        help="The owner's mail: one per comment (off), or gathered hourly or daily.",
    )(func)
    func = click.option(
        "--notify-owner",
        type=click.Choice(OWNER_NOTIFY_MODES),
        help="Mail the owner about every comment, held ones only (default) or none.",
    )(func)
    func = click.option("--owner-email", help="Gets the owner's mail ('' for none).")(func)
    func = click.option("--moderation", type=click.Choice(MODERATION_MODES))(func)
    func = click.option(
        "--origin",
        "origins",
        multiple=True,
        help="An origin allowed to embed the widget (repeatable).",
    )(func)
    return func


@click.group(cls=Commands)
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

    return save_site(  # what is not given stays as it is (a new site: save_site's defaults)
        name,
        origins=list(options["origins"]) or None,
        moderation=options["moderation"],
        owner_email=options["owner_email"],
        max_links=options["max_links"],
        disable=options["disable"],
        enable=options["enable"],
        votes=_on_off(options["votes"]),
        notify_owner=options["notify_owner"],
        owner_digest=options["owner_digest"],
        approval_mail=_on_off(options["approval_mail"]),
        close_after_days=options["close_after_days"],
        erase_policy=options["erase_policy"],
        create=create,
    )


def _on_off(value: str | None) -> bool | None:
    return None if value is None else value == "on"


@sites.command("list")
def sites_list() -> None:
    """List the sites."""
    for site in db.session.scalars(select(Site).order_by(Site.name)):
        owner = "yes" if site.owner_email_enc else "no"
        off = (
            f"\tchecks-off:{site.disabled_checks.replace(' ', ',')}" if site.disabled_checks else ""
        )
        closes = f"\tclose-after-days:{site.close_after_days}" if site.close_after_days else ""
        click.echo(
            f"{site.name}\t{site.moderation}\towner-mail:{owner}"
            f"\tnotify-owner:{site.notify_owner}\towner-digest:{site.owner_digest}"
            f"\tapproval-mail:{'on' if site.approval_mail else 'off'}"
            f"\tvotes:{'on' if site.votes else 'off'}\tmax-links:{site.max_links}"
            f"\terase-policy:{site.erase_policy}\t{site.origins}{off}{closes}"
        )


@sites.command("remove")
@click.argument("name")
@click.option(
    "--delete-comments", is_flag=True, help="Remove the site even though it holds comments."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def sites_remove(name: str, delete_comments: bool, yes: bool) -> None:
    """Remove a site with its threads, subscriptions, block lists and log."""
    from .sites import comment_count, remove_site

    count = comment_count(name)
    if count and delete_comments and not yes:
        click.confirm(
            f"Delete site {name} and its {count} comments for good?", abort=True, err=True
        )
    remove_site(name, delete_comments=delete_comments)
    click.echo(f"Removed site {name}" + (f" and its {count} comments." if count else "."))


# --- admins ----------------------------------------------------------------------


@click.group(cls=Commands)
def admin() -> None:
    """Moderator accounts for /admin/."""


@admin.command("create")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    help="The badge on their comments (default owner).",
)
@click.option("--name", help="The name their replies carry (default: the role).")
@click.option(
    "--site",
    "sites",
    multiple=True,
    help="A site they may moderate (repeatable; none given: every site).",
)
def admin_create(
    email: str, password_stdin: bool, role: str | None, name: str | None, sites: tuple[str, ...]
) -> None:
    """Create (or reset the password of) a moderator."""
    from .auth import create_admin

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = create_admin(email, password, role=role, name=name, sites=sites or None)
    click.echo(f"{user.role.capitalize()} {user.email} can log in at /admin/.")


@admin.command("list")
def admin_list() -> None:
    """List the admin accounts with their role and sites."""
    from .models import AdminSite, AdminUser

    for user in db.session.scalars(select(AdminUser).order_by(AdminUser.email)):
        names = db.session.scalars(
            select(Site.name)
            .join(AdminSite, AdminSite.site_id == Site.id)
            .where(AdminSite.admin_id == user.id)
            .order_by(Site.name)
        ).all()
        locked = "\tlocked (no password)" if not user.password_hash else ""
        click.echo(f"{user.email}\t{user.role}\tsites:{','.join(names) or 'all'}{locked}")


@admin.command("remove")
@click.argument("email")
def admin_remove(email: str) -> None:
    """Remove an admin account (its sessions end)."""
    from .auth import remove_admin

    remove_admin(email)
    click.echo(f"Removed {email}.")


# --- mail ------------------------------------------------------------------------


@click.group(cls=Commands)
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


# --- webhooks --------------------------------------------------------------------


@click.group(cls=Commands)
def webhooks() -> None:
    """A site's new comments posted to a chat room or any HTTP receiver (docs/webhooks.md)."""


@webhooks.command("add")
@click.argument("site")
@click.argument("url")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(WEBHOOK_FORMATS),
    default="generic",
    show_default=True,
    help="generic: signed JSON; or a chat's own incoming-webhook format.",
)
@click.option(
    "--events",
    help=f"Comma-separated choice of {','.join(WEBHOOK_EVENTS)} (default: published,held).",
)
@click.option("--secret", help="The signing secret (default: a new random one, shown once).")
@click.option(
    "--allow-http", is_flag=True, help="Allow plain http:// to a host other than this machine."
)
def webhooks_add(
    site: str, url: str, fmt: str, events: str | None, secret: str | None, allow_http: bool
) -> None:
    """Post SITE's new comments to URL (kept encrypted: a chat URL is a credential)."""
    from .webhooks import add_webhook, masked_url

    chosen = events.split(",") if events is not None else None
    hook, secret = add_webhook(site, url, fmt, chosen, secret, allow_http)
    click.echo(f"Added webhook {hook.id} for {site}: {fmt} to {masked_url(url.strip())}")
    click.echo(f"secret: {secret}")
    click.echo("(shown once: the receiver checks X-Parley-Signature with it)")


@webhooks.command("list")
@click.argument("site", required=False)
def webhooks_list(site: str | None) -> None:
    """List the webhooks (of SITE): id, site, format, events, host, last delivery."""
    from .webhooks import list_webhooks

    listing = list_webhooks(site)
    for hook in listing:
        click.echo(
            f"{hook.id}\t{hook.site}\t{hook.format}\t{hook.events}\t{hook.url}\tlast: {hook.last}"
        )
    if not listing:
        click.echo("No webhooks.")


@webhooks.command("remove")
@click.argument("hook_id", metavar="ID", type=int)
def webhooks_remove(hook_id: int) -> None:
    """Remove webhook ID and what it still had queued."""
    from .webhooks import remove_webhook

    remove_webhook(hook_id)
    click.echo(f"Removed webhook {hook_id}.")


@webhooks.command("test")
@click.argument("hook_id", metavar="ID", type=int)
def webhooks_test(hook_id: int) -> None:
    """Send a "test" event to webhook ID now; print the answer and how long it took."""
    from .mail.worker import deliver_now
    from .webhooks import send_test

    delivery = deliver_now(send_test(hook_id).id)
    assert delivery is not None
    click.echo(f"Test delivery {delivery.id}: {delivery.status} ({delivery.last_error})")
    if delivery.status != "sent":
        sys.exit(1)


# --- threads ---------------------------------------------------------------------


@click.group(cls=Commands)
def threads() -> None:
    """Move, merge and remap threads (an article's URL changed)."""


@threads.command("move")
@click.argument("site")
@click.argument("old_key")
@click.argument("new_key")
def threads_move(site: str, old_key: str, new_key: str) -> None:
    """Give the thread OLD_KEY the key NEW_KEY (refused if NEW_KEY has a thread: merge)."""
    from .remap import move_thread

    click.echo(move_thread(site, old_key, new_key).summary())


@threads.command("merge")
@click.argument("site")
@click.argument("keys", nargs=-1, required=True)
@click.option("--into", required=True, help="The key of the merged thread.")
def threads_merge(site: str, keys: tuple[str, ...], into: str) -> None:
    """Merge the threads KEYS into one (comments, subscriptions and queued mail kept)."""
    from .remap import merge_threads

    click.echo(merge_threads(site, keys, into).summary())


@threads.command("remap")
@click.argument("site")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--dry-run", is_flag=True, help="Say what would change; store nothing.")
def threads_remap(site: str, file: Any, dry_run: bool) -> None:
    """Apply FILE: lines of `OLD NEW`, or `regex PATTERN REPLACEMENT`, in order."""
    from .remap import remap_threads

    click.echo(remap_threads(site, file, dry_run=dry_run).summary())
