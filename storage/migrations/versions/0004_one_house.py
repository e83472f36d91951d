"""one house: drop people.language (replies are Chinese only; the setting did nothing)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain DROP COLUMN on both backends (SQLite ≥ 3.35): Alembic's batch mode would rebuild
    # the people table on SQLite and lose the data-map triggers on it.
    op.execute("ALTER TABLE people DROP COLUMN language")


def downgrade() -> None:
    op.add_column('people', sa.Column('language', sa.String(length=16), nullable=False, server_default='zh_CN'))
