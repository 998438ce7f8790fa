"""An authentication template (a login code) needs the guest's phone number: WhatsApp refuses one to a
business-scoped user id (131062), so the automations API refuses it first, clearly, and sends it once the
guest's number is known. The real blueprint against a sandbox whose catalog has such a template."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from connectors.whatsapp.tokens import parse_tokens
from tests.channel.agents_api import PREFIX
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, database_url, settings_for
from tests.sandbox.catalogs import with_login_code
from tests.support import MIRADOR, SandboxClient, SandboxProcess

GUEST = "ES.70120943318820556104"
NUMBER = "34699500600"
LOGIN_CODE = {"name": "login_code", "language": "es", "parameters": ["482913"]}


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[GatewayServer, SandboxClient]]:
    sandbox = SandboxProcess(
        "http://127.0.0.1:9/unused", tmp_path / "sandbox.log", SANDBOX_CATALOG=str(with_login_code(tmp_path))
    )
    settings = settings_for(
        sandbox.url, database_url("sqlite", tmp_path), api_tokens=parse_tokens("crm:automation:*:crm-secret")
    )
    server = GatewayServer(settings, RecordingBot(), MovableClock())
    await server.start()
    client = SandboxClient(sandbox.url)
    await client.configure(webhook_url=server.webhook_url)
    yield server, client
    await client.http.aclose()
    await server.stop()
    sandbox.stop()


async def test_a_login_code_waits_for_the_guests_number(gateway: tuple[GatewayServer, SandboxClient]) -> None:
    server, sandbox = gateway
    async with httpx.AsyncClient(
        base_url=f"{server.url}{PREFIX}", headers={"Authorization": "Bearer crm-secret"}, timeout=30
    ) as crm:
        await sandbox.guest_says(GUEST, "necesito entrar en mi cuenta", username="@ines")
        await server.bot.wait_for(1)
        refused = await crm.post("/messages", json={"business": MIRADOR, "to": GUEST, "template": LOGIN_CODE})
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "phone_number_required"
        assert "phone number" in error["message"]

        await sandbox.guest_says(GUEST, "mi número", phone=NUMBER)
        await server.bot.wait_for(2)
        accepted = await crm.post("/messages", json={"business": MIRADOR, "to": GUEST, "template": LOGIN_CODE})
        assert accepted.status_code == 202, accepted.text
