"""trust: link requests, check-in attempts (issue 12)

- link_requests: a chat account asking to act as a roster person (加入 <邀请码> <姓名>), decided
  once by a captain's or admin's 同意/拒绝 or proved by the one-time code sent to the person's
  account already linked;
- checkin_attempts: wrong check-in codes per person per activity, and the lock after five.

Invite-code rotation (换邀请码) needs no schema: it rewrites teams.invite_code.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('link_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('requester_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=True),
    sa.Column('code_tries', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ),
    sa.ForeignKeyConstraint(['requester_id'], ['people.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_link_requests_person_id', 'link_requests', ['person_id'])
    op.create_index('ix_link_requests_account', 'link_requests', ['platform', 'external_id', 'status'])
    op.create_table('checkin_attempts',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('locked_until', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_at', storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], ),
    sa.ForeignKeyConstraint(['volunteer_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('activity_id', 'volunteer_id')
    )


def downgrade() -> None:
    op.drop_table('checkin_attempts')
    op.drop_index('ix_link_requests_account', 'link_requests')
    op.drop_index('ix_link_requests_person_id', 'link_requests')
    op.drop_table('link_requests')
