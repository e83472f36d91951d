"""the installation's first run; corrections of verified activity hours (issue 14)

- installation: one row, when this installation first ran. Scheduled jobs owe nothing that fell
  due before it, so a new installation does not send last month's report or last week's digest
  (all zeros) for periods before it existed. A database that already has a history is stamped
  here with its earliest record — so an upgraded installation still gets everything it was owed
  (its latest report within the grace, a moral day missed while it was down…). An empty
  database gets no row: its first scheduler run writes it (a `db upgrade` long before the first
  start must not count as running);
- hours_corrections: a captain's correction of hours already verified; the hours ledger gets the
  difference as a row of its own, never an edit of the credited one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Everything that proves the installation was already in use, with when. MIN skips NULLs, and
# the values are copied as stored, so SQLite's text timestamps stay in their own format. The
# big append-only tables give their first row by id (the primary key's first entry), not a scan.
_EARLIEST_RECORD = """
INSERT INTO installation (id, first_run_at)
SELECT 1, earliest FROM (
    SELECT MIN(t) AS earliest FROM (
        SELECT MIN(created_at) AS t FROM people
        UNION ALL SELECT MIN(fired_at) FROM schedule_firings
        UNION ALL SELECT MIN(at) FROM audit_log
        UNION ALL SELECT t FROM (SELECT created_at AS t FROM tasks ORDER BY id LIMIT 1) AS first_task
        UNION ALL SELECT t FROM (SELECT received_at AS t FROM inbox ORDER BY id LIMIT 1) AS first_in
        UNION ALL SELECT t FROM (SELECT created_at AS t FROM outbox ORDER BY id LIMIT 1) AS first_out
    ) AS records
) AS history
WHERE earliest IS NOT NULL
"""


def upgrade() -> None:
    op.create_table('installation',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('first_run_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute(_EARLIEST_RECORD)
    op.create_table('hours_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signup_id', sa.Integer(), nullable=False),
    sa.Column('from_hours', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('to_hours', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('points', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('corrected_by_id', sa.Integer(), nullable=True),
    sa.Column('corrected_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['corrected_by_id'], ['people.id'], ),
    sa.ForeignKeyConstraint(['signup_id'], ['activity_signups.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_hours_corrections_signup_id', 'hours_corrections', ['signup_id'])


def downgrade() -> None:
    op.drop_index('ix_hours_corrections_signup_id', 'hours_corrections')
    op.drop_table('hours_corrections')
    op.drop_table('installation')
