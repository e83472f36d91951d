"""Reserved for onboarding in chat, and released empty: kept so that every database upgrades on.

Revisions 0010–0013 went out as empty steps while the work they were reserved for was under
way, so a database may be stamped at any of them. A released revision is never rewritten: they
stay empty, and the schema that work needed is in 0014–0016, which every database runs after them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: see the module's docstring."""


def downgrade() -> None:
    """Nothing: see the module's docstring."""
