"""the default site, allowing the demo page's origin

Revision ID: 0002
Revises: 0001
"""
from datetime import datetime, timezone
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _demo_origins():
    origins = ["http://127.0.0.1:5000", "http://localhost:5000"]
    try:
        from flask import current_app

        public = urlsplit(current_app.config["PUBLIC_URL"])
        origins.insert(0, f"{public.scheme}://{public.netloc}".lower())
    except (ImportError, RuntimeError, KeyError):
        pass
    return " ".join(dict.fromkeys(origins))


def upgrade():
    sites = sa.table(
        "sites",
        sa.column("name", sa.String), sa.column("origins", sa.Text),
        sa.column("moderation", sa.String), sa.column("notify_owner", sa.Boolean),
        sa.column("max_links", sa.Integer), sa.column("spam_threshold", sa.Float),
        sa.column("spam_docs", sa.Integer), sa.column("ham_docs", sa.Integer),
        sa.column("created_at", sa.DateTime),
    )
    exists = op.get_bind().execute(sa.text("SELECT 1 FROM sites WHERE name = 'default'")).first()
    if exists is None:
        op.bulk_insert(sites, [{
            "name": "default", "origins": _demo_origins(), "moderation": "first-time",
            "notify_owner": True, "max_links": 3, "spam_threshold": 0.9, "spam_docs": 0,
            "ham_docs": 0, "created_at": datetime.now(timezone.utc).replace(tzinfo=None),
        }])


def downgrade():
    op.execute("DELETE FROM sites WHERE name = 'default'")
