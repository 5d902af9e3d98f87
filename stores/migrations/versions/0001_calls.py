"""calls: one record per call

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("uniqueid", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(40), nullable=False),
        sa.Column("entry", sa.String(8), nullable=False),
        sa.Column("dialled", sa.String(32), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("queues", sa.String(400), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("arrived", sa.Float, nullable=False),
        sa.Column("queued", sa.Float),
        sa.Column("answered", sa.Float),
        sa.Column("ended", sa.Float, nullable=False),
        sa.Column("wait", sa.Float),
        sa.Column("talk", sa.Float),
        sa.Column("agent", sa.String(80), nullable=False),
    )
    op.create_index("calls_arrived", "calls", ["arrived"])
    op.create_index("calls_tenant_arrived", "calls", ["tenant", "arrived"])


def downgrade() -> None:
    op.drop_table("calls")
