"""consent per subscription, link generations, confirmation caps, notify on publication

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 02:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(
            sa.Column('confirmations_sent', sa.Integer(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify', sa.String(length=16), server_default='', nullable=False))
    # Subscriptions of addresses confirmed before consent became per subscription keep
    # getting mail: their owner confirmed when a confirmation meant "this address".
    op.execute(
        "UPDATE subscriptions SET confirmed_at = (SELECT confirmed_at FROM addresses "
        "WHERE addresses.id = subscriptions.address_id) WHERE active"
    )


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('notify')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_column('confirmations_sent')
        batch_op.drop_column('generation')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('confirmed_at')
