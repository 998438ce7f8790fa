"""The schema at start-up: what a newer gateway adds to an existing database is created, data kept."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from connectors.whatsapp.store import GatewayStore, statuses


async def test_an_index_added_since_the_database_was_created_is_created_at_start(tmp_path: Path) -> None:
    store = GatewayStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    await store.create_schema()
    async with store.transaction() as connection:
        await connection.execute(sa.text("DROP INDEX ix_statuses_callback_data"))  # as a database from before it
        await connection.execute(
            statuses.insert().values(wamid="wamid.kept", status="sent", wa_timestamp=1, received_at=1.0)
        )

    await store.create_schema()

    async with store.engine.connect() as connection:
        indexes = await connection.run_sync(lambda sync: sa.inspect(sync).get_indexes("statuses"))
        kept = (await connection.execute(sa.select(statuses.c.wamid))).scalars().all()
    await store.close()
    assert "ix_statuses_callback_data" in {index["name"] for index in indexes}
    assert kept == ["wamid.kept"]
