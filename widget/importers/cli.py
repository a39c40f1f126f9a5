"""`flask --app app import …` and `flask --app app export FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ParleyError


@click.group("import")
def import_group() -> None:
    """Bring comments from another system or a Parley backup."""


def _run(
    source: str, path: str, site: str | None, keep_pings: bool = False, dry_run: bool = False
) -> None:
    from . import run_import
    from .base import ImportError_

    try:
        report = run_import(
            source,
            Path(path),
            site,
            keep_pings=keep_pings,
            progress=sys.stderr.isatty(),
            dry_run=dry_run,
        )
    except (ImportError_, ParleyError) as exc:
        click.echo(f"Import refused: {str(exc).removeprefix('refused: ')}", err=True)
        sys.exit(1)
    click.echo(report.summary())


_dry_run = click.option(
    "--dry-run", is_flag=True, help="Read the file and say what would be imported; store nothing."
)


@import_group.command("wordpress")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", required=True, help="The Parley site to import into.")
@click.option("--keep-pings", is_flag=True, help="Keep pingbacks and trackbacks.")
@_dry_run
def import_wordpress(path: str, site: str, keep_pings: bool, dry_run: bool) -> None:
    """A WordPress export (WXR) file."""
    _run("wordpress", path, site, keep_pings, dry_run)


@import_group.command("parley")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", help="Ignored: a backup names its sites.")
@_dry_run
def import_parley(path: str, site: str | None, dry_run: bool) -> None:
    """A Parley JSON backup, into an empty database."""
    _run("parley", path, None, dry_run=dry_run)


def _file_import(source: str, description: str) -> None:
    """`import SOURCE PATH --site NAME [--dry-run]`: the shape of every single-file import."""

    @import_group.command(source, help=description)
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--site", required=True, help="The Parley site to import into.")
    @_dry_run
    def command(path: str, site: str, dry_run: bool) -> None:
        _run(source, path, site, dry_run=dry_run)


for _source, _description in (
    ("disqus", "A Disqus XML export."),
    ("isso", "An Isso SQLite database (comments.db)."),
    ("remark42", "A Remark42 backup (JSON lines, gzipped or not)."),
    ("commento", "A Commento (or Comentario) JSON export."),
):
    _file_import(_source, _description)


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--site", help="Only this site.")
def export_command(path: str, site: str | None) -> None:
    """Write a complete JSON backup (it contains readers' addresses: keep it private)."""
    from .backup import export_to

    try:
        counts = export_to(Path(path), site)
    except ParleyError as exc:
        click.echo(f"Export failed: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:  # no such folder, no permission, a full disk
        click.echo(f"Export failed: cannot write {path}: {exc.strerror or exc}.", err=True)
        sys.exit(1)
    click.echo("Exported " + ", ".join(f"{n} {what}" for what, n in counts.items()) + f" to {path}")
