"""Cases: the kind of emergency of an urgent case, and when the desk was last reminded of it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as table:
        table.add_column(sa.Column("emergency", sa.String(32)))
        table.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("cases") as table:
        table.drop_column("reminded_at")
        table.drop_column("emergency")
