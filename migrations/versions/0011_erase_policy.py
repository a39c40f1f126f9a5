"""per-site erase policy: a reader's erasure leaves "[deleted]" or removes their comments

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # Existing sites keep what erasure did so far: "[deleted]" placeholders.
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erase_policy', sa.String(length=16), server_default='placeholder', nullable=False))


def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('erase_policy')
