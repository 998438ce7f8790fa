"""The API's door over real HTTP: 401 without a known token, 403 for the wrong role, the caller's identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from connectors.whatsapp.tokens import parse_tokens
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, settings_for

TOKENS = "desk:agent:1000000001:desk-secret,crm:automation:*:crm-secret"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[str]:
    settings = settings_for(
        "http://127.0.0.1:9", f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}", api_tokens=parse_tokens(TOKENS)
    )
    server = GatewayServer(settings, RecordingBot(), MovableClock())
    await server.start()
    yield f"{server.url}/webhooks/whatsapp/api/v1"
    await server.stop()


@pytest.mark.parametrize(
    "authorization", [None, "Bearer nope", "desk-secret", "Basic ZGVzazpkZXNrLXNlY3JldA=="], ids=str
)
async def test_no_known_bearer_token_gets_401(api: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{api}/me", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["error"]["code"] == "unauthorized"
    assert "GATEWAY_API_TOKENS" in answer.json()["error"]["message"]


async def test_a_known_token_learns_its_role_and_hotels(api: str) -> None:
    async with httpx.AsyncClient() as client:
        desk = await client.get(f"{api}/me", headers={"Authorization": "Bearer desk-secret"})
        crm = await client.get(f"{api}/me", headers={"Authorization": "Bearer crm-secret"})
    assert desk.json() == {
        "name": "desk",
        "role": "agent",
        "hotels": ["1000000001"],
        "names": {"1000000001": "Hotel Mirador del Puerto"},
    }
    assert crm.json() == {
        "name": "crm",
        "role": "automation",
        "hotels": None,
        "names": {"1000000001": "Hotel Mirador del Puerto", "1000000002": "Casa Alameda"},
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/console/"),
        ("GET", "/console/console.js"),
        ("POST", "/webhook"),
    ],
)
async def test_every_answer_carries_the_security_headers(api: str, method: str, path: str) -> None:
    """The console must run no script and load nothing from elsewhere, never be framed, leak no Referer; the
    same headers on the API and the webhook, whatever their status (401, 403 included)."""
    base = api.removesuffix("/api/v1")
    async with httpx.AsyncClient() as client:
        answer = await client.request(method, f"{base}{path}", content=b"{}")
    assert answer.status_code < 500
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"
