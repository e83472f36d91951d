"""onboarding in chat (issue 13)

- chat_menus: the command menu each chat was given of its own (Telegram's per-chat scope), as a
  fingerprint of its commands, so the channel sets a person's menu again only when their roles
  (and so their commands) changed.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_menus',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=128), nullable=False),
    sa.Column('menu', sa.String(length=64), nullable=False),
    sa.Column('set_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'chat_id')
    )


def downgrade() -> None:
    op.drop_table('chat_menus')
