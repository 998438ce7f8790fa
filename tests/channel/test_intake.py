"""A gateway intake (`GATEWAY_RUN_TURNS=false`, what `connectors.whatsapp.intake_server` runs) in front of a
process that runs the turns, both real Sanic servers on one store: the intake verifies, stores, records and
runs the automations' look at each batch; the other picks the guest messages up and answers them, once and in
order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest

from connectors.whatsapp.settings import GatewaySettings, SettingsError, load_settings
from connectors.whatsapp.store import INTAKE, owner_of
from tests.channel.test_sandbox_roundtrip import eventually
from tests.gateway_support import (
    GatewayServer,
    MovableClock,
    RecordingBot,
    database_url,
    echo,
    empty_database,
    settings_for,
)
from tests.support import APP_SECRET, LUCIA, MIRADOR, OLIVER, SandboxClient

PICKUP_SECONDS = 0.05


@pytest.fixture
async def settings(db_kind: str, tmp_path: Any, sandbox: SandboxClient) -> GatewaySettings:
    url = database_url(db_kind, tmp_path)
    if db_kind == "postgresql":
        await empty_database(url)
    return settings_for(sandbox.base_url, url, pickup_seconds=PICKUP_SECONDS, mark_read=False)


@asynccontextmanager
async def intake_and_turns(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient, turns_bot: RecordingBot
) -> AsyncIterator[tuple[GatewayServer, GatewayServer]]:
    """The intake, which the sandbox delivers to, and a process running turns on the same store."""
    intake = GatewayServer(replace(settings, run_turns=False), RecordingBot(), clock)
    turns = GatewayServer(settings, turns_bot, clock)
    await intake.start()
    await turns.start()
    try:
        await sandbox.configure(webhook_url=intake.webhook_url)
        yield intake, turns
    finally:
        await turns.stop()
        await intake.stop()


async def guest_received(sandbox: SandboxClient, wa_id: str) -> list[str]:
    return [e["content"]["body"] for e in await sandbox.thread(wa_id, MIRADOR) if e["direction"] == "outbound"]


async def test_the_intake_records_and_the_turns_process_answers_each_message_once_in_order(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    bot = RecordingBot(answer=echo)
    async with intake_and_turns(settings, clock, sandbox, bot) as (intake, turns):
        said = {LUCIA: ["uno", "dos", "tres"], OLIVER: ["one", "two"]}
        for guest, text in [(LUCIA, "uno"), (OLIVER, "one"), (LUCIA, "dos"), (OLIVER, "two"), (LUCIA, "tres")]:
            wamid = await sandbox.guest_says(guest, text)
            # Stored before the next is written: two messages in one second have only the store's order.
            await sandbox.wait_for_entry(guest, wamid, lambda e: e["webhook"]["acknowledged"])
        await bot.wait_for(5)
        await intake.settle()
        await turns.settle()
        for guest, texts in said.items():
            expected = [f"echo: {text}" for text in texts]
            assert await eventually(lambda g=guest, e=expected: _equal(guest_received(sandbox, g), e)) == expected
            assert [m.text for m in bot.received if m.sender_id.endswith(guest)] == texts
        assert intake.bot.received == []
        rows = [r for r in await turns.store.thread(MIRADOR, LUCIA) if r["direction"] == "inbound"]
        assert [r["state"] for r in rows] == ["handled"] * 3
    assert len(bot.received) == 5


async def test_a_message_the_automations_keep_never_reaches_the_bot(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """An opt-out is the automations' to answer; the intake hands on only what they leave for the bot, so the
    turns process, looking 20 times a second, never sees it."""
    bot = RecordingBot(answer=echo)
    async with intake_and_turns(settings, clock, sandbox, bot) as (intake, turns):
        for text in ("STOP", "¿Hay parking?"):
            wamid = await sandbox.guest_says(LUCIA, text)
            await sandbox.wait_for_entry(LUCIA, wamid, lambda e: e["webhook"]["acknowledged"])
        await bot.wait_for(1)
        await intake.settle()
        await asyncio.sleep(PICKUP_SECONDS * 10)
        await turns.settle()
        assert [m.text for m in bot.received] == ["¿Hay parking?"]
        received = await eventually(lambda: _at_least(guest_received(sandbox, LUCIA), 2))
        assert received[0].startswith("Hecho: no le enviaremos más mensajes automáticos")
        assert received[1] == "echo: ¿Hay parking?"


async def test_with_no_process_running_turns_a_message_waits_claimed_for_the_intake(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """Handed on under `intake:<the batch's claim>`: an owner no process beats as, so the first process running
    turns takes it; until one starts, it waits unanswered and nothing is lost."""
    intake = GatewayServer(replace(settings, run_turns=False), RecordingBot(), clock)
    await intake.start()
    try:
        await sandbox.configure(webhook_url=intake.webhook_url)
        wamid = await sandbox.guest_says(LUCIA, "¿Hay parking?")
        await sandbox.wait_for_entry(LUCIA, wamid, lambda e: e["webhook"]["acknowledged"])
        await intake.settle()
        [row] = [r for r in await intake.store.thread(MIRADOR, LUCIA) if r["wamid"] == wamid]
        assert owner_of(row["claimed_by"]) == INTAKE
        assert row["claimed_by"].startswith(f"{INTAKE}:{intake.channel.gateway.owner}:")
        assert row["state"] == "dispatched"
    finally:
        await intake.stop()


async def test_with_no_pickup_a_process_running_turns_finds_them_with_its_heartbeat(
    settings: GatewaySettings, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """`GATEWAY_PICKUP_SECONDS=0` (the default): the intake's messages wait for the heartbeat's look for stopped
    processes' messages, a third of the worker timeout, and are answered all the same."""
    bot = RecordingBot(answer=echo)
    quiet = replace(settings, pickup_seconds=0.0, worker_timeout_seconds=0.6)
    async with intake_and_turns(quiet, clock, sandbox, bot) as (_, turns):
        await sandbox.guest_says(LUCIA, "¿Hay parking?")
        await bot.wait_for(1)
        await turns.settle()
        assert await eventually(lambda: _equal(guest_received(sandbox, LUCIA), ["echo: ¿Hay parking?"]))
    assert [m.text for m in bot.received] == ["¿Hay parking?"]


def test_the_intake_settings_are_read_and_checked() -> None:
    base = {"WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_ACCESS_TOKEN": "t"}
    settings = load_settings(None, {**base, "GATEWAY_RUN_TURNS": "false", "GATEWAY_PICKUP_SECONDS": "0.2"})
    assert (settings.run_turns, settings.pickup_seconds) == (False, 0.2)
    assert (load_settings(None, base).run_turns, load_settings(None, base).pickup_seconds) == (True, 0.0)
    with pytest.raises(SettingsError, match="GATEWAY_PICKUP_SECONDS"):
        load_settings(None, {**base, "GATEWAY_PICKUP_SECONDS": "-1"})


async def _equal(values: Any, expected: list[str]) -> list[str] | None:
    got = await values
    return got if got == expected else None


async def _at_least(values: Any, count: int) -> list[str] | None:
    got = await values
    return got if len(got) >= count else None
