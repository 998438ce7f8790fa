"""The handoff end to end: the real `rasa run` with the WhatsApp channel and the trained assistant, the
action server, and the sandbox as WhatsApp. While an agent holds a thread the Rasa tracker is paused (seen
through Rasa's own HTTP API) and the bot says nothing; given back, the bot answers again. A thread that only
waits in the queue is not silenced: the bot still answers what it knows.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import AGENT_TOKEN
from tests.e2e.test_whatsapp_rasa import bot_replies
from tests.support import LUCIA, MIRADOR, RASA_API_TOKEN, SandboxClient

API = "/webhooks/whatsapp/api/v1"


async def paused(rasa: str, wa_id: str) -> bool:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(f"{rasa}/conversations/{MIRADOR}:{wa_id}/tracker", params={"token": RASA_API_TOKEN})
    answer.raise_for_status()
    return bool(answer.json()["paused"])


async def agent(rasa: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"{rasa}{API}", timeout=30) as client:
        headers = {"Authorization": f"Bearer {AGENT_TOKEN}"}
        return await client.request(method, path, headers=headers, **kwargs)


async def message_state(rasa: str, wa_id: str, wamid: str, timeout: float = 30.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        thread = (await agent(rasa, "GET", f"/conversations/{MIRADOR}/{wa_id}")).json()
        state = next((m["state"] for m in thread.get("messages", []) if m["wamid"] == wamid), None)
        if state in ("held", "handled"):
            return state
        assert asyncio.get_running_loop().time() < deadline, f"{wamid} never finished: {state}"
        await asyncio.sleep(0.2)


async def test_a_taken_over_thread_pauses_the_tracker_and_the_bot_until_it_is_given_back(
    guest: SandboxClient, rasa: str
) -> None:
    await guest.guest_says(LUCIA, "hola buenas")
    await bot_replies(guest, LUCIA, 1)
    assert not await paused(rasa, LUCIA)

    taken = await agent(rasa, "POST", f"/conversations/{MIRADOR}/{LUCIA}/takeover")
    assert taken.status_code == 200, taken.text
    assert await paused(rasa, LUCIA)

    wamid = await guest.guest_says(LUCIA, "hola otra vez")
    assert await message_state(rasa, LUCIA, wamid) == "held"
    reply = await agent(
        rasa, "POST", f"/conversations/{MIRADOR}/{LUCIA}/reply", json={"text": "Soy Marta, de recepción."}
    )
    assert reply.status_code == 200, reply.text
    replies = await bot_replies(guest, LUCIA, 2)
    assert replies[1]["content"]["body"] == "Soy Marta, de recepción."

    released = await agent(rasa, "POST", f"/conversations/{MIRADOR}/{LUCIA}/release")
    assert released.status_code == 200, released.text
    assert not await paused(rasa, LUCIA)
    await guest.guest_says(LUCIA, "hola")
    third = (await bot_replies(guest, LUCIA, 3))[2]
    assert third["content"]["body"].startswith("¡Hola")


@pytest.mark.parametrize(
    ("wa_id", "text", "wifi", "gibberish", "waiting"),
    [
        ("34699000401", "quiero hablar con una persona", "y la clave del wifi?", "jhgf kjhg", "ya tiene tu"),
        ("447700900401", "I want to talk to a human", "and the wifi password?", "jhgf kjhg", "already has your"),
    ],
    ids=["es", "en"],
)
async def test_a_guest_waiting_in_the_queue_still_gets_answers_until_an_agent_takes_over(
    guest: SandboxClient, rasa: str, wa_id: str, text: str, wifi: str, gibberish: str, waiting: str
) -> None:
    """Asking for a person queues the thread without silencing the bot: an easy question is answered, one it
    does not understand is told reception has the thread; once an agent takes over the bot says nothing."""
    await guest.guest_says(wa_id, text)
    await bot_replies(guest, wa_id, 1)
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        thread = (await agent(rasa, "GET", f"/conversations/{MIRADOR}/{wa_id}")).json()
        if thread["conversation"]["handoff"]["state"] == "queue":
            break
        assert asyncio.get_running_loop().time() < deadline, f"never handed over: {thread['conversation']}"
        await asyncio.sleep(0.2)
    assert thread["conversation"]["handoff"]["reason"] == "guest_asked"
    assert not await paused(rasa, wa_id)

    await guest.guest_says(wa_id, wifi)
    assert "puerto2026" in (await bot_replies(guest, wa_id, 2))[1]["content"]["body"]
    await guest.guest_says(wa_id, gibberish)
    assert waiting in (await bot_replies(guest, wa_id, 3))[2]["content"]["body"]
    outbound = [e for e in await guest.thread(wa_id, MIRADOR) if e["direction"] == "outbound"]
    assert [e["type"] for e in outbound] == ["text"] * 3, "the gateway instruction must never reach WhatsApp"

    taken = await agent(rasa, "POST", f"/conversations/{MIRADOR}/{wa_id}/takeover")
    assert taken.status_code == 200, taken.text
    assert await paused(rasa, wa_id)
    wamid = await guest.guest_says(wa_id, wifi)
    assert await message_state(rasa, wa_id, wamid) == "held"
    assert len([e for e in await guest.thread(wa_id, MIRADOR) if e["direction"] == "outbound"]) == 3
