"""delivery pipeline: outbox leases, the workers holding them, indexes for the sweeper (issue 15)

- delivery_workers: each running process that sends, with its heartbeat (the lease on the rows it
  claimed) and the journal where it notes its sends;
- outbox.claimed_by: the worker sending a row; ix_outbox_chat_unsent: the unsent rows of a chat;
- ix_inbox_unhandled: what the inbox sweeper looks for (stored, not yet handled);
- the data map's triggers replaced (a unit moved waits for the writers already counting in its
  subtree and holds new ones back until it is done) and the aggregates recounted once.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_UNSENT = sa.text("status IN ('pending', 'sending')")
_UNHANDLED = sa.text("status = 'received'")


def upgrade() -> None:
    op.create_table('delivery_workers',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('started_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('journal', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.add_column('outbox', sa.Column('claimed_by', sa.BigInteger(), nullable=True))
    op.create_index('ix_outbox_chat_unsent', 'outbox', ['platform', 'address', 'id'],
                    postgresql_where=_UNSENT, sqlite_where=_UNSENT)
    op.create_index('ix_inbox_unhandled', 'inbox', ['platform', 'id'],
                    postgresql_where=_UNHANDLED, sqlite_where=_UNHANDLED)
    from storage.datamap.recount import install_aggregates_sync

    install_aggregates_sync(op.get_bind())


def downgrade() -> None:
    op.drop_index('ix_inbox_unhandled', 'inbox')
    op.drop_index('ix_outbox_chat_unsent', 'outbox')
    op.execute("ALTER TABLE outbox DROP COLUMN claimed_by")
    op.drop_table('delivery_workers')
