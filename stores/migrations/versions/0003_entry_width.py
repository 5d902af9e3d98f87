"""calls.entry: 40 characters instead of 8, for the ids of tenants' further entries (e.g. krankmeldung-schulen)

Revision ID: 0003
Revises: 0002

SQLite does not enforce a VARCHAR's length: only PostgreSQL's column changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("calls", "entry", type_=sa.String(40), existing_type=sa.String(8), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("calls", "entry", type_=sa.String(8), existing_type=sa.String(40), existing_nullable=False)
