"""callbacks, tickets and their history: the promises lotse keeps (promises/store.py)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.String(64), primary_key=True),  # the caller's Asterisk unique id: one request per call
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("tenant", sa.String(40), nullable=False),
        sa.Column("entry", sa.String(40), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("queue", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("joined", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("not_before", sa.Float, nullable=False),
        sa.Column("attempt_id", sa.String(80), nullable=False),
        sa.Column("attempt_started", sa.Float),
        sa.Column("last_result", sa.String(24), nullable=False),
        sa.Column("reached", sa.Float),
        sa.Column("updated", sa.Float, nullable=False),
    )
    op.create_index("callbacks_status", "callbacks", ["status"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request", sa.String(80), nullable=False, unique=True),  # where it came from: taken once
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("due", sa.Float),
        sa.Column("tenant", sa.String(40), nullable=False),
        sa.Column("entry", sa.String(40), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(80), nullable=False),
        sa.Column("closed", sa.Float),
        sa.Column("notified", sa.Boolean, nullable=False),
        sa.Column("reminded", sa.Boolean, nullable=False),
    )
    op.create_index("tickets_status_due", "tickets", ["status", "due"])
    op.create_table(
        "ticket_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("note", sa.String(400), nullable=False),
    )
    op.create_index("ticket_history_ticket", "ticket_history", ["ticket"])


def downgrade() -> None:
    op.drop_table("ticket_history")
    op.drop_table("tickets")
    op.drop_table("callbacks")
