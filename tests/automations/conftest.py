"""Fixtures of the automations suites: the real gateway on loopback with automation tokens, the sandbox as
its Cloud API, SQLite on disk or the PostgreSQL of TEST_POSTGRES_URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from connectors.whatsapp.settings import AutomationSettings
from connectors.whatsapp.tokens import parse_tokens
from tests.channel.agents_api import conforms
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, database_url, empty_database, settings_for
from tests.support import SandboxClient

AUTOMATION_TOKEN = "automation-secret"
AGENT_TOKEN = "agent-secret"
MIRADOR_ONLY_TOKEN = "mirador-only-secret"
TOKENS = parse_tokens(
    f"automations:automation:*:{AUTOMATION_TOKEN},frontdesk:agent:*:{AGENT_TOKEN},"
    f"mirador:automation:1000000001:{MIRADOR_ONLY_TOKEN}"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def database(db_kind: str, tmp_path: Any) -> str:
    url = database_url(db_kind, tmp_path)
    if db_kind == "postgresql":
        await empty_database(url)
    return url


ServerFactory = Callable[..., Awaitable[GatewayServer]]


@pytest.fixture
async def make_gateway(database: str, clock: MovableClock, sandbox: SandboxClient) -> AsyncIterator[ServerFactory]:
    """Starts gateways on the same database (a restart is a second call after stopping the first)."""
    servers: list[GatewayServer] = []

    async def make(**automation: Any) -> GatewayServer:
        settings = settings_for(
            sandbox.base_url, database, api_tokens=TOKENS, automation=AutomationSettings(**automation)
        )
        server = GatewayServer(settings, RecordingBot(), clock)
        await server.start()
        await sandbox.configure(webhook_url=server.webhook_url)
        servers.append(server)
        return server

    yield make
    for server in servers:
        if server._server is not None and server._server.is_serving():
            await server.stop()


@pytest.fixture
async def gateway(make_gateway: ServerFactory) -> GatewayServer:
    return await make_gateway()


def described_client(gateway: GatewayServer, token: str = AUTOMATION_TOKEN) -> httpx.AsyncClient:
    """A client of the gateway API whose every answer is checked against the OpenAPI description."""
    return httpx.AsyncClient(
        base_url=f"{gateway.url}/webhooks/whatsapp/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        event_hooks={"response": [conforms]},
    )


@pytest.fixture
async def api(gateway: GatewayServer) -> AsyncIterator[httpx.AsyncClient]:
    async with described_client(gateway) as client:
        yield client


DAYTIME = 1796115600.0
"""2026-12-01 10:00 in Madrid (09:00 UTC): outside every hotel's quiet hours, under the October 2026 rules."""


async def set_time(clock: MovableClock, sandbox: SandboxClient, moment: float) -> None:
    """Move the gateway's clock and the sandbox's to the same instant."""
    import time

    clock.offset = moment - time.time()
    response = await sandbox.http.post("/sandbox/clock", json={"now": moment})
    assert response.status_code == 200, response.text


@pytest.fixture(autouse=True)
async def daytime(clock: MovableClock, sandbox: SandboxClient) -> None:
    await set_time(clock, sandbox, DAYTIME)
