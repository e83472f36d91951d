"""WeCom customer groups (issue 17)

- wecom_customer_groups: the customer groups WeCom lists (name, owner, member count);
- wecom_group_tasks / wecom_group_task_targets: group-message tasks per captain and their groups;
- wecom_group_quota: messages each group took per quota period.
A team's binding to a customer group is a `team_groups` row with platform `wecom_customer`.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wecom_customer_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id')
    )
    op.create_index(op.f('ix_wecom_customer_groups_owner'), 'wecom_customer_groups', ['owner'], unique=False)
    op.create_table('wecom_group_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('msgid', sa.String(length=128), nullable=True),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remind_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deadline', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('msgid')
    )
    op.create_index(op.f('ix_wecom_group_tasks_sender'), 'wecom_group_tasks', ['sender'], unique=False)
    op.create_index(op.f('ix_wecom_group_tasks_status'), 'wecom_group_tasks', ['status'], unique=False)
    op.create_index(op.f('ix_wecom_group_tasks_deadline'), 'wecom_group_tasks', ['deadline'], unique=False)
    op.create_table('wecom_group_task_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.String(length=128), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sent_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['wecom_group_tasks.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('outbox_id')
    )
    op.create_index(op.f('ix_wecom_group_task_targets_task_id'), 'wecom_group_task_targets', ['task_id'],
                    unique=False)
    op.create_table('wecom_group_quota',
    sa.Column('chat_id', sa.String(length=128), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'period')
    )


def downgrade() -> None:
    op.drop_table('wecom_group_quota')
    op.drop_index(op.f('ix_wecom_group_task_targets_task_id'), table_name='wecom_group_task_targets')
    op.drop_table('wecom_group_task_targets')
    op.drop_index(op.f('ix_wecom_group_tasks_deadline'), table_name='wecom_group_tasks')
    op.drop_index(op.f('ix_wecom_group_tasks_status'), table_name='wecom_group_tasks')
    op.drop_index(op.f('ix_wecom_group_tasks_sender'), table_name='wecom_group_tasks')
    op.drop_table('wecom_group_tasks')
    op.drop_index(op.f('ix_wecom_customer_groups_owner'), table_name='wecom_customer_groups')
    op.drop_table('wecom_customer_groups')
