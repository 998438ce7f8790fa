"""The webhook path of the real channel blueprint on a real Sanic server: verify, store, acknowledge, process."""

from __future__ import annotations

import asyncio
import copy
import gc
import hashlib
import hmac
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.whatsapp.store import StoreClosedError, inbox, messages
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, database_url, empty_database, settings_for
from tests.support import APP_SECRET, VERIFY_TOKEN, SandboxClient

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


async def post(gateway: GatewayServer, payload: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    async with httpx.AsyncClient() as client:
        return await client.post(
            gateway.webhook_url, content=body, headers=headers if headers is not None else signed(body)
        )


async def test_what_start_up_built_is_frozen_out_of_the_collectors_sight(
    tmp_path: Path, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """Full collections walk only what was made since start, not Rasa and the model (80-100 ms each, else)."""
    gc.unfreeze()
    server = GatewayServer(settings_for(sandbox.base_url, database_url("sqlite", tmp_path)), bot, clock)
    await server.start()
    try:
        assert gc.get_freeze_count() > 100_000
    finally:
        await server.stop()


async def test_verification_handshake(gateway: GatewayServer) -> None:
    async with httpx.AsyncClient() as client:
        ok = await client.get(
            gateway.webhook_url,
            params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
        )
        assert (ok.status_code, ok.text) == (200, "1158201444")
        wrong = await client.get(
            gateway.webhook_url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
        )
        assert wrong.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Hub-Signature-256": "sha256=" + "0" * 64}, signed(b"another body"), signed(b"x", "wrong-secret")],
    ids=["missing", "zeros", "other body", "other secret"],
)
async def test_bad_signature_gets_403_and_nothing_is_stored(
    gateway: GatewayServer, bot: RecordingBot, headers: dict[str, str]
) -> None:
    body = json.dumps(fixture("text")).encode()
    response = await post(gateway, body, headers)
    assert response.status_code == 403
    await gateway.settle()
    assert await gateway.count(inbox) == 0
    assert await gateway.count(messages) == 0
    assert bot.received == []


async def test_a_text_message_reaches_the_bot_with_its_metadata(gateway: GatewayServer, bot: RecordingBot) -> None:
    response = await post(gateway, fixture("text"))
    assert (response.status_code, response.text) == (200, "EVENT_RECEIVED")
    [message] = await bot.wait_for(1)
    assert message.text == "¿A qué hora es el check-in?"
    assert message.sender_id == "106540352242922:34612345678"
    assert message.input_channel == "whatsapp"
    assert message.message_id == "wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBQzTXTQUFCQ0RFRjAxMjM0NTY3ODkwAA=="
    assert message.metadata["wa_id"] == "34612345678"
    assert message.metadata["profile_name"] == "Lucía"
    assert message.metadata["phone_number_id"] == "106540352242922"
    assert message.metadata["type"] == "text"
    assert message.metadata["timestamp"] == 1751371200


async def test_a_duplicate_delivery_is_processed_once(gateway: GatewayServer, bot: RecordingBot) -> None:
    payload = fixture("text")
    for _ in range(3):
        assert (await post(gateway, payload)).status_code == 200
    await gateway.settle()
    assert len(bot.received) == 1
    assert await gateway.count(inbox) == 3
    assert await gateway.count(messages) == 1


async def test_a_webhook_arriving_while_the_gateway_stops_gets_503_so_meta_delivers_it_again(
    gateway: GatewayServer, bot: RecordingBot
) -> None:
    await gateway.store.close()
    with pytest.raises(StoreClosedError):
        await gateway.store.last_inbound("1000000001", "34612345678")
    response = await post(gateway, fixture("text"))
    assert response.status_code == 503
    assert "deliver again" in response.text
    assert bot.received == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"text"', b"null", json.dumps({"object": "page"}).encode()])
async def test_a_malformed_body_is_kept_acknowledged_and_harmless(
    gateway: GatewayServer, bot: RecordingBot, body: bytes
) -> None:
    response = await post(gateway, body)
    assert response.status_code == 200
    await gateway.settle()
    async with gateway.store.engine.connect() as connection:
        import sqlalchemy as sa

        [row] = (await connection.execute(sa.select(inbox))).all()
    assert row.body == body
    assert row.state in ("malformed", "done")
    assert row.state == "malformed" or row.error
    assert bot.received == []
    assert (await post(gateway, fixture("text"))).status_code == 200
    await bot.wait_for(1)


async def test_an_unknown_type_reaches_the_bot_as_something_it_handles(
    gateway: GatewayServer, bot: RecordingBot
) -> None:
    await post(gateway, fixture("unknown_type"))
    [message] = await bot.wait_for(1)
    assert message.text == "/unsupported_message"
    assert message.metadata["type"] not in ("text", None)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("interactive_button_reply", "late_checkout"),
        ("interactive_list_reply", '/choose_room{"room_type":"double"}'),
        ("template_button", "CONFIRM_BOOKING"),
        ("location", "/share_location"),
        ("reaction", "/react"),
        ("contacts", "/share_contact"),
    ],
)
async def test_interactive_replies_give_rasa_the_payload_and_other_types_an_intent(
    gateway: GatewayServer, bot: RecordingBot, name: str, text: str
) -> None:
    await post(gateway, fixture(name))
    [message] = await bot.wait_for(1)
    assert message.text == text


async def test_a_batch_reaches_the_bot_in_whatsapp_order_per_conversation(
    gateway: GatewayServer, bot: RecordingBot
) -> None:
    payload = fixture("text")
    value = payload["entry"][0]["changes"][0]["value"]
    original = value["messages"][0]
    batch = []
    for i, (wa_id, ts) in enumerate(
        [("34611111111", 30), ("34611111111", 10), ("34622222222", 5), ("34611111111", 20)]
    ):
        item = copy.deepcopy(original)
        item.update(
            {"from": wa_id, "id": f"wamid.batch{i}", "timestamp": str(1751371200 + ts), "text": {"body": f"m{ts}"}}
        )
        batch.append(item)
    value["messages"] = batch
    value["contacts"] = [
        {"profile": {"name": "A"}, "wa_id": "34611111111"},
        {"profile": {"name": "B"}, "wa_id": "34622222222"},
    ]
    await post(gateway, payload)
    await bot.wait_for(4)
    first_guest = [m.text for m in bot.received if m.metadata["wa_id"] == "34611111111"]
    assert first_guest == ["m10", "m20", "m30"]
    assert {m.metadata["profile_name"] for m in bot.received} == {"A", "B"}


async def test_statuses_never_go_back(gateway: GatewayServer) -> None:
    payload = fixture("statuses")
    response = await post(gateway, payload)
    assert response.status_code == 200
    await gateway.settle()
    from connectors.whatsapp.store import statuses

    assert await gateway.count(statuses) >= 1


async def test_duplicates_are_recognised_across_processes_and_restarts(
    gateway: GatewayServer, bot: RecordingBot
) -> None:
    """A second gateway on the same database (another replica, or this one restarted) never redoes a message."""
    other_bot = RecordingBot()
    other = GatewayServer(gateway.settings, other_bot, gateway.clock)
    await other.start()
    try:
        payload = fixture("text")
        await asyncio.gather(post(gateway, payload), post(other, payload), post(gateway, payload), post(other, payload))
        await gateway.settle()
        await other.settle()
    finally:
        await other.stop()
    assert len(bot.received) + len(other_bot.received) == 1

    restarted_bot = RecordingBot()
    restarted = GatewayServer(gateway.settings, restarted_bot, gateway.clock)
    await restarted.start()
    try:
        await post(restarted, fixture("text"))
        await restarted.settle()
    finally:
        await restarted.stop()
    assert restarted_bot.received == []


async def test_webhooks_left_unprocessed_are_processed_by_a_live_replica(
    gateway: GatewayServer, bot: RecordingBot
) -> None:
    """An ingest-only replica stores and acknowledges; the processing replica's sweep answers the messages."""
    ingest_only = GatewayServer(replace(gateway.settings, process_inbox=False), RecordingBot(), gateway.clock)
    await ingest_only.start()
    try:
        assert (await post(ingest_only, fixture("text"))).status_code == 200
        await ingest_only.settle()
        assert ingest_only.bot.received == []
    finally:
        await ingest_only.stop()
    processor = gateway.channel.gateway.processor
    assert processor is not None
    await processor.recover()
    await gateway.settle()  # the recovered messages go to the bot in background tasks
    assert [m.text for m in bot.received] == ["¿A qué hora es el check-in?"]


async def test_a_database_restart_costs_at_most_one_refused_webhook_and_loses_nothing(
    tmp_path: Path, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """Connections are not pinged before use (a round trip on every transaction): after PostgreSQL drops them,
    the first statement on one fails, the pool reconnects, and Meta's redelivery is stored and answered."""
    url = database_url("postgresql", tmp_path)
    await empty_database(url)
    server = GatewayServer(settings_for(sandbox.base_url, url), bot, clock)
    await server.start()
    try:
        assert (await post(server, fixture("text"))).status_code == 200
        await bot.wait_for(1)
        await server.settle()

        await _drop_other_connections(url)
        payload = fixture("text")
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.after-restart"
        statuses = []
        for _ in range(3):  # Meta delivers again until it gets a 200
            statuses.append((await post(server, payload)).status_code)
            if statuses[-1] == 200:
                break
        assert statuses[-1] == 200, statuses
        assert len(statuses) <= 2, statuses
        await bot.wait_for(2)
        assert [m.message_id for m in bot.received][-1] == "wamid.after-restart"
    finally:
        await server.stop()


async def _drop_other_connections(url: str) -> None:
    """What a PostgreSQL restart does to the gateway's pooled connections."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.connect() as connection:
        dropped = await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        assert dropped.all(), "the gateway had connections open"
    await engine.dispose()


async def test_a_webhook_that_arrives_while_the_gateway_stops_is_refused_and_not_stored(
    gateway: GatewayServer, bot: RecordingBot
) -> None:
    """Once the stop has begun, nothing new is committed: the stop's flush waits only for what it let in."""
    inbox_before = await gateway.count(inbox)
    gateway.channel.gateway.stopping = True
    try:
        answer = await post(gateway, fixture("text"))
    finally:
        gateway.channel.gateway.stopping = False
    assert (answer.status_code, answer.text) == (503, "the gateway is stopping; deliver again")
    assert await gateway.count(inbox) == inbox_before


async def _hang_up_after_sending(gateway: GatewayServer, body: bytes) -> None:
    """A client that sends a whole signed webhook and leaves without waiting for the answer (as wrk does at
    the end of a run, or Meta's side when a connection drops)."""
    _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    head = "".join(f"{name}: {value}\r\n" for name, value in signed(body).items())
    writer.write(
        f"POST /webhooks/whatsapp/webhook HTTP/1.1\r\nHost: x\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    writer.close()


async def test_clients_that_hang_up_stall_nobody_else_and_their_webhooks_are_stored(gateway: GatewayServer) -> None:
    """Each webhook waits for the commit it shares with the others; one whose client left is cancelled by
    Sanic. The commit must still answer every other webhook of its batch, and the next batches."""
    payloads = [copy.deepcopy(fixture("text")) for _ in range(60)]
    for number, payload in enumerate(payloads):
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = f"wamid.hangup-{number}"
    bodies = [json.dumps(payload).encode() for payload in payloads]
    async with httpx.AsyncClient(timeout=10) as client:
        answers = await asyncio.gather(
            *(
                _hang_up_after_sending(gateway, body)
                if number % 3 == 0
                else client.post(gateway.webhook_url, content=body, headers=signed(body))
                for number, body in enumerate(bodies)
            )
        )
        later = await client.post(gateway.webhook_url, content=bodies[1], headers=signed(bodies[1]))
    assert [a.status_code for a in answers if a is not None] == [200] * 40
    assert later.status_code == 200
    await gateway.settle()
    assert await gateway.count(messages) == 60
