"""readers choose their mail: a mode per subscription, a pause per address, digests

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 03:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=16), server_default='all', nullable=False))
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('daily_mail_cap', sa.Integer(), server_default='10', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('daily_mail_cap')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_column('paused_until')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('mode')
