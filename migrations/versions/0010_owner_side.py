"""the owner's side: notifications, digests, auto-close, roles, webhooks, site moderators

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 04:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # notify_owner was a yes/no for held comments: it becomes all | held | none.
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_mode', sa.String(length=8), server_default='held', nullable=False))
        batch_op.add_column(sa.Column('owner_digest', sa.String(length=8), server_default='off', nullable=False))
        batch_op.add_column(sa.Column('approval_mail', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('close_after_days', sa.Integer(), nullable=True))
    sites = sa.table('sites', sa.column('notify_owner', sa.Boolean()), sa.column('notify_mode', sa.String()))
    op.execute(sites.update().where(sites.c.notify_owner == sa.false()).values(notify_mode='none'))
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('notify_owner')
        batch_op.alter_column('notify_mode', new_column_name='notify_owner', existing_type=sa.String(length=8), existing_server_default='held', existing_nullable=False)

    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keep_open', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=True))
    with op.batch_alter_table('blocks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_enc', sa.Text(), nullable=True))
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), server_default='owner', nullable=False))
        batch_op.add_column(sa.Column('name', sa.String(length=80), server_default='', nullable=False))

    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('url_enc', sa.Text(), nullable=False),
        sa.Column('format', sa.String(length=16), nullable=False),
        sa.Column('events', sa.Text(), nullable=False),
        sa.Column('secret_enc', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_webhooks_site_id_sites'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks')),
    )
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhooks_site_id'), ['site_id'], unique=False)

    op.create_table(
        'admin_sites',
        sa.Column('admin_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['admin_id'], ['admin_users.id'], name=op.f('fk_admin_sites_admin_id_admin_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_admin_sites_site_id_sites'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('admin_id', 'site_id', name=op.f('pk_admin_sites')),
    )

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('event', sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_deliveries_webhook_id_webhooks'), 'webhooks', ['webhook_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_deliveries_webhook_id'), ['webhook_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_deliveries_webhook_id_comment_id_event'), ['webhook_id', 'comment_id', 'event'])


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_deliveries_webhook_id_comment_id_event'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_deliveries_webhook_id'))
        batch_op.drop_constraint(batch_op.f('fk_deliveries_webhook_id_webhooks'), type_='foreignkey')
        batch_op.drop_column('event')
        batch_op.drop_column('webhook_id')
    op.drop_table('admin_sites')
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhooks_site_id'))
    op.drop_table('webhooks')
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.drop_column('name')
        batch_op.drop_column('role')
    with op.batch_alter_table('blocks', schema=None) as batch_op:
        batch_op.drop_column('email_enc')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('role')
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_column('published_at')
        batch_op.drop_column('keep_open')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_flag', sa.Boolean(), server_default=sa.true(), nullable=False))
    sites = sa.table('sites', sa.column('notify_owner', sa.String()), sa.column('notify_flag', sa.Boolean()))
    op.execute(sites.update().where(sites.c.notify_owner == 'none').values(notify_flag=False))
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('notify_owner')
        batch_op.drop_column('close_after_days')
        batch_op.drop_column('approval_mail')
        batch_op.drop_column('owner_digest')
        batch_op.alter_column('notify_flag', new_column_name='notify_owner', existing_type=sa.Boolean(), existing_nullable=False)
