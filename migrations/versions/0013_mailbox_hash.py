"""one mailbox behind many spellings: a keyed hash of an address without its +tag

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 11:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Filled as addresses are made or subscribe again (the key that hashes it is not the
    # migration's to read); an address without one counts on its own, as before. Plain
    # ALTER TABLE on both databases: a SQLite table rebuild would drop `addresses` under
    # its subscriptions' foreign keys.
    op.add_column('addresses', sa.Column('mailbox_hash', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_addresses_mailbox_hash'), 'addresses', ['mailbox_hash'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_addresses_mailbox_hash'), table_name='addresses')
    op.execute('ALTER TABLE addresses DROP COLUMN mailbox_hash')  # SQLite 3.35+, PostgreSQL
