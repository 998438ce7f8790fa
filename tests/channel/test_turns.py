"""Bot turns that survive a stopped process, keep a guest's order, and never end in silence.

A process that "stopped" is played by its records: what the real processor and sender of a process write
before a kill (a guest message recorded and claimed, its turn started, some answers recorded before their
Graph calls), left in the store with no heartbeat behind them. The live gateway, its sender and the sandbox
are real. The SIGKILLs of real processes are in `tests/crash`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from cloudapi.graph import GraphClient
from cloudapi.outbound import addressed
from connectors.whatsapp.handoff import BOT_ERROR, apology
from connectors.whatsapp.sending import Recipient, Sender
from connectors.whatsapp.settings import GatewaySettings
from connectors.whatsapp.store import DispatchStore, GatewayStore, OutboundRecord, StatusRecord
from connectors.whatsapp.webhook.processing import interpret
from tests.channel.test_sandbox_roundtrip import eventually, outbound_rows
from tests.gateway_support import (
    GatewayServer,
    MovableClock,
    RecordingBot,
    database_url,
    echo,
    empty_database,
    settings_for,
)
from tests.support import LUCIA, MIRADOR, OLIVER, SandboxClient, free_port

DEAD = "deadbeef0000"


@pytest.fixture
async def settings(db_kind: str, tmp_path: Any, sandbox: SandboxClient) -> GatewaySettings:
    url = database_url(db_kind, tmp_path)
    if db_kind == "postgresql":
        await empty_database(url)
    return settings_for(sandbox.base_url, url, turn_retry_seconds=0.05, resend_wait_seconds=0.5)


@asynccontextmanager
async def running(
    settings: GatewaySettings, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient
) -> AsyncIterator[GatewayServer]:
    """A gateway the sandbox delivers to, stopped after the block."""
    server = GatewayServer(settings, bot, clock)
    await server.start()
    try:
        await sandbox.configure(webhook_url=server.webhook_url)
        yield server
    finally:
        await server.stop()


async def stored_by_a_process_that_stops(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient, texts: list[str]
) -> list[str]:
    """The guest writes `texts`; a process records and claims them as `DEAD` would, then never beats again."""
    ingest = GatewayServer(replace(settings, process_inbox=False), RecordingBot(), clock)
    await ingest.start()
    try:
        await sandbox.configure(webhook_url=ingest.webhook_url)
        wamids = []
        for text in texts:
            wamid = await sandbox.guest_says(LUCIA, text)
            await sandbox.wait_for_entry(LUCIA, wamid, lambda e: e["webhook"]["acknowledged"])
            wamids.append(wamid)
        new = await ingest.store.process_webhooks(f"{DEAD}:0", clock(), 50, interpret)
        assert [r.wamid for r in new or []] == wamids
    finally:
        await ingest.stop()
    return wamids


async def guest_received(sandbox: SandboxClient, wa_id: str = LUCIA) -> list[str]:
    return [e["content"]["body"] for e in await sandbox.thread(wa_id, MIRADOR) if e["direction"] == "outbound"]


def answering(*texts: str) -> Any:
    async def answer(message: UserMessage) -> None:
        for text in texts:
            await message.output_channel.send_text_message(message.sender_id, text)

    return answer


async def test_a_turn_taken_over_sends_only_what_had_not_gone_out(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """The stopped process had sent the turn's first answer and was in the Graph call of the second (recorded
    `sending`, never received): the second is sent again (the one in-flight call), the first is not."""
    [wamid] = await stored_by_a_process_that_stops(settings, clock, sandbox, ["¿Hay parking?"])
    store = GatewayStore.from_url(settings.database_url)
    graph = GraphClient(settings.graph)
    try:
        await DispatchStore(store).start_turn(wamid, clock())
        first = await Sender(store, graph, clock).send(
            Recipient(MIRADOR, LUCIA), {"type": "text", "text": {"body": "Sí, hay parking."}}, key=f"reply:{wamid}#1"
        )
        assert first.state == "accepted"
        in_flight = OutboundRecord(
            MIRADOR, LUCIA, "text", "Cuesta 15 € al día.", {}, "sending", "bot", send_key=f"reply:{wamid}#2"
        )
        await store.record_send(in_flight, clock())
    finally:
        await graph.close()
        await store.close()

    bot = RecordingBot(answer=answering("Sí, hay parking.", "Cuesta 15 € al día.", "¿Algo más?"))
    async with running(settings, bot, clock, sandbox) as gateway:
        await bot.wait_for(1)
        await gateway.settle()
        expected = ["Sí, hay parking.", "Cuesta 15 € al día.", "¿Algo más?"]
        assert await eventually(lambda: _when_equal(guest_received(sandbox), expected)) == expected
        rows = await outbound_rows(gateway)
        assert [(r["send_key"], r["state"]) for r in rows] == [(f"reply:{wamid}#{n}", "accepted") for n in (1, 2, 3)]
        [inbound] = [r for r in await gateway.store.thread(MIRADOR, LUCIA) if r["direction"] == "inbound"]
        assert inbound["state"] == "handled"
    assert len(bot.received) == 1


async def test_a_send_in_flight_at_the_stop_that_whatsapp_got_is_settled_by_its_status_not_sent_again(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """The Graph call reached WhatsApp but its process stopped before the answer: the send's status webhooks,
    delivered again to the live process, name it by its key, and it is not sent twice."""
    [wamid] = await stored_by_a_process_that_stops(settings, clock, sandbox, ["¿Hay parking?"])
    store = GatewayStore.from_url(settings.database_url)
    graph = GraphClient(settings.graph)
    try:
        await DispatchStore(store).start_turn(wamid, clock())
        key = f"reply:{wamid}#1"
        body = {"type": "text", "text": {"body": "Sí, hay parking."}}
        await store.record_send(OutboundRecord(MIRADOR, LUCIA, "text", "Sí", body, "sending", "bot", send_key=key), 0)
        await sandbox.configure(webhook_url=f"http://127.0.0.1:{free_port()}/gone", retry_base_ms=300)
        await graph.send(MIRADOR, addressed(body, LUCIA, callback_data=key))  # its answer is lost with the process
    finally:
        await graph.close()
        await store.close()

    bot = RecordingBot(answer=answering("Sí, hay parking.", "¿Algo más?"))
    async with running(replace(settings, resend_wait_seconds=15), bot, clock, sandbox) as gateway:
        await bot.wait_for(1)
        await gateway.settle()
        assert await guest_received(sandbox) == ["Sí, hay parking.", "¿Algo más?"]
        rows = await outbound_rows(gateway)
        assert [r["state"] for r in rows] == ["accepted", "accepted"]
    await sandbox.configure(retry_base_ms=500)


async def _when_equal(values: Any, expected: list[str]) -> list[str] | None:
    got = await values
    return got if got == expected else None


async def test_a_conversation_waits_for_its_older_message_held_by_another_process(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """The older message belongs to a process that still looks alive; the newer one, recorded here, waits
    until that process is known stopped (its heartbeat times out), then both go to the bot in order."""
    await stored_by_a_process_that_stops(settings, clock, sandbox, ["uno"])
    store = GatewayStore.from_url(settings.database_url)
    try:
        await DispatchStore(store).beat(DEAD, clock(), 1.0)
    finally:
        await store.close()
    bot = RecordingBot()
    async with running(replace(settings, worker_timeout_seconds=1.0), bot, clock, sandbox):
        await sandbox.guest_says(LUCIA, "dos")
        await bot.wait_for(2)
        assert [m.text for m in bot.received] == ["uno", "dos"]


async def test_a_process_that_stops_cleanly_leaves_the_live_ones_at_once(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    async with running(settings, RecordingBot(), clock, sandbox) as gateway:
        owner = gateway.channel.gateway.owner
        await gateway.settle()
        assert owner in await DispatchStore(gateway.store).live_owners(clock(), settings.worker_timeout_seconds)
    reopened = GatewayStore.from_url(settings.database_url)
    try:
        assert owner not in await DispatchStore(reopened).live_owners(clock(), 60)
    finally:
        await reopened.close()


async def test_a_turn_that_keeps_failing_is_handed_to_reception_with_an_apology(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    bot = RecordingBot(answer=_fail)
    async with running(replace(settings, turn_attempts=3), bot, clock, sandbox) as gateway:
        await sandbox.guest_says(LUCIA, "¿A qué hora es el check-in?")
        await sandbox.guest_says(OLIVER, "What time is check-in?")
        await bot.wait_for(6)
        await gateway.settle()
        assert await eventually(lambda: guest_received(sandbox)) == [apology("es")]
        assert await eventually(lambda: guest_received(sandbox, OLIVER)) == [apology("en")]
        for wa_id in (LUCIA, OLIVER):
            handoff = await gateway.channel.gateway.handoffs.state(MIRADOR, wa_id)
            assert (handoff.holder, handoff.reason) == ("queue", BOT_ERROR)
    assert len(bot.received) == 6


async def _fail(message: UserMessage) -> None:
    raise RuntimeError("the action server is down")


async def test_a_turn_that_fails_once_is_answered_on_its_retry_and_stays_with_the_bot(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    failures = [RuntimeError("the action server is restarting")]

    async def flaky(message: UserMessage) -> None:
        if failures:
            raise failures.pop()
        await echo(message)

    bot = RecordingBot(answer=flaky)
    async with running(settings, bot, clock, sandbox) as gateway:
        await sandbox.guest_says(LUCIA, "hola")
        await bot.wait_for(2)
        await gateway.settle()
        assert await eventually(lambda: guest_received(sandbox)) == ["echo: hola"]
        assert (await gateway.channel.gateway.handoffs.state(MIRADOR, LUCIA)).holder == "bot"


async def test_a_send_that_times_out_is_not_sent_again_and_its_status_settles_it(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """WhatsApp got the message but answered after the client's timeout: retrying would reach the guest
    twice. The send is recorded `unknown`, and its status webhooks (which echo its key) settle it."""
    bot = RecordingBot(answer=echo)
    impatient = replace(settings, send_timeout_seconds=0.4, mark_read=False)
    async with running(impatient, bot, clock, sandbox) as gateway:
        try:
            await sandbox.configure(fault_delay_rate=1.0, fault_delay_ms=1200)
            await sandbox.guest_says(LUCIA, "hola")
            await bot.wait_for(1)
            await gateway.settle()
            [row] = await outbound_rows(gateway)
            assert (row["state"], row["wamid"]) == ("unknown", None)
            assert "no answer from WhatsApp in time" in row["error_title"]
            [settled] = await eventually(lambda: _settled(gateway))
        finally:
            await sandbox.configure(fault_delay_rate=0.0, fault_delay_ms=0)
        [sent] = [e for e in await sandbox.thread(LUCIA, MIRADOR) if e["direction"] == "outbound"]
        assert (settled["wamid"], settled["error_title"]) == (sent["wamid"], None)


async def _settled(gateway: GatewayServer) -> list[dict[str, Any]]:
    rows = await outbound_rows(gateway)
    return rows if rows and all(r["state"] == "accepted" and r["status"] for r in rows) else []


async def test_a_send_recorded_again_under_its_key_finds_the_first_record(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    async with running(settings, RecordingBot(), clock, sandbox) as gateway:
        record = OutboundRecord(MIRADOR, LUCIA, "text", "Hola", {}, "sending", "bot", send_key="reply:wamid.x#1")
        first = await gateway.store.record_send(record, clock())
        await gateway.store.finish_send(first.message_id, "accepted", clock(), wamid="wamid.out")
        again = await gateway.store.record_send(replace(record, text="Hola otra vez"), clock())
        assert (again.message_id, again.earlier, again.wamid) == (first.message_id, "accepted", "wamid.out")
        assert [r["text"] for r in await outbound_rows(gateway)] == ["Hola"]


async def test_statuses_of_several_sends_settle_them_in_one_batch(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """Sends whose answers never came learn their wamids from statuses recorded together (one statement)."""
    async with running(settings, RecordingBot(), clock, sandbox) as gateway:
        store = gateway.store
        slots = []
        for n in (1, 2):
            record = OutboundRecord(MIRADOR, LUCIA, "text", f"m{n}", {}, "sending", "bot", send_key=f"reply:w#{n}")
            slots.append(await store.record_send(record, clock()))
        await store.finish_send(slots[0].message_id, "unknown", clock())
        sent = [StatusRecord(f"wamid.out{n}", "sent", 1751371260, LUCIA, callback_data=f"reply:w#{n}") for n in (1, 2)]
        async with store.transaction() as connection:
            await store.record_statuses(connection, sent, clock())
        rows = await outbound_rows(gateway)
        assert [(r["state"], r["wamid"], r["status"]) for r in rows] == [
            ("accepted", "wamid.out1", "sent"),
            ("accepted", "wamid.out2", "sent"),
        ]
