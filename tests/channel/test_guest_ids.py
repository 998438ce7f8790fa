"""Guests known by a business-scoped user id (BSUID), a username, and the phone number they show later or
change: one guest, one thread, whichever ids WhatsApp gives. The real channel against the sandbox over
loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from connectors.whatsapp.store import conversations
from tests.channel.test_sandbox_roundtrip import eventually
from tests.gateway_support import GatewayServer, RecordingBot, echo
from tests.support import MIRADOR, SandboxClient

ANA = "ES.48120943318820556104"
"""A guest who adopted a username and never shared her number."""
ANA_NUMBER = "34699100200"
PEDRO_OLD, PEDRO_NEW = "34699100300", "34699100301"


async def outbound(gateway: GatewayServer, key: str) -> list[dict[str, Any]]:
    return [row for row in await gateway.store.thread(MIRADOR, key) if row["direction"] == "outbound"]


async def conversation_rows(gateway: GatewayServer) -> list[dict[str, Any]]:
    async with gateway.store.connect() as connection:
        rows = await connection.execute(sa.select(conversations).where(conversations.c.business_id == MIRADOR))
        return [dict(row._mapping) for row in rows]


async def test_a_guest_with_only_a_user_id_is_answered_through_recipient_and_its_statuses_come_back(
    gateway: GatewayServer, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    bot.answer = echo
    await sandbox.guest_says(ANA, "¿Cuál es la clave del wifi?", username="@ana.viaja", name="Ana")
    [message] = await bot.wait_for(1)
    assert message.sender_id == f"{MIRADOR}:{ANA}"
    assert message.metadata["wa_id"] is None
    assert message.metadata["user_id"] == ANA
    assert message.metadata["username"] == "@ana.viaja"

    async def read() -> list[dict[str, Any]]:
        return [row for row in await outbound(gateway, ANA) if row["status"] == "read"]

    [reply] = await eventually(read)
    sent = json.loads(reply["body"])
    assert sent["recipient"] == ANA
    assert "to" not in sent
    [answer] = [e for e in await sandbox.thread(ANA) if e["direction"] == "outbound"]
    assert answer["content"]["body"] == "echo: ¿Cuál es la clave del wifi?"
    [row] = await conversation_rows(gateway)
    assert (row["wa_id"], row["phone"], row["user_id"], row["username"]) == (ANA, None, ANA, "@ana.viaja")


async def test_the_guest_showing_their_number_later_stays_one_thread(
    gateway: GatewayServer, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    bot.answer = echo
    await sandbox.guest_says(ANA, "hola", username="@ana.viaja")
    await bot.wait_for(1)
    await sandbox.guest_says(ANA, "soy yo otra vez", phone=ANA_NUMBER, username="@ana.viaja")
    [first, second] = await bot.wait_for(2)
    assert second.sender_id == first.sender_id == f"{MIRADOR}:{ANA}"
    assert second.metadata["wa_id"] == ANA_NUMBER

    async def both_answered() -> list[dict[str, Any]]:
        rows = await outbound(gateway, ANA)
        return rows if len(rows) == 2 and all(row["state"] == "accepted" for row in rows) else []

    _, later = await eventually(both_answered)
    assert json.loads(later["body"])["to"] == ANA_NUMBER  # the number WhatsApp gave last
    [row] = await conversation_rows(gateway)
    assert (row["wa_id"], row["phone"], row["user_id"]) == (ANA, ANA_NUMBER, ANA)
    assert await gateway.store.guest_keys(MIRADOR, [ANA_NUMBER, ANA]) == {ANA_NUMBER: ANA, ANA: ANA}
    # A message with only the number, as before BSUIDs, still joins her thread.
    await sandbox.guest_says(ANA_NUMBER, "y otra")
    third = (await bot.wait_for(3))[2]
    assert third.sender_id == f"{MIRADOR}:{ANA}"


async def test_a_guest_who_changes_number_keeps_the_thread_and_is_answered_on_the_new_one(
    gateway: GatewayServer, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    bot.answer = echo
    await sandbox.guest_says(PEDRO_OLD, "hola")
    await bot.wait_for(1)
    notice = {
        "type": "system",
        "system": {
            "body": "Pedro changed from 34 699 100 300 to 34 699 100 301",
            "wa_id": PEDRO_NEW,
            "type": "user_changed_number",
        },
    }
    await sandbox.guest_says(PEDRO_OLD, message=notice)

    async def noticed() -> list[dict[str, Any]]:
        return [r for r in await gateway.store.thread(MIRADOR, PEDRO_OLD) if r["type"] == "system"]

    [system] = await eventually(noticed)
    assert system["state"] == "handled"  # kept in the thread, never a turn
    await sandbox.guest_says(PEDRO_NEW, "escribo desde el nuevo")
    [_, message] = await bot.wait_for(2)
    assert message.sender_id == f"{MIRADOR}:{PEDRO_OLD}"
    assert len(bot.received) == 2

    async def answered_twice() -> list[dict[str, Any]]:
        rows = await outbound(gateway, PEDRO_OLD)
        return rows if len(rows) == 2 and all(row["state"] == "accepted" for row in rows) else []

    first, second = await eventually(answered_twice)
    assert json.loads(first["body"])["to"] == PEDRO_OLD
    assert json.loads(second["body"])["to"] == PEDRO_NEW
    [answer] = [e for e in await sandbox.thread(PEDRO_NEW) if e["direction"] == "outbound"]
    assert answer["content"]["body"] == "echo: escribo desde el nuevo"
