"""End to end on loopback: the sandbox plays the guest, the real Rasa server with the WhatsApp channel and
the trained assistant answers, the action server runs the actions, and statuses come back to the store.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connectors.whatsapp.store import GatewayStore, messages
from tests.processes import ServerProcess, start_rasa
from tests.support import LUCIA, MIRADOR, OLIVER, RASA_API_TOKEN, SandboxClient, SandboxProcess


async def bot_replies(sandbox: SandboxClient, wa_id: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The hotel's messages in the guest's thread, once there are `count` of them (read by the guest)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        replies = [e for e in await sandbox.thread(wa_id, MIRADOR) if e["direction"] == "outbound"]
        if len(replies) >= count and all(r["status"] == "read" for r in replies):
            return replies
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"expected {count} read replies, thread is {replies}")
        await asyncio.sleep(0.2)


async def store_rows(folder: Path, wa_id: str) -> list[dict[str, Any]]:
    store = GatewayStore.from_url(f"sqlite+aiosqlite:///{folder / 'gateway.db'}")
    try:
        return await store.thread(MIRADOR, wa_id)
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("wa_id", "text", "expected"),
    [(LUCIA, "hola buenas", "¡Hola"), (OLIVER, "hi there", "Hello")],
)
async def test_a_guest_is_answered_by_the_trained_bot_in_their_language(
    guest: SandboxClient, folder: Path, wa_id: str, text: str, expected: str
) -> None:
    wamid = await guest.guest_says(wa_id, text)
    [reply] = await bot_replies(guest, wa_id, 1)
    assert reply["content"]["body"].startswith(expected)
    assert [s["status"] for s in reply["statuses"]] == ["sent", "delivered", "read"]
    inbound = await guest.wait_for_entry(wa_id, wamid, lambda e: e["read_by_business"])
    assert inbound["webhook"]["acknowledged"]

    async def recorded() -> list[dict[str, Any]]:
        rows = await store_rows(folder, wa_id)
        return [r for r in rows if r["direction"] == "outbound" and r["status"] == "read"]

    deadline = asyncio.get_running_loop().time() + 20
    while not (outbound := await recorded()):
        assert asyncio.get_running_loop().time() < deadline, "the read status never reached the store"
        await asyncio.sleep(0.2)
    assert outbound[0]["wamid"] == reply["wamid"]
    statuses = [r for r in await store_rows(folder, wa_id) if r["direction"] == "inbound"]
    assert statuses[0]["state"] == "handled"


async def test_a_killed_gateway_answers_every_stored_message_once_after_restart(
    sandbox: SandboxClient, sandbox_process: SandboxProcess, action_server: str, tmp_path: Path
) -> None:
    """SIGKILL after the webhooks were acknowledged and stored, before any was processed."""
    ingest_only, url = start_rasa(tmp_path, sandbox_process.url, action_server, GATEWAY_PROCESS_INBOX="false")
    port = int(url.rsplit(":", 1)[1])
    await sandbox.configure(webhook_url=f"{url}/webhooks/whatsapp/webhook")
    guests = [f"3461500{i:04d}" for i in range(5)]
    sent = {g: await sandbox.guest_says(g, "hola") for g in guests}
    for wa_id, wamid in sent.items():
        await sandbox.wait_for_entry(wa_id, wamid, lambda e: e["webhook"]["acknowledged"], timeout=30)
    ingest_only.kill()

    restarted: ServerProcess | None = None
    try:
        restarted, _ = start_rasa(tmp_path, sandbox_process.url, action_server, port=port)
        for wa_id in guests:
            await bot_replies(sandbox, wa_id, 1)
        await asyncio.sleep(2)
        for wa_id in guests:
            replies = [e for e in await sandbox.thread(wa_id, MIRADOR) if e["direction"] == "outbound"]
            assert len(replies) == 1, f"{wa_id} got {len(replies)} answers"
        store = GatewayStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
        try:
            async with store.engine.connect() as connection:
                states = (
                    (await connection.execute(sa.select(messages.c.state).where(messages.c.direction == "inbound")))
                    .scalars()
                    .all()
                )
        finally:
            await store.close()
        assert states == ["handled"] * len(guests)
    finally:
        if restarted is not None:
            restarted.stop()


async def test_a_two_question_message_run_again_after_a_crash_says_each_answer_once(
    sandbox: SandboxClient, sandbox_process: SandboxProcess, action_server: str, tmp_path: Path
) -> None:
    """Rasa killed after the second question's answer went out but before its turn was saved (Rasa saves a
    tracker at the end of each turn), the message left unfinished: the restarted server sends nothing again for
    the first question, runs the second's turn again, and its answer is not sent twice."""
    first, url = start_rasa(tmp_path, sandbox_process.url, action_server)
    await sandbox.configure(webhook_url=f"{url}/webhooks/whatsapp/webhook")
    wa_id = "34615009001"
    wamid = await sandbox.guest_says(wa_id, "¿A qué hora es el check-in y tenéis parking?")
    checkin, parking = await bot_replies(sandbox, wa_id, 2)
    assert "15:00" in checkin["content"]["body"]
    assert "18 EUR" in parking["content"]["body"]
    first.kill()
    _forget_turns_from(tmp_path / "tracker.db", f"{MIRADOR}:{wa_id}", f"{wamid}/1")
    gateway = sa.create_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    with gateway.begin() as connection:
        unfinished = {"state": "dispatched", "claimed_by": "a process that died", "turn_started_at": 1.0}
        connection.execute(messages.update().where(messages.c.wamid == wamid).values(**unfinished))
    gateway.dispose()

    restarted, _ = start_rasa(tmp_path, sandbox_process.url, action_server, port=int(url.rsplit(":", 1)[1]))
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while (await store_rows(tmp_path, wa_id))[0]["state"] != "handled":
            assert asyncio.get_running_loop().time() < deadline, "the unfinished message was never taken over"
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)
        replies = [e for e in await sandbox.thread(wa_id, MIRADOR) if e["direction"] == "outbound"]
        assert [r["content"]["body"] for r in replies] == [checkin["content"]["body"], parking["content"]["body"]]
        async with httpx.AsyncClient(base_url=url, params={"token": RASA_API_TOKEN}) as rasa:
            tracker = (await rasa.get(f"/conversations/{MIRADOR}:{wa_id}/tracker")).json()
        turns = [e["message_id"] for e in tracker["events"] if e["event"] == "user"]
        assert turns == [wamid, f"{wamid}/1"]
    finally:
        restarted.stop()


def _forget_turns_from(tracker_db: Path, sender_id: str, message_id: str) -> None:
    """Drop the tracker's events from the user turn `message_id` on, as if Rasa died before saving that turn."""
    engine = sa.create_engine(f"sqlite:///{tracker_db}")
    try:
        with engine.begin() as connection:
            events = sa.Table("events", sa.MetaData(), autoload_with=connection)
            rows = connection.execute(
                sa.select(events.c.id, events.c.data).where(events.c.sender_id == sender_id).order_by(events.c.id)
            ).all()
            first = next(row.id for row in rows if json.loads(row.data).get("message_id") == message_id)
            connection.execute(events.delete().where(events.c.sender_id == sender_id, events.c.id >= first))
    finally:
        engine.dispose()


async def test_trigger_intent_reaches_the_guest_through_the_whatsapp_output_channel(
    guest: SandboxClient, rasa: str
) -> None:
    """Rasa's HTTP API sends proactively through `get_output_channel()` (how reminders reach a guest)."""
    await guest.guest_says(OLIVER, "hi there")
    await bot_replies(guest, OLIVER, 1)
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(
            f"{rasa}/conversations/{MIRADOR}:{OLIVER}/trigger_intent",
            params={"output_channel": "whatsapp", "token": RASA_API_TOKEN},
            json={"name": "goodbye"},
        )
    assert response.status_code == 200, response.text
    replies = await bot_replies(guest, OLIVER, 2)
    assert replies[1]["content"]["body"] == "Goodbye! I'm here whenever you need anything. 👋"


async def test_a_guest_with_only_a_username_gets_the_wifi_and_stays_one_guest_when_their_number_shows(
    guest: SandboxClient, folder: Path
) -> None:
    """The 2026 username guest: no phone number, only a business-scoped user id (BSUID). The answer goes to
    the BSUID (`recipient`), its statuses come back to it, and the same guest writing later with their number
    is the same conversation: same Rasa sender, same thread."""
    bsuid, number = "ES.26120943318820556104", "34699200300"
    await guest.guest_says(bsuid, "¿cuál es la clave del wifi?", username="@marta.viaja", name="Marta")
    [reply] = await bot_replies(guest, bsuid, 1)
    assert "puerto2026" in reply["content"]["body"]
    assert [s["status"] for s in reply["statuses"]] == ["sent", "delivered", "read"]

    async def recorded(count: int) -> list[dict[str, Any]]:
        rows = [r for r in await store_rows(folder, bsuid) if r["direction"] == "outbound"]
        return rows if len(rows) >= count and all(r["status"] == "read" for r in rows) else []

    [first] = await _within(20, lambda: recorded(1))
    assert json.loads(first["body"])["recipient"] == bsuid
    await guest.guest_says(bsuid, "y la contraseña del wifi otra vez?", phone=number, username="@marta.viaja")
    replies = await bot_replies(guest, bsuid, 2)
    assert "puerto2026" in replies[1]["content"]["body"]
    rows = await _within(20, lambda: recorded(2))
    assert json.loads(rows[1]["body"])["to"] == number
    assert [r["wa_id"] for r in await store_rows(folder, number)] == []  # nothing under the number: one thread


async def _within(seconds: float, check: Any) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.2)
    return result
