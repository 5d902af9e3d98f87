"""web sessions and log-in failures: lotse web's sessions end on the server, and guessing passwords is limited,
the same for every node on the database (web.sessions, web.logins)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),  # the SHA-256 of the session's token, never the token
        sa.Column("user", sa.String(80), nullable=False),
        sa.Column("password", sa.String(64), nullable=False),  # a fingerprint of the password hash it was opened with
        sa.Column("opened", sa.Float, nullable=False),
        sa.Column("seen", sa.Float, nullable=False),
    )
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(120), primary_key=True),  # 'user:<id>' or 'address:<ip>'
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last", sa.Float, nullable=False),
        sa.Column("locked_until", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("web_sessions")
