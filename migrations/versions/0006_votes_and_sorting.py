"""votes, a maintained score per comment, per-site switch

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 02:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'votes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('voter_hash', sa.String(length=64), nullable=False),
        sa.Column('ip_hash', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_votes_comment_id_comments'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_votes')),
        sa.UniqueConstraint('comment_id', 'voter_hash', name=op.f('uq_votes_comment_id_voter_hash')),
    )
    op.create_index('ix_votes_comment_ip', 'votes', ['comment_id', 'ip_hash'], unique=False)
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(
            'ix_comments_thread_top', ['thread_id', 'parent_id', 'status', 'score', 'created_at', 'id'],
            unique=False,
        )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('votes', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('votes')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_thread_top')
        batch_op.drop_column('score')
    op.drop_index('ix_votes_comment_ip', table_name='votes')
    op.drop_table('votes')
