"""The `parley` command (installed with the package): every `flask --app app` command, plus
`parley serve` (gunicorn) and `parley worker` (the mail worker), from any folder."""

from __future__ import annotations

import os
import shutil
import sys

import click
from flask import Flask
from flask.cli import FlaskGroup


def _app() -> Flask:
    from . import create_app
    from .config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        sys.exit(f"Parley cannot start: {exc}")


@click.group(cls=FlaskGroup, create_app=_app, add_version_option=False)
def main() -> None:
    """Parley: self-hosted comments. Settings come from PARLEY_* variables."""


@main.command("serve", context_settings={"ignore_unknown_options": True})
@click.option("-w", "--workers", default=4, show_default=True, help="gunicorn worker processes.")
@click.option("-b", "--bind", default="127.0.0.1:8000", show_default=True)
@click.argument("gunicorn_args", nargs=-1, type=click.UNPROCESSED)
def serve(workers: int, bind: str, gunicorn_args: tuple[str, ...]) -> None:
    """Serve Parley with gunicorn (put your TLS proxy in front); extra options go to it."""
    binary = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    if not os.path.exists(binary):
        binary = shutil.which("gunicorn") or binary
    command = [binary, "-w", str(workers), "-b", bind, *gunicorn_args, "widget:create_app()"]
    os.execv(binary, command)


@main.command("worker")
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
@click.pass_context
def worker(ctx: click.Context, once: bool, interval: float) -> None:
    """Send queued mail (the same as `mail worker`)."""
    from .cli import mail_worker

    ctx.invoke(mail_worker, once=once, interval=interval)
