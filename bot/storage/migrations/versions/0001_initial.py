"""Users, conversation state, message log, processed inbound message ids.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_ref", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("consent_at", TS),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.UniqueConstraint("channel", "channel_ref", name="uq_users_channel_ref"),
    )
    op.create_table(
        "conversation_states",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("key", sa.String(64)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_messages_user_created", "messages", ["user_id", "created_at"])
    op.create_table(
        "processed_messages",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("message_id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_processed_messages_user_id", "processed_messages", ["user_id"])


def downgrade() -> None:
    op.drop_table("processed_messages")
    op.drop_table("messages")
    op.drop_table("conversation_states")
    op.drop_table("users")
