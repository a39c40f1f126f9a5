"""the demo site only with PARLEY_DEMO=on: an unused `default` site is removed; a counts
version per site

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 03:10:00

0002 created a `default` site allowing the demo page's origins (127.0.0.1, localhost) on
every install. A production install (PARLEY_DEMO unset) loses it here when it holds no
comment; one that holds comments is someone's real site and stays. With PARLEY_DEMO=on
(`make run`) it is kept, or put back.

sites.counts_version moves with every count of the site's threads: cached counts answers
are keyed by it.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _demo_on():
    try:
        from flask import current_app

        value = current_app.config.get("DEMO", "off")
    except (ImportError, RuntimeError):
        import os

        value = os.environ.get("PARLEY_DEMO", "off")
    return str(value).strip().lower() not in {"off", "0", "false", "no", ""}


def _demo_origins():
    origins = ["http://127.0.0.1:5000", "http://localhost:5000"]
    try:
        from urllib.parse import urlsplit

        from flask import current_app

        public = urlsplit(current_app.config["PUBLIC_URL"])
        origins.insert(0, f"{public.scheme}://{public.netloc}".lower())
    except (ImportError, RuntimeError, KeyError):
        pass
    return " ".join(dict.fromkeys(origins))


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('counts_version', sa.Integer(), server_default='0', nullable=False)
        )
    bind = op.get_bind()
    site = bind.execute(sa.text("SELECT id FROM sites WHERE name = 'default'")).first()
    if _demo_on():
        if site is None:
            bind.execute(
                sa.text(
                    "INSERT INTO sites (name, origins, moderation, notify_owner, max_links, "
                    "spam_threshold, spam_docs, ham_docs, created_at, disabled_checks, votes) "
                    "VALUES ('default', :origins, 'first-time', :yes, 3, 0.9, 0, 0, :now, '', :yes)"
                ),
                {
                    "origins": _demo_origins(),
                    "yes": True,
                    "now": datetime.now(timezone.utc).replace(tzinfo=None),
                },
            )
        return
    if site is None:
        return
    comments = bind.execute(
        sa.text(
            "SELECT COUNT(*) FROM comments JOIN threads ON threads.id = comments.thread_id "
            "WHERE threads.site_id = :site"
        ),
        {"site": site.id},
    ).scalar()
    if comments:
        return
    # Nothing of value: its threads (at most subscription requests) and their rows go too.
    threads = "SELECT id FROM threads WHERE site_id = :site"
    subscriptions = f"SELECT id FROM subscriptions WHERE thread_id IN ({threads})"
    for statement in (
        f"DELETE FROM deliveries WHERE site_id = :site OR subscription_id IN ({subscriptions})",
        f"DELETE FROM subscriptions WHERE thread_id IN ({threads})",
        "DELETE FROM moderation_events WHERE site_id = :site",
        "DELETE FROM blocks WHERE site_id = :site",
        "DELETE FROM spam_tokens WHERE site_id = :site",
        "DELETE FROM threads WHERE site_id = :site",
        "DELETE FROM sites WHERE id = :site",
    ):
        bind.execute(sa.text(statement), {"site": site.id})


def downgrade():
    # The demo site is not put back: 0002's downgrade removes it if it is there.
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('counts_version')
