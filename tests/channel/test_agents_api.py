"""The agents' API over real HTTP: the gateway's blueprint on a Sanic server, the sandbox as WhatsApp, and
every answer checked against the served OpenAPI description (tests/channel/agents_api.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from connectors.whatsapp.api.openapi import SPEC
from connectors.whatsapp.sending import AGENT_TOOK_OVER
from connectors.whatsapp.tokens import parse_tokens
from hotel.settings import HotelSettings
from tests.channel.agents_api import PREFIX, AgentsApi, listen
from tests.gateway_support import (
    GatewayServer,
    MovableClock,
    RecordingBot,
    database_url,
    echo,
    empty_database,
    serving,
    settings_for,
)
from tests.support import ALAMEDA, LUCIA, MIRADOR, OLIVER, SandboxClient, free_port

DAY = 24 * 60 * 60
TOKENS = (
    "desk:agent:1000000001:desk-secret,"
    "boss:agent:*:boss-secret,"
    "night:agent:1000000001:night-secret,"
    "crm:automation:*:crm-secret"
)
HANDOFF = {"gateway": {"handoff": {"reason": "guest_asked"}}}


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.05)


@pytest.fixture
async def server(
    db_kind: str, tmp_path: Path, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient
) -> AsyncIterator[GatewayServer]:
    async with serving(db_kind, tmp_path, bot, clock, sandbox, api_tokens=parse_tokens(TOKENS)) as gateway:
        yield gateway


@pytest.fixture
async def desk(server: GatewayServer) -> AsyncIterator[AgentsApi]:
    api = AgentsApi(server.url, "desk-secret")
    yield api
    await api.close()


@pytest.fixture
async def boss(server: GatewayServer) -> AsyncIterator[AgentsApi]:
    api = AgentsApi(server.url, "boss-secret")
    yield api
    await api.close()


def thread_path(business: str = MIRADOR, wa_id: str = LUCIA) -> str:
    return f"/conversations/{business}/{wa_id}"


async def guest_writes(
    sandbox: SandboxClient, server: GatewayServer, text: str, wa_id: str = LUCIA, to: str = MIRADOR
) -> str:
    wamid = await sandbox.guest_says(wa_id, text, to=to)
    await eventually(lambda: _has_inbound(server, to, wa_id, wamid))
    await server.settle()
    return wamid


async def _has_inbound(server: GatewayServer, business: str, wa_id: str, wamid: str) -> bool:
    return any(r["wamid"] == wamid for r in await server.store.thread(business, wa_id))


async def sandbox_outbound(sandbox: SandboxClient, wa_id: str = LUCIA, business: str = MIRADOR) -> list[dict[str, Any]]:
    return [e for e in await sandbox.thread(wa_id, business) if e["direction"] == "outbound"]


def _documented_routes() -> list[tuple[str, str]]:
    """The agents' routes: those whose security is the document's own (an agent token), not the automations'
    or the description's."""
    routes = []
    for template, item in SPEC["paths"].items():
        path = template.replace("{business_id}", MIRADOR).replace("{wa_id}", LUCIA)
        routes += [
            (method.upper(), path)
            for method in item
            if method in ("get", "post") and item[method].get("security", SPEC["security"]) == SPEC["security"]
        ]
    return routes


@pytest.mark.parametrize(("method", "path"), [r for r in _documented_routes() if r[1] != "/me"])
async def test_every_agent_route_needs_an_agent_token(server: GatewayServer, method: str, path: str) -> None:
    statuses = []
    for token in (None, "not-a-token", "crm-secret"):
        api = AgentsApi(server.url, token)
        answer = await api.request(method, path)
        await api.close()
        statuses.append(answer.status_code)
    assert statuses == [401, 401, 403]
    assert answer.json()["error"]["code"] == "forbidden"


async def test_the_event_stream_takes_its_token_from_the_query_too(server: GatewayServer) -> None:
    async with httpx.AsyncClient(base_url=f"{server.url}{PREFIX}") as client:
        wrong = await client.get("/events", params={"token": "desk-secretx"})
        automation = await client.get("/events", params={"token": "crm-secret"})
        async with client.stream("GET", "/events", params={"token": "desk-secret"}) as stream:
            status, kind = stream.status_code, stream.headers["content-type"]
    assert (wrong.status_code, automation.status_code, status) == (401, 403, 200)
    assert kind.startswith("text/event-stream")


async def test_an_agent_sees_only_the_hotels_of_their_token(
    server: GatewayServer, desk: AgentsApi, boss: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "Hola desde Mirador")
    await guest_writes(sandbox, server, "Hola desde Alameda", to=ALAMEDA)

    mine = (await desk.get("/conversations")).json()["conversations"]
    everyone = (await boss.get("/conversations")).json()["conversations"]
    assert [(c["business_id"], c["wa_id"]) for c in mine] == [(MIRADOR, LUCIA)]
    assert [(c["business_id"], c["last_text"]) for c in everyone] == [
        (ALAMEDA, "Hola desde Alameda"),
        (MIRADOR, "Hola desde Mirador"),
    ]
    assert (await desk.get(thread_path(ALAMEDA))).status_code == 404
    assert (await desk.post(f"{thread_path(ALAMEDA)}/takeover")).status_code == 404
    assert (await desk.post(f"{thread_path(ALAMEDA)}/reply", json={"text": "hola"})).status_code == 404
    assert (await boss.get(thread_path(ALAMEDA))).status_code == 200
    found = (await desk.get("/search", params={"q": "hola desde"})).json()
    assert [m["business_id"] for m in found["messages"]] == [MIRADOR]
    by_name = (await desk.get("/search", params={"q": "fernandez"})).json()
    assert [(c["business_id"], c["wa_id"]) for c in by_name["conversations"]] == [(MIRADOR, LUCIA)]
    by_code = (await boss.get("/search", params={"q": "cal-2b6n"})).json()
    assert [(c["business_id"], c["wa_id"]) for c in by_code["conversations"]] == [(ALAMEDA, LUCIA)]
    assert (await desk.get("/search", params={"q": "CAL-2B6N4R"})).json()["conversations"] == []
    assert (await desk.get(thread_path(MIRADOR, OLIVER))).status_code == 404


async def test_a_pms_that_is_down_leaves_the_thread_readable_without_a_reservation(
    db_kind: str, tmp_path: Path, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient
) -> None:
    url = database_url(db_kind, tmp_path)
    if db_kind == "postgresql":
        await empty_database(url)
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every look-up is refused
    reservations = HotelSettings(reservations_backend="http", pms_api_url=nobody, pms_timeout_seconds=1)
    settings = settings_for(sandbox.base_url, url, api_tokens=parse_tokens(TOKENS), hotel=reservations)
    server = GatewayServer(settings, bot, clock)
    await server.start()
    await sandbox.configure(webhook_url=server.webhook_url)
    desk = AgentsApi(server.url, "desk-secret")
    try:
        await guest_writes(sandbox, server, "Hola, mi reserva")
        thread = await desk.get(thread_path())
        assert thread.status_code == 200
        assert thread.json()["reservation"] is None
        assert thread.json()["messages"][0]["text"] == "Hola, mi reserva"
        found = (await desk.get("/search", params={"q": "reserva"})).json()
        assert [m["text"] for m in found["messages"]] == ["Hola, mi reserva"]
        assert (await desk.get(f"{thread_path()}/templates")).status_code == 200
    finally:
        await desk.close()
        await server.stop()


async def test_take_over_reply_release(
    server: GatewayServer, desk: AgentsApi, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    bot.answer = echo
    await guest_writes(sandbox, server, "Hola")
    await bot.wait_for(1)

    taken = await desk.post(f"{thread_path()}/takeover")
    assert taken.status_code == 200
    assert taken.json()["handoff"]["holder"] == "agent:desk"
    assert taken.json()["changed"] is True

    held_wamid = await guest_writes(sandbox, server, "¿Puedo llegar a las 11?")
    assert len(bot.received) == 1, "the bot got a message while an agent held the thread"

    reply = await desk.post(f"{thread_path()}/reply", json={"text": "Claro, le esperamos a las 11."})
    assert reply.status_code == 200, reply.text
    wamid = reply.json()["messages"][0]["wamid"]
    delivered = await sandbox.wait_for_entry(LUCIA, wamid, lambda e: e["status"] in ("delivered", "read"))
    assert delivered["content"]["body"] == "Claro, le esperamos a las 11."

    other = AgentsApi(server.url, "night-secret")
    stolen = await other.post(f"{thread_path()}/takeover")
    assert stolen.status_code == 409
    assert stolen.json()["error"]["holder"] == "agent:desk"
    assert (await other.post(f"{thread_path()}/release")).status_code == 409
    await other.close()

    released = await desk.post(f"{thread_path()}/release")
    assert released.json()["handoff"]["state"] == "bot"
    await guest_writes(sandbox, server, "Gracias")
    [*_, last] = await bot.wait_for(2)
    assert last.text == "Gracias"

    thread = (await desk.get(thread_path())).json()
    origins = [(m["direction"], m["origin"], m["state"]) for m in thread["messages"]]
    assert origins[:4] == [
        ("inbound", "guest", "handled"),
        ("outbound", "bot", "accepted"),
        ("inbound", "guest", "held"),
        ("outbound", "agent:desk", "accepted"),
    ]
    assert next(m for m in thread["messages"] if m["wamid"] == held_wamid)["state"] == "held"
    assert [(e["to"], e["reason"]) for e in thread["handoff_events"]] == [
        ("agent:desk", "agent_took_over"),
        ("bot", "agent_released"),
    ]
    assert thread["reservation"]["booking_code"] == "MDP-4F7K2Q"
    agent_message = next(m for m in thread["messages"] if m["wamid"] == wamid)
    assert {s["status"] for s in agent_message["statuses"]} >= {"sent", "delivered"}


async def test_a_bot_answer_on_its_way_when_an_agent_takes_over_is_not_sent(
    server: GatewayServer, desk: AgentsApi, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    """The bot is still working on the guest's message (a slow reservation look-up) when an agent takes the
    thread over: its answer is recorded as blocked, with why, and the guest only hears from the agent."""
    taken_over = asyncio.Event()

    async def slow_echo(message: UserMessage) -> None:
        await taken_over.wait()
        await echo(message)

    bot.answer = slow_echo
    await sandbox.guest_says(LUCIA, "¿Tienen cuna para bebé?")
    await bot.wait_for(1)
    assert (await desk.post(f"{thread_path()}/takeover")).status_code == 200
    taken_over.set()
    await server.settle()

    thread = (await desk.get(thread_path())).json()
    [answer] = [m for m in thread["messages"] if m["direction"] == "outbound"]
    assert (answer["origin"], answer["state"]) == ("bot", "blocked")
    assert answer["blocked_reason"] == AGENT_TOOK_OVER
    assert answer["text"] == "echo: ¿Tienen cuna para bebé?"
    assert [e for e in await sandbox.thread(LUCIA) if e["direction"] == "outbound"] == []


async def test_the_bot_hands_over_with_the_contract_message(
    server: GatewayServer, boss: AgentsApi, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    async def hand_over(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Una persona le responderá enseguida.")
        await message.output_channel.send_custom_json(message.sender_id, HANDOFF)

    bot.answer = hand_over
    await guest_writes(sandbox, server, "Quiero hablar con una persona")
    await bot.wait_for(1)
    await eventually(lambda: _state(boss, "queue"))
    outbound = await sandbox_outbound(sandbox)
    assert [e["type"] for e in outbound] == ["text"], "the gateway instruction must never reach WhatsApp"

    # Waiting is not silence: the bot still gets the guest's messages, told the thread is in the queue; its
    # second hand-over changes nothing.
    bot.answer = echo
    await guest_writes(sandbox, server, "¿Hola?")
    await bot.wait_for(2)
    assert bot.received[0].metadata.get("handoff") is None
    assert bot.received[1].metadata["handoff"] == "queue"
    await eventually(lambda: _received(sandbox, "echo: ¿Hola?"))
    queued = (await boss.get("/conversations", params={"state": "held"})).json()["conversations"]
    assert [(c["wa_id"], c["handoff"]["reason"]) for c in queued] == [(LUCIA, "guest_asked")]
    events = (await boss.get(thread_path())).json()["handoff_events"]
    assert [(e["from"], e["to"], e["actor"]) for e in events] == [("bot", "queue", "bot")]


async def _received(sandbox: SandboxClient, text: str) -> bool:
    return text in [e["content"].get("body") for e in await sandbox_outbound(sandbox)]


async def _state(api: AgentsApi, state: str) -> bool:
    thread = (await api.get(thread_path())).json()
    return thread["conversation"]["handoff"]["state"] == state


async def test_outside_the_window_an_agent_gets_the_templates_or_reopens(
    server: GatewayServer, desk: AgentsApi, clock: MovableClock, sandbox: SandboxClient, bot: RecordingBot
) -> None:
    await guest_writes(sandbox, server, "Hola, una pregunta sobre el parking")
    await sandbox.advance(DAY + 60)
    clock.offset += DAY + 60

    refused = await desk.post(f"{thread_path()}/reply", json={"text": "Sí, tenemos parking."})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "window_closed"
    assert "24 hours" in error["reason"]
    first = error["templates"][0]
    assert first["language"] == "es"
    reminder = next(t for t in error["templates"] if t["name"] == "reservation_reminder" and t["language"] == "es")
    assert reminder["parameters"] == ["Lucía", "18/12/2026", "Hotel Mirador del Puerto"]
    payment = next(t for t in error["templates"] if t["name"] == "payment_request" and t["language"] == "es")
    assert payment["parameters"] == ["Lucía", "289.40 EUR", "https://pay.example.com/MDP-4F7K2Q"]

    bad = await desk.post(
        f"{thread_path()}/template", json={"name": "payment_request", "language": "es", "parameters": ["x"]}
    )
    assert bad.status_code == 422
    sent = await desk.post(
        f"{thread_path()}/template",
        json={"name": "payment_request", "language": "es", "parameters": payment["parameters"]},
    )
    assert sent.status_code == 200, sent.text

    reopened = await desk.post(
        f"{thread_path()}/reply", json={"text": "Sí, tenemos parking por 18 EUR.", "reopen": True}
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["held_reply"]["state"] == "waiting"
    templates = [e["content"]["name"] for e in await sandbox_outbound(sandbox) if e["type"] == "template"]
    assert templates == ["payment_request", "reopen_conversation"]
    assert not [e for e in await sandbox_outbound(sandbox) if e["type"] == "text"]

    await guest_writes(sandbox, server, "Dígame")
    texts = await eventually(lambda: _texts(sandbox))
    assert texts == ["Sí, tenemos parking por 18 EUR."]
    assert len(bot.received) == 1, "the agent holds the thread: the guest's answer is not the bot's"
    thread = (await desk.get(thread_path())).json()
    assert thread["held_replies"] == []
    assert thread["messages"][-1]["origin"] == "agent:desk"


async def _texts(sandbox: SandboxClient) -> list[str]:
    return [e["content"]["body"] for e in await sandbox_outbound(sandbox) if e["type"] == "text"]


async def test_a_held_thread_goes_back_to_the_bot_when_no_agent_answers(
    tmp_path: Path, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient
) -> None:
    settings = settings_for(
        sandbox.base_url,
        f"sqlite+aiosqlite:///{tmp_path / 'idle.db'}",
        api_tokens=parse_tokens(TOKENS),
        handoff_idle_release_minutes=10.0,
        sweep_seconds=0.1,
    )
    server = GatewayServer(settings, bot, clock)
    await server.start()
    await sandbox.configure(webhook_url=server.webhook_url)
    api = AgentsApi(server.url, "desk-secret")
    try:
        await guest_writes(sandbox, server, "Hola")
        await api.post(f"{thread_path()}/takeover")
        clock.offset += 9 * 60
        await asyncio.sleep(0.4)
        assert await _state(api, "agent")
        clock.offset += 2 * 60
        await eventually(lambda: _state(api, "bot"))
        events = (await api.get(thread_path())).json()["handoff_events"]
        assert [(e["to"], e["reason"], e["actor"]) for e in events][-1] == ("bot", "idle_release", "gateway")
    finally:
        await api.close()
        await server.stop()


async def test_the_event_stream_shows_messages_statuses_and_handoffs_of_the_tokens_hotels(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "Hola")
    seen: list[tuple[str, dict[str, Any]]] = []

    connected = asyncio.Event()
    listener = asyncio.create_task(listen(server.url, "desk-secret", seen, connected))
    await asyncio.wait_for(connected.wait(), 10)
    await guest_writes(sandbox, server, "Hola desde Alameda", to=ALAMEDA)
    await guest_writes(sandbox, server, "Otra pregunta")
    await desk.post(f"{thread_path()}/takeover")
    reply = await desk.post(f"{thread_path()}/reply", json={"text": "Dígame"})
    wamid = reply.json()["messages"][0]["wamid"]

    def saw(kind: str, **fields: Any) -> bool:
        return any(k == kind and all(d.get(f) == v for f, v in fields.items()) for k, d in seen)

    async def everything() -> bool:
        return (
            saw("message", text="Otra pregunta")
            and saw("handoff", to="agent:desk")
            and saw("status", wamid=wamid, status="delivered")
        )

    try:
        await eventually(everything)
    finally:
        listener.cancel()
    assert not saw("message", text="Hola desde Alameda"), "another hotel's message reached a Mirador-only token"
    assert not saw("message", text="Hola"), "the stream replays what happened before it started"


async def test_bad_requests_get_a_clear_answer(server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient) -> None:
    await guest_writes(sandbox, server, "Hola")
    assert (await desk.get("/conversations", params={"state": "sleeping"})).status_code == 422
    assert (await desk.get("/conversations", params={"limit": "0"})).status_code == 422
    assert (await desk.get("/search", params={"q": "a"})).status_code == 422
    assert (await desk.post(f"{thread_path()}/reply", json={"text": " "})).status_code == 422
    unknown = await desk.post(f"{thread_path()}/template", json={"name": "nope", "language": "es", "parameters": []})
    assert unknown.json()["error"]["code"] == "unknown_template"
    assert desk.checked == 5


async def test_pages_and_filters(server: GatewayServer, boss: AgentsApi, sandbox: SandboxClient) -> None:
    for wa_id in (LUCIA, OLIVER, "33612345678"):
        await guest_writes(sandbox, server, f"Hola de {wa_id}", wa_id=wa_id)
    first = (await boss.get("/conversations", params={"limit": 2})).json()
    second = (await boss.get("/conversations", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    order = [c["wa_id"] for c in first["conversations"] + second["conversations"]]
    assert order == ["33612345678", OLIVER, LUCIA]
    assert second["next_cursor"] is None
    assert [c["wa_id"] for c in (await boss.get("/search", params={"q": "4477009"})).json()["conversations"]] == [
        OLIVER
    ]
    assert len((await boss.get("/conversations", params={"window": "open"})).json()["conversations"]) == 3
    assert (await boss.get("/conversations", params={"window": "closed"})).json()["conversations"] == []
    await boss.post(f"{thread_path(MIRADOR, OLIVER)}/takeover")
    held = (await boss.get("/conversations", params={"state": "agent", "hotel": MIRADOR})).json()["conversations"]
    assert [c["wa_id"] for c in held] == [OLIVER]


async def test_unread_counts_each_threads_guest_messages_since_its_own_last_answer(
    server: GatewayServer, boss: AgentsApi, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    """Lucía writes twice with no answer; then Oliver writes and the bot answers him. Lucía's two messages
    stay unread: another thread's answer says nothing about hers."""
    await guest_writes(sandbox, server, "Hola", wa_id=LUCIA)
    await guest_writes(sandbox, server, "¿Hay parking?", wa_id=LUCIA)
    bot.answer = echo
    await guest_writes(sandbox, server, "Hello", wa_id=OLIVER)
    await bot.wait_for(3)
    await server.settle()

    listed = (await boss.get("/conversations")).json()["conversations"]

    assert [(c["wa_id"], c["unread"], c["last_origin"]) for c in listed] == [(OLIVER, 0, "bot"), (LUCIA, 2, "guest")]
    [lucia] = (await boss.get("/search", params={"q": LUCIA})).json()["conversations"]
    assert lucia["unread"] == 2


async def test_the_openapi_description_is_served(server: GatewayServer) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{server.url}{PREFIX}/openapi.json")
    assert answer.json() == json.loads(json.dumps(SPEC))
