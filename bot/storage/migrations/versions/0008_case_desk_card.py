"""Cases: the desk's message ids of the case's card, so that /forget can replace it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as table:
        table.add_column(sa.Column("desk_card", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("cases") as table:
        table.drop_column("desk_card")
