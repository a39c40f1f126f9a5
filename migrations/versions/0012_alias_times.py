"""subscription aliases know when: which links they may carry over

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 09:00:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _create(columns):
    return op.create_table(
        'subscription_aliases',
        *columns,
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_aliases_subscription_id_subscriptions'), ondelete='CASCADE'),
    )


def upgrade():
    # SQLite gives a merged-away subscription's id again: one id can have several aliases,
    # each for the links made while its subscription lived (from old_created_at to the
    # merge, created_at). Aliases from before carry over every link made until now.
    rows = op.get_bind().execute(sa.text('SELECT old_id, subscription_id FROM subscription_aliases')).all()
    op.drop_table('subscription_aliases')
    table = _create([
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('old_id', sa.Integer(), nullable=False),
        sa.Column('old_created_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_aliases')),
    ])
    op.create_index(op.f('ix_subscription_aliases_old_id'), 'subscription_aliases', ['old_id'])
    now = datetime.now(UTC).replace(tzinfo=None)
    if rows:
        op.bulk_insert(table, [
            {'old_id': old, 'subscription_id': kept, 'old_created_at': None, 'created_at': now}
            for old, kept in rows
        ])


def downgrade():
    rows = op.get_bind().execute(sa.text(
        'SELECT old_id, subscription_id FROM subscription_aliases ORDER BY created_at'
    )).all()
    op.drop_index(op.f('ix_subscription_aliases_old_id'), table_name='subscription_aliases')
    op.drop_table('subscription_aliases')
    table = _create([
        sa.Column('old_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('old_id', name=op.f('pk_subscription_aliases')),
    ])
    latest = {old: kept for old, kept in rows}  # one alias per id, the newest
    if latest:
        op.bulk_insert(table, [{'old_id': old, 'subscription_id': kept} for old, kept in latest.items()])
