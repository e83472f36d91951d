"""tasks: ownership, emergencies, orders for people without a phone (issue 14)

- tasks.emergency: an emergency's kinds ("medical,fire"), NULL for an ordinary request;
- tasks.owner_id / owner_unit_id: the admin who holds a task no team is offered, and the unit
  whose level it waits at, so every open task has someone who was told;
- tasks.stuck_since: when a task ran out of places to go (`xinfeng tasks stuck`);
- task_assignments.team_id indexed: routing counts each team's open tasks (bench/escalation.py);
- tasks that waited "submitted" with no window (the requests that vanished before) get one
  that has already run out, so the next escalation tick finds them an owner.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch mode): rebuilding `tasks` on SQLite would drop its data-map triggers.
    op.add_column('tasks', sa.Column('emergency', sa.String(length=32), nullable=True))
    # A column with its REFERENCES clause is one statement both backends take (Alembic would
    # add the constraint separately, which SQLite cannot).
    op.execute("ALTER TABLE tasks ADD COLUMN owner_id INTEGER REFERENCES people (id)")
    op.execute("ALTER TABLE tasks ADD COLUMN owner_unit_id INTEGER REFERENCES org_units (id)")
    op.add_column('tasks', sa.Column('stuck_since', storage.models.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_tasks_stuck_since', 'tasks', ['stuck_since'])
    # Routing counts each team's open tasks through its assignments: without this, a full scan per team.
    op.create_index('ix_task_assignments_team_id', 'task_assignments', ['team_id'])
    op.execute("UPDATE tasks SET escalate_at = created_at WHERE status = 'submitted' AND escalate_at IS NULL")


def downgrade() -> None:
    op.drop_index('ix_task_assignments_team_id', 'task_assignments')
    op.drop_index('ix_tasks_stuck_since', 'tasks')
    for column in ('stuck_since', 'owner_unit_id', 'owner_id', 'emergency'):
        op.execute(f"ALTER TABLE tasks DROP COLUMN {column}")
