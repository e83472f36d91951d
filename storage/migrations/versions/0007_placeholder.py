"""activities moved or cancelled, hours corrections, the installation's first run (issue 14)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
