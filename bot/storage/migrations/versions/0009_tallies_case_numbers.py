"""Anonymous tallies that outlive the women they count, and case numbers that never repeat.

``tallies``: answers per entry and language, cases per trigger and language (as closed), folded in by
/forget and the retention purge just before the rows they count are deleted (no user, no text, a
day at most). ``cases`` on SQLite is made AUTOINCREMENT, so that a deleted case's number is never
given again (PostgreSQL's sequence never reuses one). Numbers of cases deleted before this
migration are known only from the desk's notices of the last day (outbox recipients "case:<n>"):
the counter starts above those too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tallies",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("what", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("language", sa.String(8), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        _recreate_cases(autoincrement=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate_cases(autoincrement=False)
    op.drop_table("tallies")


def _recreate_cases(autoincrement: bool) -> None:
    """Copy the cases into a new table. Dropping the old one deletes its rows first (foreign keys are
    on, and cannot be switched off inside the migration's transaction), and with them, ON DELETE
    CASCADE, the outbox rows of every case: those are kept aside and put back."""
    op.execute("CREATE TEMP TABLE outbox_of_cases AS SELECT * FROM outbox WHERE case_id IS NOT NULL")
    with op.batch_alter_table("cases", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass
    op.execute("INSERT INTO outbox SELECT * FROM temp.outbox_of_cases WHERE id NOT IN (SELECT id FROM outbox)")
    op.execute("DROP TABLE temp.outbox_of_cases")
    if autoincrement:
        _start_above_forgotten_cases()


def _start_above_forgotten_cases() -> None:
    """The counter starts above a case deleted before this migration that the desk was told of."""
    bind = op.get_bind()
    told = bind.execute(sa.text("SELECT max(CAST(substr(recipient, 6) AS INTEGER)) FROM outbox WHERE recipient LIKE 'case:%'")).scalar()
    if not told:
        return
    if bind.execute(sa.text("SELECT count(*) FROM sqlite_sequence WHERE name = 'cases'")).scalar():
        bind.execute(sa.text("UPDATE sqlite_sequence SET seq = max(seq, :told) WHERE name = 'cases'"), {"told": told})
    else:
        bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('cases', :told)"), {"told": told})
