"""message_deliveries: which voicemail messages of an intake went out in which batch (the delivery log)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_deliveries",
        sa.Column("msg_id", sa.String(80), primary_key=True),  # app_voicemail's msg_id: one delivery per message and recipient
        sa.Column("recipient", sa.String(120), primary_key=True),
        sa.Column("intake", sa.String(40), nullable=False),
        sa.Column("recorded", sa.Float, nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("fields", sa.String(400), nullable=False),
        sa.Column("duration", sa.Integer, nullable=False),
        sa.Column("batch", sa.Float, nullable=False),
        sa.Column("delivered", sa.Float, nullable=False),
    )
    op.create_index("message_deliveries_intake", "message_deliveries", ["intake", "delivered"])


def downgrade() -> None:
    op.drop_table("message_deliveries")
