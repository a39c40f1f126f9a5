"""import keys of erased comments: importing a file again does not bring them back

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_tombstones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('import_key', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['site_id'], ['sites.id'],
            name=op.f('fk_import_tombstones_site_id_sites'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_tombstones')),
        sa.UniqueConstraint(
            'site_id', 'import_key', name=op.f('uq_import_tombstones_site_id_import_key')
        ),
    )


def downgrade():
    op.drop_table('import_tombstones')
