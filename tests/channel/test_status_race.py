"""A status that races ahead of its send's answer, on PostgreSQL: two transactions, one recording the status
and one the send's outcome, each committing without the other's row in sight, must not leave the message
without its status."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from connectors.whatsapp.store import GatewayStore, OutboundRecord, StatusRecord
from tests.gateway_support import database_url, empty_database


async def test_the_send_recorded_while_its_status_is_being_recorded_waits_and_gets_the_status(
    tmp_path: Path,
) -> None:
    url = database_url("postgresql", tmp_path)
    await empty_database(url)
    store = GatewayStore.from_url(url)
    await store.create_schema()
    delivered = StatusRecord(
        wamid="wamid.race", status="delivered", wa_timestamp=1751371260, recipient_id="34612345678"
    )
    sent = OutboundRecord(
        business_id="1000000001",
        wa_id="34612345678",
        type="text",
        text="Hola",
        body={"type": "text", "text": {"body": "Hola"}},
        state="sending",
        origin="bot",
        send_key="reply:wamid.guest#1",
    )
    try:
        slot = await store.record_send(sent, time.time())  # recorded before the Graph call
        async with store.transaction() as connection:
            await store.record_statuses(connection, [delivered], time.time())  # the status webhook, uncommitted
            recording = asyncio.create_task(store.finish_send(slot.message_id, "accepted", time.time(), "wamid.race"))
            await asyncio.sleep(0.5)
            assert not recording.done(), "the send's record waits for the transaction holding its wamid"
        await asyncio.wait_for(recording, 10)
        [message] = await store.thread("1000000001", "34612345678")
        assert (message["wamid"], message["status"]) == ("wamid.race", "delivered")
    finally:
        await store.close()
