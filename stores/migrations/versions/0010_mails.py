"""mails and callbacks.attempt_node: each mail's state around its SMTP dialogue, so that it is sent once
(promises.outbox); the node whose Asterisk has a callback attempt, so that only that node's worker, which can ask
its Asterisk, decides that the attempt has ended (promises.dialling)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mails",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("message_id", sa.String(250), nullable=False),
        sa.Column("recipient", sa.String(120), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("token", sa.String(80), nullable=False),
        sa.Column("carries", sa.Text, nullable=False),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("reply", sa.String(250), nullable=False),
    )
    with op.batch_alter_table("callbacks") as table:
        table.add_column(sa.Column("attempt_node", sa.String(80), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("callbacks") as table:
        table.drop_column("attempt_node")
    op.drop_table("mails")
