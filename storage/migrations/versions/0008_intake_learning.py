"""intake: labelled examples the classifier learns from (issue 11)

- intake_examples: each request whose category a person confirmed, chose or corrected;
- intake_models: the classifier trained on them (nightly, or `xinfeng intake retrain`), as
  bytes, so that every worker uses the same one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('intake_examples',
    sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('guessed', sa.String(length=16), nullable=True),
    sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_intake_examples_created_at', 'intake_examples', ['created_at'])
    op.create_table('intake_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trained_at', storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('examples', sa.Integer(), nullable=False),
    sa.Column('last_example_id', _BIG_ID, nullable=True),
    sa.Column('blend', sa.Float(), nullable=False),
    sa.Column('lexicon_accuracy', sa.Float(), nullable=True),
    sa.Column('blended_accuracy', sa.Float(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('intake_models')
    op.drop_index('ix_intake_examples_created_at', 'intake_examples')
    op.drop_table('intake_examples')
