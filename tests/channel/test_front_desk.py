"""The front desk's tools over real HTTP (notes, assignment, resolving, saved replies): the gateway on a
Sanic server, the sandbox as WhatsApp, SQLite and PostgreSQL, every answer checked against the OpenAPI
description."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hotel.facts import load_hotels
from tests.channel import test_agents_api as agents_suite
from tests.channel.agents_api import AgentsApi, listen
from tests.channel.test_agents_api import eventually, guest_writes, sandbox_outbound, thread_path
from tests.gateway_support import GatewayServer, RecordingBot, echo
from tests.support import ALAMEDA, LUCIA, MIRADOR, OLIVER, SandboxClient

server, desk, boss = agents_suite.server, agents_suite.desk, agents_suite.boss
"""The agents' suite's fixtures: the gateway with its four tokens, and two agents' clients."""


@pytest.fixture
async def crm(server: GatewayServer) -> AsyncIterator[AgentsApi]:
    api = AgentsApi(server.url, "crm-secret")
    yield api
    await api.close()


async def _conversation(api: AgentsApi, **filters: str) -> list[tuple[str, str]]:
    found = (await api.get("/conversations", params=filters)).json()["conversations"]
    return [(c["business_id"], c["wa_id"]) for c in found]


async def test_a_note_stays_with_the_agents(
    server: GatewayServer, desk: AgentsApi, crm: AgentsApi, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    bot.answer = echo
    await guest_writes(sandbox, server, "Hola")
    await bot.wait_for(1)
    await desk.post(f"{thread_path()}/takeover")
    await guest_writes(sandbox, server, "¿Tienen parking?")
    seen: list[tuple[str, dict[str, Any]]] = []
    connected = asyncio.Event()
    listener = asyncio.create_task(listen(server.url, "desk-secret", seen, connected))
    await asyncio.wait_for(connected.wait(), 10)
    outbound_before = await sandbox_outbound(sandbox)

    noted = await desk.post(f"{thread_path()}/notes", json={"text": "  Huésped VIP: ofrecer parking gratis  "})

    assert noted.status_code == 201
    assert noted.json()["event"]["kind"] == "note"
    assert noted.json()["event"]["actor"] == "desk"
    try:
        await eventually(lambda: _saw(seen, "desk", kind="note", text="Huésped VIP: ofrecer parking gratis"))
    finally:
        listener.cancel()
    await server.settle()
    await asyncio.sleep(0.3)
    assert await sandbox_outbound(sandbox) == outbound_before, "the note reached the guest's phone"
    assert len(bot.received) == 1, "the note reached the bot"
    thread = (await desk.get(thread_path())).json()
    assert [(e["kind"], e["text"]) for e in thread["desk_events"]] == [("note", "Huésped VIP: ofrecer parking gratis")]
    assert all("VIP" not in (m["text"] or "") for m in thread["messages"])
    assert thread["conversation"]["unread"] == 1, "a note is not the business answering"
    assert thread["conversation"]["handoff"]["holder"] == "agent:desk"

    assert (await desk.post(f"{thread_path(ALAMEDA)}/notes", json={"text": "x"})).status_code == 404
    assert (await desk.post(f"{thread_path(MIRADOR, OLIVER)}/notes", json={"text": "x"})).status_code == 404
    assert (await crm.post(f"{thread_path()}/notes", json={"text": "x"})).status_code == 403
    for bad in ({}, {"text": "   "}, {"text": 3}, ["text"]):
        answer = await desk.post(f"{thread_path()}/notes", json=bad)
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_body")
    not_json = await desk.post(
        f"{thread_path()}/notes", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422


def _saw_now(seen: list[tuple[str, dict[str, Any]]], event: str, **fields: Any) -> bool:
    return any(k == event and all(d.get(f) == v for f, v in fields.items()) for k, d in seen)


def _saw(seen: list[tuple[str, dict[str, Any]]], event: str, **fields: Any) -> Any:
    async def check() -> bool:
        return _saw_now(seen, event, **fields)

    return check()


async def test_assignment_and_the_assignee_filters(
    server: GatewayServer, desk: AgentsApi, boss: AgentsApi, crm: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "Hola")
    await guest_writes(sandbox, server, "Hello", wa_id=OLIVER)
    await guest_writes(sandbox, server, "Hola Alameda", to=ALAMEDA)
    seen: list[tuple[str, dict[str, Any]]] = []
    connected = asyncio.Event()
    listener = asyncio.create_task(listen(server.url, "desk-secret", seen, connected))
    await asyncio.wait_for(connected.wait(), 10)

    assigned = await desk.post(f"{thread_path()}/assign", json={"agent": "desk"})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["conversation"]["assignee"] == "desk"
    assert assigned.json()["event"]["kind"] == "assigned"
    assert await _conversation(desk, assignee="me") == [(MIRADOR, LUCIA)]
    assert await _conversation(desk, assignee="none") == [(MIRADOR, OLIVER)]
    assert await _conversation(boss, assignee="desk") == [(MIRADOR, LUCIA)]
    assert await _conversation(boss, assignee="me") == []
    by_boss = await boss.post(f"{thread_path(MIRADOR, OLIVER)}/assign", json={"agent": "night"})
    assert by_boss.json()["conversation"]["assignee"] == "night"
    assert await _conversation(desk, assignee="night") == [(MIRADOR, OLIVER)]
    await boss.post(f"{thread_path(ALAMEDA)}/assign", json={"agent": "boss"})
    try:
        await eventually(lambda: _saw(seen, "desk", kind="assigned", wa_id=OLIVER, text="night"))
    finally:
        listener.cancel()
    assert _saw_now(seen, "desk", kind="assigned", wa_id=LUCIA, text="desk")
    assert not _saw_now(seen, "desk", business_id=ALAMEDA), "another hotel's assignment reached a Mirador-only token"

    unknown = await desk.post(f"{thread_path()}/assign", json={"agent": "ghost"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_agent")
    assert unknown.json()["error"]["agents"] == ["boss", "desk", "night"]
    # crm is an automation token: it may never be assigned, and may not assign
    assert (await desk.post(f"{thread_path()}/assign", json={"agent": "crm"})).status_code == 422
    assert (await desk.post(f"{thread_path()}/assign", json={})).status_code == 422
    assert (await crm.post(f"{thread_path()}/assign", json={"agent": None})).status_code == 403
    assert (await desk.post(f"{thread_path(ALAMEDA)}/assign", json={"agent": "desk"})).status_code == 404
    assert (await desk.get("/conversations", params={"assignee": " "})).status_code == 422

    unassigned = await desk.post(f"{thread_path()}/assign", json={"agent": None})
    assert unassigned.json()["conversation"]["assignee"] is None
    assert sorted(await _conversation(desk, assignee="none")) == [(MIRADOR, LUCIA)]
    events = (await desk.get(thread_path())).json()["desk_events"]
    assert [(e["kind"], e["actor"], e["text"]) for e in events] == [
        ("assigned", "desk", "desk"),
        ("assigned", "desk", None),
    ]


async def test_resolve_then_the_guest_reopens_and_the_bot_answers_again(
    server: GatewayServer, desk: AgentsApi, crm: AgentsApi, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    bot.answer = echo
    await guest_writes(sandbox, server, "Hola")
    await bot.wait_for(1)
    await guest_writes(sandbox, server, "Hello", wa_id=OLIVER)
    await bot.wait_for(2)
    await desk.post(f"{thread_path()}/takeover")
    await guest_writes(sandbox, server, "¿Hay cuna?")
    assert len(bot.received) == 2

    night = AgentsApi(server.url, "night-secret")
    stolen = await night.post(f"{thread_path()}/resolve")
    await night.close()
    assert (stolen.status_code, stolen.json()["error"]["code"]) == (409, "held_by_another_agent")
    assert (await desk.post(f"{thread_path(ALAMEDA)}/resolve")).status_code == 404
    assert (await crm.post(f"{thread_path()}/resolve")).status_code == 403

    seen: list[tuple[str, dict[str, Any]]] = []
    connected = asyncio.Event()
    listener = asyncio.create_task(listen(server.url, "desk-secret", seen, connected))
    await asyncio.wait_for(connected.wait(), 10)
    resolved = await desk.post(f"{thread_path()}/resolve")
    try:
        await eventually(lambda: _saw(seen, "desk", kind="resolved", actor="desk"))
    finally:
        listener.cancel()
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["conversation"]["status"] == "resolved"
    assert resolved.json()["handoff"]["state"] == "bot"
    assert await _conversation(desk) == [(MIRADOR, OLIVER)], "the open list (the default) still shows it"
    assert await _conversation(desk, status="resolved") == [(MIRADOR, LUCIA)]
    assert sorted(await _conversation(desk, status="all")) == [(MIRADOR, LUCIA), (MIRADOR, OLIVER)]
    assert (await desk.get("/conversations", params={"status": "closed"})).status_code == 422
    thread = (await desk.get(thread_path())).json()
    assert [(e["to"], e["reason"]) for e in thread["handoff_events"]][-1] == ("bot", "agent_released")
    assert [e["kind"] for e in thread["desk_events"]] == ["resolved"]

    await guest_writes(sandbox, server, "Una cosa más")
    [*_, last] = await bot.wait_for(3)
    assert last.text == "Una cosa más"
    assert sorted(await _conversation(desk)) == [(MIRADOR, LUCIA), (MIRADOR, OLIVER)]
    assert await _conversation(desk, status="resolved") == []
    assert (await desk.get(thread_path())).json()["conversation"]["status"] == "open"
    answers = await eventually(lambda: _bot_answered(sandbox, "Una cosa más"))
    assert answers


async def _bot_answered(sandbox: SandboxClient, text: str) -> bool:
    return any(text in json.dumps(e["content"], ensure_ascii=False) for e in await sandbox_outbound(sandbox))


async def test_saved_replies_per_hotel_filled_from_the_thread(
    server: GatewayServer, desk: AgentsApi, boss: AgentsApi, crm: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "Hola, ¿la wifi?")
    text = "Hola {guest_name}: la red es {wifi_network}, clave {wifi_password}. Reserva {booking_code}."
    saved = await desk.post("/saved-replies", params={"business": MIRADOR}, json={"code": "/WiFi", "text": text})
    assert saved.status_code == 201, saved.text
    assert saved.json()["saved_reply"]["code"] == "wifi"
    assert (
        await boss.post("/saved-replies", params={"business": ALAMEDA}, json={"code": "x", "text": "y"})
    ).status_code == 201

    unknown = await desk.post(
        "/saved-replies", params={"business": MIRADOR}, json={"code": "late", "text": "Hola {guest_nmae}, {room}"}
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_placeholder")
    assert unknown.json()["error"]["unknown"] == ["guest_nmae"]
    assert "{guest_nmae}" in unknown.json()["error"]["message"]
    for bad in ({"code": "no spaces", "text": "x"}, {"code": "ok"}, {"code": "ok", "text": ""}, {}):
        assert (await desk.post("/saved-replies", params={"business": MIRADOR}, json=bad)).status_code == 422
    assert (await desk.post("/saved-replies", json={"code": "ok", "text": "x"})).status_code == 422
    assert (
        await desk.post("/saved-replies", params={"business": ALAMEDA}, json={"code": "a", "text": "b"})
    ).status_code == 404
    assert (await crm.get("/saved-replies", params={"business": MIRADOR})).status_code == 403
    assert (await crm.delete("/saved-replies", params={"business": MIRADOR, "code": "wifi"})).status_code == 403
    assert (await desk.delete("/saved-replies", params={"code": "wifi"})).status_code == 422

    listed = (await desk.get("/saved-replies", params={"business": MIRADOR})).json()
    assert [r["code"] for r in listed["saved_replies"]] == ["wifi"]
    assert {"guest_name", "booking_code", "check_in_from", "check_out_until"} <= set(listed["placeholders"])
    assert (await desk.get("/saved-replies", params={"business": ALAMEDA})).status_code == 404

    hotel = load_hotels()[MIRADOR]
    [filled] = (await desk.get(f"{thread_path()}/saved-replies")).json()["saved_replies"]
    assert filled["filled"] == (
        f"Hola Lucía: la red es {hotel.wifi_network}, clave {hotel.wifi_password}. Reserva MDP-4F7K2Q."
    )
    assert filled["missing"] == []
    assert (await desk.get(f"{thread_path(ALAMEDA)}/saved-replies")).status_code == 404

    again = await desk.post("/saved-replies", params={"business": MIRADOR}, json={"code": "wifi", "text": "{room}"})
    assert again.json()["saved_reply"]["id"] == saved.json()["saved_reply"]["id"]
    assert (await desk.delete("/saved-replies", params={"business": ALAMEDA, "code": "x"})).status_code == 404
    assert (await desk.delete("/saved-replies", params={"business": MIRADOR, "code": "/wifi"})).status_code == 200
    assert (await desk.delete("/saved-replies", params={"business": MIRADOR, "code": "wifi"})).status_code == 404
    assert (await desk.get("/saved-replies", params={"business": MIRADOR})).json()["saved_replies"] == []
