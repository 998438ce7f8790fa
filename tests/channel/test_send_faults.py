"""The bot's answers under the sandbox's faults: 5xx, answers later than the client waits, throughput and
pair-rate limits. Every answer reaches its guest once or is recorded as failed with its error; none is sent
twice, none is left without an outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from connectors.whatsapp.settings import GatewaySettings
from connectors.whatsapp.tokens import parse_tokens
from tests.channel.agents_api import AgentsApi
from tests.channel.test_sandbox_roundtrip import eventually
from tests.channel.test_turns import running
from tests.gateway_support import (
    GatewayServer,
    MovableClock,
    RecordingBot,
    database_url,
    echo,
    empty_database,
    settings_for,
)
from tests.support import MIRADOR, SandboxClient

GUESTS = [f"3461700{n:04d}" for n in range(24)]


@pytest.fixture
async def settings(db_kind: str, tmp_path: Any, sandbox: SandboxClient) -> AsyncIterator[GatewaySettings]:
    url = database_url(db_kind, tmp_path)
    if db_kind == "postgresql":
        await empty_database(url)
    yield settings_for(sandbox.base_url, url, mark_read=False)
    await sandbox.configure(
        fault_error_rate=0.0,
        fault_delay_rate=0.0,
        fault_delay_ms=0,
        throughput_limit=80,
        pair_burst=45,
        pair_interval=6,
    )


async def everyone_writes(sandbox: SandboxClient, bot: RecordingBot) -> None:
    for wa_id in GUESTS:
        await sandbox.guest_says(wa_id, f"hola de {wa_id}")
    await bot.wait_for(len(GUESTS), timeout=30)


async def outcomes(
    gateway: GatewayServer, sandbox: SandboxClient
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
    """Per guest: the gateway's outbound rows, and the bodies the guest received."""
    rows = {
        wa_id: [r for r in await gateway.store.thread(MIRADOR, wa_id) if r["direction"] == "outbound"]
        for wa_id in GUESTS
    }
    received = {
        wa_id: [e["content"]["body"] for e in await sandbox.thread(wa_id, MIRADOR) if e["direction"] == "outbound"]
        for wa_id in GUESTS
    }
    return rows, received


def assert_each_once_or_failed(
    rows: dict[str, list[dict[str, Any]]], received: dict[str, list[str]], per_guest: int
) -> int:
    """Every answer has one row with an outcome; the guest got each accepted one once, and no failed one.
    Returns how many failed."""
    failed = 0
    for wa_id in GUESTS:
        assert len(rows[wa_id]) == per_guest, rows[wa_id]
        accepted = [r["text"] for r in rows[wa_id] if r["state"] == "accepted"]
        refused = [r for r in rows[wa_id] if r["state"] == "failed"]
        assert len(accepted) + len(refused) == per_guest, [r["state"] for r in rows[wa_id]]
        assert all(r["error_code"] is not None for r in refused), refused
        assert received[wa_id] == accepted, (wa_id, received[wa_id], accepted)
        failed += len(refused)
    return failed


async def test_answers_under_5xx_on_30_percent_of_sends(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    bot = RecordingBot(answer=echo)
    async with running(settings, bot, clock, sandbox) as gateway:
        await sandbox.configure(fault_error_rate=0.3)
        await everyone_writes(sandbox, bot)
        await gateway.settle()
        failed = assert_each_once_or_failed(*await outcomes(gateway, sandbox), per_guest=1)
        assert failed <= 2  # five attempts each: 0.3**5 of them fail, a 0.06 % chance each


async def test_answers_that_arrive_after_the_client_stopped_waiting_are_never_sent_twice(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    bot = RecordingBot(answer=echo)
    impatient = replace(settings, send_timeout_seconds=0.4, resend_wait_seconds=0.2)
    async with running(impatient, bot, clock, sandbox) as gateway:
        await sandbox.configure(fault_delay_rate=0.5, fault_delay_ms=1000)
        await everyone_writes(sandbox, bot)
        await gateway.settle()
        rows, _ = await outcomes(gateway, sandbox)
        assert any(r["state"] == "unknown" for g in rows.values() for r in g), "no send outlived the client's wait"

        async def settled() -> Any:
            rows, received = await outcomes(gateway, sandbox)
            return (rows, received) if all(r["state"] == "accepted" for g in rows.values() for r in g) else None

        rows, received = await eventually(settled, timeout=20)
        assert assert_each_once_or_failed(rows, received, per_guest=1) == 0
        assert all(len(bodies) == 1 for bodies in received.values())


async def test_a_late_answer_holds_the_conversation_until_its_status_so_the_guest_reads_in_order(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """The first answer outlives the client's wait (WhatsApp takes it late); the next ones are quick. Going
    on at once would put them before it; waiting for its status keeps the guest's reading order."""

    async def slow_then_quick(message: UserMessage) -> None:
        for n in range(3):
            await message.output_channel.send_text_message(message.sender_id, f"{n}: {message.text}")
            await sandbox.configure(fault_delay_rate=0.0)

    bot = RecordingBot(answer=slow_then_quick)
    impatient = replace(settings, send_timeout_seconds=0.3, resend_wait_seconds=5)
    async with running(impatient, bot, clock, sandbox) as gateway:
        await sandbox.configure(fault_delay_rate=1.0, fault_delay_ms=1500)
        await sandbox.guest_says(GUESTS[0], "hola")
        await bot.wait_for(1)
        await gateway.settle()
        received = [
            e["content"]["body"] for e in await sandbox.thread(GUESTS[0], MIRADOR) if e["direction"] == "outbound"
        ]
        assert received == ["0: hola", "1: hola", "2: hola"]
        rows = [r for r in await gateway.store.thread(MIRADOR, GUESTS[0]) if r["direction"] == "outbound"]
        assert [r["state"] for r in rows] == ["accepted"] * 3


async def test_answers_over_the_throughput_and_pair_limits_are_paced_by_retries(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """130429 (the number's messages per second) and 131056 (too many to one guest) are retried with backoff."""

    async def three_answers(message: UserMessage) -> None:
        for n in range(3):
            await message.output_channel.send_text_message(message.sender_id, f"{n}: {message.text}")

    bot = RecordingBot(answer=three_answers)
    patient = replace(settings, send_backoff_seconds=0.3, send_max_attempts=8)
    async with running(patient, bot, clock, sandbox) as gateway:
        await sandbox.configure(throughput_limit=10, pair_burst=2, pair_interval=0.5)
        await everyone_writes(sandbox, bot)
        await gateway.settle()
        rows, received = await outcomes(gateway, sandbox)
        failed = assert_each_once_or_failed(rows, received, per_guest=3)
        codes = {r["error_code"] for g in rows.values() for r in g if r["state"] == "failed"}
        assert codes <= {130429, 131056}, codes
        assert failed <= len(GUESTS) // 4
        for wa_id in GUESTS:
            assert received[wa_id] == sorted(received[wa_id]), "a guest's answers keep their order"


async def test_agent_replies_under_5xx_and_late_answers_reach_the_guest_once_or_say_they_failed(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    desk_settings = replace(
        settings,
        api_tokens=parse_tokens("desk:agent:*:desk-secret"),
        send_timeout_seconds=0.4,
        resend_wait_seconds=0.2,
    )
    bot = RecordingBot()
    async with running(desk_settings, bot, clock, sandbox) as gateway:
        wa_id = GUESTS[0]
        await sandbox.guest_says(wa_id, "¿Me llama alguien de recepción?")
        await bot.wait_for(1)
        await gateway.settle()
        desk = AgentsApi(gateway.url, "desk-secret")
        try:
            assert (await desk.post(f"/conversations/{MIRADOR}/{wa_id}/takeover")).status_code == 200
            # Half the attempts outlive the client's wait: that none of 12 replies meets one is a 1 in 4,096 chance.
            await sandbox.configure(fault_error_rate=0.3, fault_delay_rate=0.5, fault_delay_ms=1000)
            answers = [
                await desk.post(f"/conversations/{MIRADOR}/{wa_id}/reply", json={"text": f"respuesta {n}"})
                for n in range(12)
            ]
            await sandbox.configure(fault_error_rate=0.0, fault_delay_rate=0.0)
        finally:
            await desk.close()
        states = [a.json()["messages"][0]["state"] if a.status_code == 200 else "failed" for a in answers]
        assert {a.status_code for a in answers} <= {200, 502}
        assert all(a.json()["error"]["error_code"] == 131000 for a in answers if a.status_code == 502)

        async def settled() -> tuple[list[str], list[str]] | None:
            """Once every reply the guest got is recorded as accepted: a reply still `unknown` then is one
            WhatsApp never took (the sandbox failed it after the client stopped waiting)."""
            rows = [r for r in await gateway.store.thread(MIRADOR, wa_id) if r["direction"] == "outbound"]
            thread = await sandbox.thread(wa_id, MIRADOR)
            received = sorted(e["content"]["body"] for e in thread if e["direction"] == "outbound")
            accepted = sorted(r["text"] for r in rows if r["state"] == "accepted")
            return (received, [r["state"] for r in rows]) if received == accepted else None

        received, final = await eventually(settled, timeout=15)
        assert len(received) == len(set(received)), "a reply reached the guest twice"
        assert set(final) <= {"accepted", "failed", "unknown"}
        assert "unknown" in states, "no reply outlived the client's wait"
