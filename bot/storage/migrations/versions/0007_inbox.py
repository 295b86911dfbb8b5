"""Inbox: updates stored before they are acknowledged to the channel, handled from the table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("update_id", sa.String(64), nullable=False),
        sa.Column("chat", sa.String(128)),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("channel", "update_id", name="uq_inbox_update"),
    )
    op.create_index("ix_inbox_pending", "inbox", ["handled_at", "id"])
    op.create_index("ix_inbox_chat", "inbox", ["chat"])


def downgrade() -> None:
    op.drop_index("ix_inbox_chat", "inbox")
    op.drop_index("ix_inbox_pending", "inbox")
    op.drop_table("inbox")
