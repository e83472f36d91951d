"""one house: drop people.language; outbox.not_before; unreachable_chats

- people.language goes (replies are Chinese only; the setting did nothing);
- outbox.not_before: a row a platform throttled (retry-after) or that failed for now waits
  until then, so the relay neither hammers the platform nor counts a wait as a failure;
- unreachable_chats: group chats the platform says the bot can no longer post in.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both backends (SQLite ≥ 3.35): Alembic's batch mode would rebuild
    # the tables on SQLite and lose the data-map triggers on them.
    op.execute("ALTER TABLE people DROP COLUMN language")
    op.add_column('outbox', sa.Column('not_before', storage.models.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_outbox_not_before', 'outbox', ['not_before'])
    op.create_table('unreachable_chats',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=128), nullable=False),
    sa.Column('since', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('platform', 'address')
    )


def downgrade() -> None:
    op.drop_table('unreachable_chats')
    op.drop_index('ix_outbox_not_before', 'outbox')
    op.execute("ALTER TABLE outbox DROP COLUMN not_before")
    op.add_column('people', sa.Column('language', sa.String(length=16), nullable=False, server_default='zh_CN'))
