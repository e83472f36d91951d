"""org units: duty phone and administrative division code (issue 13 import, issue 14 emergencies, issue 16 map)

- org_units.duty_phone (值班电话): the unit's duty line, imported from the roster, for emergencies;
- org_units.division_code (行政区划代码): the administrative division the unit serves, for the data map.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both backends: batch mode would rebuild org_units on SQLite and lose
    # the data-map triggers on it.
    op.add_column('org_units', sa.Column('duty_phone', sa.String(length=32), nullable=True))
    op.add_column('org_units', sa.Column('division_code', sa.String(length=12), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE org_units DROP COLUMN division_code")
    op.execute("ALTER TABLE org_units DROP COLUMN duty_phone")
