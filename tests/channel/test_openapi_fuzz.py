"""Schemathesis against the running gateway: every operation of the served OpenAPI description, fuzzed with
an agent's and an automation's token, must never answer 5xx, and every answer's status, content type and
body must be as described.

The real blueprint on a real Sanic server over loopback, the sandbox as WhatsApp, SQLite on disk and
PostgreSQL. Schemathesis calls are blocking (requests), so the gateway runs on its own event loop in a
thread (`LoopThread`). The store is seeded first (guests who wrote through the sandbox, an automation
message and a batch), and the fuzzer's path parameters are drawn from those known ids as well as at random
(`known_ids`), and so are the query's hotels and month and a template's name and language, so the checks
reach past the 404s and 422s into the handlers.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from connectors.whatsapp.api.openapi import SPEC
from connectors.whatsapp.tokens import parse_tokens
from tests.automations.helpers import guest_wrote
from tests.conftest import DEFAULT_SETTINGS
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, database_url, empty_database, settings_for
from tests.support import ALAMEDA, LUCIA, MIRADOR, OLIVER, SandboxClient, SandboxProcess

T = TypeVar("T")
TEMPLATE_NAMES = ("reservation_reminder", "payment_request", "checkin_instructions", "reopen_conversation")
PREFIX = "/webhooks/whatsapp/api/v1"
TOKENS = "desk:agent:*:desk-secret,crm:automation:*:crm-secret"
ROLES = {"agent": "desk-secret", "automation": "crm-secret"}
MAX_EXAMPLES = 12
"""Per operation and phase: with the examples and coverage phases, about a minute for both databases on two
cores; the seed and deterministic generation make each run the same run."""
SEED = 14
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
UNFUZZED = "/events"
"""The event stream never ends, so a blocking call would never return; tests/channel/test_agents_api.py
covers it."""


class LoopThread:
    """An event loop in a daemon thread, for the gateway to serve on while the test thread blocks."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzzed-gateway", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


class Seeded:
    """The gateway under the fuzzer, with what its store holds: ids a caller could know."""

    def __init__(self, server: GatewayServer, known: dict[str, list[Any]]) -> None:
        self.base_url = f"{server.url}{PREFIX}"
        self.known = known
        """Values by parameter name (path or query)."""


async def _seed(server: GatewayServer, sandbox: SandboxClient) -> dict[str, list[Any]]:
    """Two guests write to Mirador, one to Alameda; an automation queues a message and a batch."""
    for wa_id, business in ((LUCIA, MIRADOR), (OLIVER, MIRADOR), (LUCIA, ALAMEDA)):
        await sandbox.guest_says(wa_id, "Hola", to=business)
    for wa_id, business in ((LUCIA, MIRADOR), (OLIVER, MIRADOR), (LUCIA, ALAMEDA)):
        await guest_wrote(server, business, wa_id)
    headers = {"Authorization": f"Bearer {ROLES['automation']}"}
    async with httpx.AsyncClient(base_url=f"{server.url}{PREFIX}", headers=headers, timeout=30) as api:
        example = SPEC["paths"]["/messages"]["post"]["requestBody"]["content"]["application/json"]["example"]
        message = await api.post("/messages", json=example)
        assert message.status_code == 202, message.text
        batch_example = SPEC["paths"]["/batches"]["post"]["requestBody"]["content"]["application/json"]["example"]
        batch = await api.post("/batches", json=batch_example)
        assert batch.status_code == 202, batch.text
    return {
        "business": [MIRADOR, ALAMEDA],
        "hotel": [MIRADOR, ALAMEDA],
        "month": ["2026-12"],
        "business_id": [MIRADOR, ALAMEDA],
        "wa_id": [LUCIA, OLIVER],
        "message_id": [int(message.json()["id"])],
        "batch_id": [batch.json()["id"]],
        "name": list(TEMPLATE_NAMES),
        "language": ["es", "en"],
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, sandbox_process: SandboxProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    url = database_url(request.param, Path(tmp_path_factory.mktemp("fuzz")))
    loop = LoopThread()
    sandbox = SandboxClient(sandbox_process.url)
    if request.param == "postgresql":
        loop.run(empty_database(url))
    server = GatewayServer(
        settings_for(sandbox.base_url, url, api_tokens=parse_tokens(TOKENS)), RecordingBot(), MovableClock()
    )
    loop.run(server.start())
    try:
        loop.run(sandbox.reset())
        loop.run(sandbox.configure(**{**DEFAULT_SETTINGS, "webhook_url": server.webhook_url}))
        yield Seeded(server, loop.run(_seed(server, sandbox)))
    finally:
        loop.run(server.stop())
        loop.run(sandbox.http.aclose())
        loop.close()


@pytest.fixture(scope="module")
def fuzzed_api(seeded: Seeded) -> schemathesis.schemas.BaseSchema:
    """The served description, loaded by schemathesis, its path and query parameters drawn from known ids
    and values too."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_dict(with_examples(SPEC, seeded.known), config=config)

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> st.SearchStrategy:
        return known_ids(path_parameters, seeded.known)

    @schema.hook
    def flatmap_query(context: Any, query: dict[str, Any] | None) -> st.SearchStrategy:
        return known_ids(query, seeded.known)

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> st.SearchStrategy:
        """A template's name and language (the agents' `/template`), as the sandbox's catalog has them."""
        return known_ids(body, seeded.known) if isinstance(body, dict) and "name" in body else st.just(body)

    return schema


def with_examples(spec: dict[str, Any], known: dict[str, list[Any]]) -> dict[str, Any]:
    """A copy of the description whose path and query parameters have a known value as their example, for
    the examples and coverage phases, which draw no path through the hooks."""
    copied = copy.deepcopy(spec)
    for item in copied["paths"].values():
        operations = [operation for key, operation in item.items() if key != "parameters"]
        for parameter in [*item.get("parameters", []), *(p for o in operations for p in o.get("parameters", []))]:
            if parameter["in"] in ("path", "query") and parameter["name"] in known:
                parameter["example"] = known[parameter["name"]][0]
    return copied


def known_ids(generated: dict[str, Any] | None, known: dict[str, list[Any]]) -> st.SearchStrategy:
    """Each parameter either a value the store holds or the fuzzer's own."""
    if not generated:
        return st.just(generated)
    return st.fixed_dictionaries(
        {name: st.sampled_from([*known.get(name, []), value]) for name, value in generated.items()}
    )


schema = schemathesis.pytest.from_fixture("fuzzed_api").exclude(path=UNFUZZED)


@schema.parametrize()
def test_every_answer_is_described(case: schemathesis.Case, seeded: Seeded) -> None:
    """Each generated request is sent with either role's token: one of them is the operation's own."""
    for token in ROLES.values():
        case.call_and_validate(
            base_url=seeded.base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS, timeout=30
        )
