"""reply depth kept at write time; admin session generation

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 02:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('depth', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False)
        )
    # Depth of existing replies, one level per pass (top-level comments stay 0).
    for level in range(1, 1000):
        changed = op.get_bind().execute(
            sa.text(
                "UPDATE comments SET depth = :level WHERE parent_id IN "
                "(SELECT id FROM comments WHERE depth = :above AND "
                "(:above > 0 OR parent_id IS NULL)) AND depth = 0"
            ),
            {"level": level, "above": level - 1},
        ).rowcount
        if not changed:
            break


def downgrade():
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('depth')
