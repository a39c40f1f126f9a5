"""`flask --app app import …` and `flask --app app export FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ParleyError


@click.group("import")
def import_group() -> None:
    """Bring comments from another system or a Parley backup."""


def _run(source: str, path: str, site: str | None, keep_pings: bool = False) -> None:
    from . import run_import
    from .base import ImportError_

    try:
        report = run_import(
            source, Path(path), site, keep_pings=keep_pings, progress=sys.stderr.isatty()
        )
    except (ImportError_, ParleyError) as exc:
        click.echo(f"Import refused: {exc}", err=True)
        sys.exit(1)
    click.echo(report.summary())


@import_group.command("wordpress")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", required=True, help="The Parley site to import into.")
@click.option("--keep-pings", is_flag=True, help="Keep pingbacks and trackbacks.")
def import_wordpress(path: str, site: str, keep_pings: bool) -> None:
    """A WordPress export (WXR) file."""
    _run("wordpress", path, site, keep_pings)


@import_group.command("disqus")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", required=True)
def import_disqus(path: str, site: str) -> None:
    """A Disqus XML export."""
    _run("disqus", path, site)


@import_group.command("isso")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", required=True)
def import_isso(path: str, site: str) -> None:
    """An Isso SQLite database (comments.db)."""
    _run("isso", path, site)


@import_group.command("parley")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--site", help="Ignored: a backup names its sites.")
def import_parley(path: str, site: str | None) -> None:
    """A Parley JSON backup, into an empty database."""
    _run("parley", path, None)


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
    click.echo("Exported " + ", ".join(f"{n} {what}" for what, n in counts.items()) + f" to {path}")
