"""data map: corrected hours count where the activity was held; role grants found by unit

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:40:00
"""

from __future__ import annotations

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The data map's triggers, as today's code writes them (an hours correction counts at its
    # activity's unit), installed or replaced, and the aggregates recounted to agree with them.
    from storage.datamap.recount import install_aggregates_sync

    install_aggregates_sync(op.get_bind())
    # Escalation asks "who administers this unit?" for every task it moves.
    op.create_index('ix_role_grants_org_unit_id', 'role_grants', ['org_unit_id'])


def downgrade() -> None:
    op.drop_index('ix_role_grants_org_unit_id', 'role_grants')
