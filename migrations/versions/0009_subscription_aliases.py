"""the links of a subscription merged into another keep working

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 04:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'subscription_aliases',
        sa.Column('old_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_aliases_subscription_id_subscriptions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('old_id', name=op.f('pk_subscription_aliases')),
    )


def downgrade():
    op.drop_table('subscription_aliases')
