"""calls.slot and calls.queue: the local 15-minute slot and the first queue, so that reports aggregate in SQL

Revision ID: 0002
Revises: 0001

Rows written before this revision are given their slot in Europe/Berlin
(or $LOTSE_TIMEZONE, the center's time zone, if set when migrating).
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("slot", sa.String(16), nullable=False, server_default=""))
    op.add_column("calls", sa.Column("queue", sa.String(40), nullable=False, server_default=""))
    op.create_index("calls_slot", "calls", ["slot"])
    tz = ZoneInfo(os.environ.get("LOTSE_TIMEZONE", "Europe/Berlin"))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT uniqueid, arrived, queues FROM calls")).all()
    for uniqueid, arrived, queues in rows:
        local = datetime.fromtimestamp(arrived, tz)
        slot = local.replace(minute=local.minute - local.minute % 15).strftime("%Y-%m-%d %H:%M")
        update = sa.text("UPDATE calls SET slot = :slot, queue = :queue WHERE uniqueid = :id")
        connection.execute(update, {"slot": slot, "queue": queues.split(",")[0], "id": uniqueid})


def downgrade() -> None:
    op.drop_index("calls_slot", "calls")
    op.drop_column("calls", "queue")
    op.drop_column("calls", "slot")
