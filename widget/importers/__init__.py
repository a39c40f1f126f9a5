"""Importers (WordPress, Disqus, Isso, Remark42, Commento, Parley backups) and the JSON export.

`run_import` picks the reader for a source; each reader turns its file into `base.Record`s
and `base.Loader` stores them. `base` imports no reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import Site
from . import backup, commento, disqus, isso, remark42, wordpress
from .base import ImportError_, Loader, Record, Report

#: Source name -> reader(path, report, keep_pings, progress) yielding records.
READERS: dict[str, Callable[[Path, Report, bool, bool], Iterator[Record]]] = {
    "wordpress": wordpress.read,
    "disqus": lambda path, report, _pings, progress: disqus.read(path, report, progress),
    "isso": lambda path, report, _pings, progress: isso.read(path, report, progress),
    "remark42": lambda path, report, _pings, progress: remark42.read(path, report, progress),
    "commento": lambda path, report, _pings, progress: commento.read(path, report, progress),
}


def run_import(
    source: str,
    path: Path,
    site_name: str | None,
    *,
    keep_pings: bool = False,
    progress: bool = False,
    dry_run: bool = False,
) -> Report:
    """Import a whole file in one transaction: all of it, or nothing.

    A dry run does all of it, then rolls the transaction back: its report says what would
    have been stored.
    """
    if source == "parley":
        return backup.import_from(path, dry_run=dry_run)
    site = db.session.scalar(select(Site).where(Site.name == (site_name or "")))
    if site is None:
        raise ImportError_(f"no site named {site_name!r} (flask --app app sites add NAME)")
    report = Report(source, dry_run=dry_run)
    loader = Loader(site, report)
    try:
        for record in READERS[source](path, report, keep_pings, progress):
            loader.add(record)
        loader.finish()
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except ImportError_:
        db.session.rollback()
        raise
    except (SQLAlchemyError, ValueError, KeyError) as exc:
        db.session.rollback()
        raise ImportError_(f"{type(exc).__name__}: {exc}") from exc
    return report
