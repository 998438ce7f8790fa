"""Guests with a WhatsApp username over real HTTP: a BSUID guest writes without a phone number, shows the phone
number later, or a guest known by number shows a BSUID; either id then leads to the one thread."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from tests.support import LUCIA, MIRADOR, OLIVER, SandboxClient, WebhookReceiver, message_of

PABLO = "US.13491208655302741918"
PABLO_PARENT = "US.ENT.11815799212886844830"
PABLO_PHONE = "16505551234"


def value_of(webhook: Any) -> dict[str, Any]:
    [entry] = webhook.payload["entry"]
    [change] = entry["changes"]
    return change["value"]


async def webhook_of(receiver: WebhookReceiver, wamid: str) -> dict[str, Any]:
    [webhook] = await receiver.wait_for(message_of(wamid))
    assert webhook.signature_valid
    return value_of(webhook)


async def test_a_guest_with_a_username_writes_with_a_bsuid_and_no_phone_number(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    wamid = await sandbox.guest_says(PABLO, "Hi, do you have a room on Saturday?", username="@pablo", name="Pablo")
    value = await webhook_of(receiver, wamid)
    assert value["contacts"] == [{"profile": {"name": "Pablo", "username": "@pablo"}, "user_id": PABLO}]
    [message] = value["messages"]
    assert message["from_user_id"] == PABLO
    assert "from" not in message
    assert message["text"] == {"body": "Hi, do you have a room on Saturday?"}

    [entry] = await sandbox.thread(PABLO, MIRADOR)
    assert (entry["guest"], entry["wa_id"], entry["user_id"]) == (PABLO, None, PABLO)
    read = await sandbox.send({"status": "read", "message_id": wamid})
    assert read.json() == {"success": True}


async def test_a_bsuid_guest_who_shows_the_phone_number_keeps_one_thread(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    hi = await sandbox.guest_says(PABLO, "Hi", username="@pablo", parent_user_id=PABLO_PARENT)
    wamid = await sandbox.guest_says(PABLO, "My number, for the booking", phone=PABLO_PHONE, username="@pablo")
    value = await webhook_of(receiver, wamid)
    [contact] = value["contacts"]
    assert (contact["wa_id"], contact["user_id"], contact["profile"]["username"]) == (PABLO_PHONE, PABLO, "@pablo")
    [message] = value["messages"]
    assert (message["from"], message["from_user_id"]) == (PABLO_PHONE, PABLO)

    answers = [
        (await sandbox.http.get(f"/sandbox/guests/{i}/messages")).json() for i in (PABLO_PHONE, PABLO, PABLO_PARENT)
    ]
    assert {answer["guest"] for answer in answers} == {PABLO}
    assert {tuple(e["wamid"] for e in answer["messages"]) for answer in answers} == {(hi, wamid)}
    messages = answers[0]["messages"]
    assert [e["text"] for e in messages] == ["Hi", "My number, for the booking"]
    assert [e["wa_id"] for e in messages] == [None, PABLO_PHONE]
    assert [e["content"].get("from_parent_user_id") for e in messages] == [PABLO_PARENT, None]


async def test_a_guest_known_by_number_later_shows_a_bsuid(sandbox: SandboxClient, receiver: WebhookReceiver) -> None:
    first = await sandbox.guest_says(LUCIA, "Hola")
    assert "user_id" not in (await webhook_of(receiver, first))["contacts"][0]
    later = await sandbox.guest_says(LUCIA, "¿A qué hora es el check-in?", user_id="ES.1349120865", username="@lucia")
    value = await webhook_of(receiver, later)
    assert value["contacts"] == [
        {"profile": {"name": "Lucía Fernández", "username": "@lucia"}, "wa_id": LUCIA, "user_id": "ES.1349120865"}
    ]
    [message] = value["messages"]
    assert (message["from"], message["from_user_id"]) == (LUCIA, "ES.1349120865")
    assert [e["wamid"] for e in await sandbox.thread("ES.1349120865", MIRADOR)] == [first, later]
    bsuid_only = await sandbox.guest_says("ES.1349120865", "Gracias")
    assert [e["guest"] for e in await sandbox.thread(LUCIA)] == [LUCIA] * 3
    assert "from" not in (await webhook_of(receiver, bsuid_only))["messages"][0]


async def test_an_id_of_another_guest_is_refused_with_409(sandbox: SandboxClient) -> None:
    await sandbox.guest_says(LUCIA, "Hola", user_id="ES.1349120865")
    response = await sandbox.http.post(
        f"/sandbox/guests/{OLIVER}/messages", json={"text": "Hello", "user_id": "ES.1349120865"}
    )
    assert response.status_code == 409
    assert "ES.1349120865" in response.json()["error"]
    assert await sandbox.thread(OLIVER) == []


async def test_the_window_of_a_bsuid_guest_is_the_same_whichever_id_the_hotel_uses(sandbox: SandboxClient) -> None:
    text = {"type": "text", "text": {"body": "Le confirmamos la reserva."}}
    assert (await sandbox.send({"recipient": PABLO, **text})).json()["error"]["code"] == 131047
    await sandbox.guest_says(PABLO, "Hi", phone=PABLO_PHONE)
    by_bsuid = await sandbox.send({"recipient": PABLO, **text})
    by_phone = await sandbox.send({"to": PABLO_PHONE, **text})
    assert (by_bsuid.status_code, by_phone.status_code) == (200, 200)
    outbound = [e for e in await sandbox.thread(PABLO_PHONE, MIRADOR) if e["direction"] == "outbound"]
    assert [e["wamid"] for e in outbound] == [
        by_bsuid.json()["messages"][0]["id"],
        by_phone.json()["messages"][0]["id"],
    ]


async def test_the_event_stream_filtered_on_one_id_shows_the_guests_messages_under_the_other(
    sandbox: SandboxClient,
) -> None:
    first = await sandbox.guest_says(PABLO, "Hi", phone=PABLO_PHONE)
    await sandbox.wait_for_entry(PABLO, first, lambda e: e["webhook"]["acknowledged"])
    events: list[dict[str, Any]] = []
    async with (
        httpx.AsyncClient(base_url=sandbox.base_url, timeout=httpx.Timeout(5.0, read=None)) as client,
        client.stream("GET", "/sandbox/events", params={"wa_id": PABLO_PHONE}) as stream,
    ):
        lines = stream.aiter_lines()
        assert await anext(lines) == ": connected"
        await sandbox.guest_says(OLIVER, "Someone else")
        wamid = await sandbox.guest_says(PABLO, "Only my BSUID this time")
        while not events:
            line = await asyncio.wait_for(anext(lines), 5)
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    assert (events[0]["wamid"], events[0]["guest"], events[0]["wa_id"]) == (wamid, PABLO_PHONE, None)


async def test_the_guest_page_offers_a_sample_guest_with_a_username(sandbox: SandboxClient) -> None:
    guests = (await sandbox.http.get("/sandbox/config")).json()["guests"]
    assert {"wa_id": LUCIA, "name": "Lucía Fernández"} in guests
    marta = next(g for g in guests if "user_id" in g)
    assert set(marta) == {"user_id", "username", "name"}
    wamid = await sandbox.guest_says(marta["user_id"], "Hola")
    [entry] = [e for e in await sandbox.thread(marta["user_id"]) if e["wamid"] == wamid]
    assert entry["content"]["from_user_id"] == marta["user_id"]


async def test_a_guest_who_stops_marketing_in_whatsapp_sends_the_user_preferences_webhook(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    await sandbox.guest_says(PABLO, "Hi", phone=PABLO_PHONE, username="@pablo")
    answer = await sandbox.http.post(f"/sandbox/guests/{PABLO_PHONE}/preferences", json={"value": "stop"})
    assert answer.json() == {"value": "stop", "guest": PABLO_PHONE}  # both ids came together: the number
    [webhook] = await receiver.wait_for(lambda w: w.payload["entry"][0]["changes"][0]["field"] == "user_preferences")
    assert webhook.signature_valid
    [item] = value_of(webhook)["user_preferences"]
    assert (item["wa_id"], item["user_id"], item["category"], item["value"]) == (
        PABLO_PHONE,
        PABLO,
        "marketing_messages",
        "stop",
    )
    refused = await sandbox.http.post(f"/sandbox/guests/{PABLO}/preferences", json={"value": "maybe"})
    assert refused.status_code == 422
