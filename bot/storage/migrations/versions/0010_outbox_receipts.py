"""Outbox receipts: the channel's ids of the messages an outbox item was sent as (WhatsApp's wamids), so
that a status webhook (delivered, read, failed) finds the item; ``outbox.delivery`` keeps the latest.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as table:
        table.add_column(sa.Column("delivery", sa.String(16)))
    op.create_table(
        "outbox_receipts",
        sa.Column("provider_id", sa.String(128), primary_key=True),
        sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("outbox_receipts")
    with op.batch_alter_table("outbox") as table:
        table.drop_column("delivery")
