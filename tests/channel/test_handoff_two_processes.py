"""Two gateway processes on one PostgreSQL database: the handoff flag is one truth for both."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from connectors.whatsapp.tokens import parse_tokens
from tests.channel.agents_api import PREFIX, AgentsApi
from tests.channel.test_agents_api import TOKENS, eventually, thread_path
from tests.gateway_support import (
    GatewayServer,
    MovableClock,
    RecordingBot,
    echo,
    empty_database,
    postgres_url,
    settings_for,
)
from tests.support import LUCIA, MIRADOR, SandboxClient


@pytest.fixture
async def pair(sandbox: SandboxClient) -> AsyncIterator[tuple[GatewayServer, GatewayServer]]:
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL tests need a server (.ci/run starts one)")
    await empty_database(url)
    servers = []
    for _ in range(2):
        settings = settings_for(sandbox.base_url, url, api_tokens=parse_tokens(TOKENS))
        server = GatewayServer(settings, RecordingBot(answer=echo), MovableClock())
        await server.start()
        servers.append(server)
    yield servers[0], servers[1]
    for server in servers:
        await server.stop()


async def test_a_takeover_through_one_process_is_respected_by_the_other(
    pair: tuple[GatewayServer, GatewayServer], sandbox: SandboxClient
) -> None:
    front, back = pair
    await sandbox.configure(webhook_url=back.webhook_url)
    await sandbox.guest_says(LUCIA, "Hola")
    await back.bot.wait_for(1)
    desk = AgentsApi(front.url, "desk-secret")
    seen: list[dict[str, Any]] = []
    connected = asyncio.Event()

    async def listen_on_front() -> None:
        async with (
            httpx.AsyncClient(base_url=f"{front.url}{PREFIX}", timeout=None) as client,
            client.stream("GET", "/events", params={"token": "desk-secret"}) as stream,
        ):
            async for line in stream.aiter_lines():
                if line.startswith(": connected"):
                    connected.set()  # what is recorded from here on is streamed; what came before is not
                elif line.startswith("data: "):
                    seen.append(json.loads(line[6:]))

    listener = asyncio.create_task(listen_on_front())
    try:
        await asyncio.wait_for(connected.wait(), 10)
        assert (await desk.post(f"{thread_path()}/takeover")).status_code == 200
        wamid = await sandbox.guest_says(LUCIA, "¿Me atiende una persona?")

        async def held_by_back() -> bool:
            rows = await back.store.thread(MIRADOR, LUCIA)
            return any(r["wamid"] == wamid and r["state"] == "held" for r in rows)

        await eventually(held_by_back)
        await back.settle()
        assert len(back.bot.received) == 1
        assert not front.bot.received
        await eventually(lambda: _saw(seen, wamid))
    finally:
        listener.cancel()
        await desk.close()


async def _saw(seen: list[dict[str, Any]], wamid: str) -> bool:
    return any(event.get("wamid") == wamid for event in seen)


async def test_two_agents_taking_over_at_once_through_two_processes_one_wins(
    pair: tuple[GatewayServer, GatewayServer], sandbox: SandboxClient
) -> None:
    front, back = pair
    await sandbox.configure(webhook_url=back.webhook_url)
    await sandbox.guest_says(LUCIA, "Hola")
    await back.bot.wait_for(1)
    desk, night = AgentsApi(front.url, "desk-secret"), AgentsApi(back.url, "night-secret")
    try:
        answers = await asyncio.gather(
            *(api.post(f"{thread_path()}/takeover") for api in (desk, night, desk, night, desk, night))
        )
        codes = sorted(a.status_code for a in answers)
        holders = {a.json()["error"]["holder"] for a in answers if a.status_code == 409}
        assert codes == [200, 200, 200, 409, 409, 409]
        winner = next(a.json()["handoff"]["holder"] for a in answers if a.status_code == 200)
        assert holders == {winner}
        events = (await desk.get(thread_path())).json()["handoff_events"]
        assert [e["to"] for e in events] == [winner]
    finally:
        await desk.close()
        await night.close()
