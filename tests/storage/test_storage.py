"""The store on SQLite and PostgreSQL: schema, per-woman units of work, deletion, retention."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, inspect, select

from bot.errors import StorageError
from bot.messages import DESK
from bot.storage import Store
from bot.storage.cases import outbox_row
from bot.storage.engine import create_engine
from bot.storage.migrate import current_revision, upgrade
from bot.storage.models import Case, Outbox, User
from bot.storage.session import now


async def test_open_creates_schema_at_head(store: Store) -> None:
    assert await current_revision(store.engine) == "0010"
    async with store.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert {"users", "conversation_states", "messages", "processed_messages", "alembic_version"} <= tables


async def test_upgrade_twice_is_harmless(db_url: str) -> None:
    for _ in range(2):
        store = await Store.open(db_url)
        await store.close()
    store = await Store.open(db_url)
    assert await current_revision(store.engine) == "0010"
    await store.close()


async def test_user_session_creates_user_and_keeps_state(store: Store) -> None:
    async with store.user_session("test", "u1") as session:
        assert session.user.language is None
        session.set_language("ar")
        session.state["step"] = "ask-age"
    async with store.user_session("test", "u1") as session:
        assert session.user.language == "ar"
        assert session.state == {"step": "ask-age"}
    assert (await store.counts())["users"] == 1


async def test_same_reference_on_two_channels_is_two_women(store: Store) -> None:
    async with store.user_session("telegram", "42") as session:
        session.set_language("fa")
    async with store.user_session("whatsapp", "42") as session:
        assert session.user.language is None


async def test_processed_id_is_remembered(store: Store) -> None:
    async with store.user_session("test", "u1") as session:
        assert await session.mark_processed("test", "m1") is True
    async with store.user_session("test", "u1") as session:
        assert await session.mark_processed("test", "m1") is False
        assert await session.mark_processed("test", "m2") is True


async def test_forget_deletes_everything_about_her_and_nobody_else(store: Store) -> None:
    for ref in ("u1", "u2"):
        async with store.user_session("test", ref) as session:
            await session.mark_processed("test", f"{ref}-m1")
            session.log("in", "text", "my child is 2")
            session.state["x"] = 1
    async with store.user_session("test", "u1") as session:
        await session.forget()
    counts = await store.counts()
    assert counts == {"users": 1, "messages": 1, "processed": 1, "states": 1, "records": 0}
    assert await store.get_user("test", "u1") is None


async def test_error_inside_a_unit_of_work_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.user_session("test", "u1") as session:
            session.set_language("nl")
            session.log("in", "text", "hello")
            raise RuntimeError("boom")
    assert (await store.counts())["messages"] == 0


async def test_purge_removes_only_expired_data(store: Store) -> None:
    async with store.user_session("test", "u1") as session:
        session.log("in", "text", "old question")
        await session.mark_processed("test", "old")
    later = now() + timedelta(days=91)
    removed = await store.purge_expired(messages_days=90, inactive_user_days=365, at=later)
    assert removed == {"messages": 1, "processed": 1, "users": 0}
    removed = await store.purge_expired(messages_days=90, inactive_user_days=365, at=now() + timedelta(days=366))
    assert removed["users"] == 1


async def test_units_of_work_of_one_woman_never_interleave(db_url: str) -> None:
    """Two stores stand for two processes: the second waits for the first's commit."""
    first, second = await Store.open(db_url), await Store.open(db_url)
    events: list[str] = []
    entered = asyncio.Event()

    async def slow() -> None:
        async with first.user_session("test", "u1") as session:
            events.append("first in")
            entered.set()
            await asyncio.sleep(0.3)
            session.state["count"] = session.state.get("count", 0) + 1
            events.append("first out")

    async def fast() -> None:
        await entered.wait()
        async with second.user_session("test", "u1") as session:
            events.append("second in")
            session.state["count"] = session.state.get("count", 0) + 1

    await asyncio.gather(slow(), fast())
    async with first.user_session("test", "u1") as session:
        assert session.state["count"] == 2
    assert events == ["first in", "first out", "second in"]
    await first.close()
    await second.close()


async def test_file_that_is_not_a_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    original = b"these are my notes, not a database\n" * 200
    path.write_bytes(original)
    with pytest.raises(StorageError, match="is not a Wegwijs database.*left untouched"):
        await Store.open(f"sqlite+aiosqlite:///{path}")
    assert path.read_bytes() == original


async def test_unreachable_postgres_is_explained() -> None:
    with pytest.raises(StorageError, match="Cannot reach the database in DATABASE_URL"):
        await Store.open("postgresql+asyncpg://nobody:wrong@127.0.0.1:1/none")


async def test_forget_also_deletes_her_sign_ups(store: Store) -> None:
    async with store.user_session("test", "u1") as session:
        await session.store_record("signup", "job-shadowing", "ar", {"first_name": "Amina", "phone": "0470123456"})
    assert (await store.counts())["records"] == 1
    async with store.user_session("test", "u1") as session:
        await session.forget()
    assert (await store.counts())["records"] == 0


async def open_case(store: Store, ref: str) -> int:
    async with store.user_session("test", ref) as session:
        return (await session.open_case("en", None, "command", False)).id


async def test_case_numbers_never_repeat_after_forget(store: Store) -> None:
    first, highest = await open_case(store, "u1"), await open_case(store, "u2")
    async with store.user_session("test", "u2") as session:
        await session.forget()  # the highest number is gone with her
    assert await store.find_case(highest) is None
    assert await open_case(store, "u3") > highest > first


async def test_upgrade_to_0009_keeps_cases_and_their_outbox(db_url: str) -> None:
    engine = create_engine(db_url)
    await upgrade(engine, "0008")
    stamp = now()
    async with engine.begin() as connection:
        users = [(await connection.execute(insert(User).values(channel="test", channel_ref=ref, first_seen=stamp, last_seen=stamp,
                                                               active=True).returning(User.id))).scalar_one() for ref in ("u1", "u2")]
        cases = [(await connection.execute(insert(Case).values(user_id=user, status=status, language="ar", trigger="command", urgent=False,
                                                               opened_at=stamp, desk_thread=thread).returning(Case.id))).scalar_one()
                 for user, status, thread in ((users[0], "closed", "901"), (users[0], "waiting", "902"), (users[1], "closed", "903"))]
        await connection.execute(insert(Outbox), [outbox_row(cases[1], DESK, f"case:{cases[1]}", {"text": "her message"}),
                                                  outbox_row(None, DESK, f"case:{cases[2]}", {"key": "desk-she-forgot"})])
        await connection.execute(delete(Case).where(Case.id == cases[2]))  # the highest, deleted before the upgrade
    await engine.dispose()

    store = await Store.open(db_url)
    try:
        assert await current_revision(store.engine) == "0010"
        assert [(c.id, c.status, c.desk_thread) for c in await store.list_cases(("closed", "waiting"))] == [
            (cases[0], "closed", "901"), (cases[1], "waiting", "902")]
        async with store.engine.connect() as connection:
            assert set((await connection.execute(select(Outbox.case_id, Outbox.recipient))).all()) == {
                (cases[1], f"case:{cases[1]}"), (None, f"case:{cases[2]}")}
            indexes = await connection.run_sync(lambda sync: {i["name"]: i["unique"] for i in inspect(sync).get_indexes("cases")})
        assert indexes == {"ix_cases_user_id": False, "ix_cases_status_opened": False, "uq_cases_one_open": True}
        assert await open_case(store, "u2") > cases[2]
    finally:
        await store.close()


async def test_upgrade_starts_case_numbers_above_those_the_desk_was_told_were_deleted(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    await upgrade(engine, "0008")
    async with engine.begin() as connection:  # /forget deleted case 7 yesterday; its notice to the desk is kept a day
        await connection.execute(insert(Outbox).values(outbox_row(None, DESK, "case:7", {"key": "desk-she-forgot"})))
    await engine.dispose()
    store = await Store.open(url)
    try:
        assert await open_case(store, "u1") == 8
    finally:
        await store.close()


async def test_the_migrations_make_exactly_the_tables_the_models_describe(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    async with store.engine.connect() as connection:
        differences = await connection.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    assert differences == []


async def test_upgrade_to_0010_keeps_the_outbox_and_receipts_go_with_their_item(db_url: str) -> None:
    from bot.storage.models import OutboxReceipt

    engine = create_engine(db_url)
    await upgrade(engine, "0009")
    async with engine.begin() as connection:
        await connection.execute(insert(Outbox), [outbox_row(None, "whatsapp", "3247", {"text": "waiting"})])
    await engine.dispose()
    store = await Store.open(db_url)
    try:
        assert await current_revision(store.engine) == "0010"
        [item] = await store.claim_outbox(("whatsapp",))
        assert item.body == {"text": "waiting"}
        item.receipts.append("wamid.1")
        await store.outbox_sent([item])
        assert (await store.outbox_delivery("wamid.1", "delivered")).id == item.id  # type: ignore[union-attr]
        async with store.engine.begin() as connection:
            await connection.execute(delete(Outbox).where(Outbox.id == item.id))
        async with store.engine.connect() as connection:
            assert (await connection.execute(select(func.count()).select_from(OutboxReceipt))).scalar_one() == 0
        assert await store.outbox_delivery("wamid.1", "read") is None
    finally:
        await store.close()
