"""a thread its owner named: page loads no longer replace its title

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases: a SQLite rebuild of `threads` would run into the
    # foreign keys of its comments and subscriptions.
    op.add_column(
        'threads',
        sa.Column('named_by_owner', sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    op.execute('ALTER TABLE threads DROP COLUMN named_by_owner')  # SQLite 3.35+, PostgreSQL
