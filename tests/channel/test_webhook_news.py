"""What WhatsApp's webhooks say beside guest messages and statuses, through the real blueprint on SQLite and
PostgreSQL: a guest's stop of marketing messages refuses the automations' marketing templates (utility ones
still go) until they resume; edits and revokes never reach the bot and the agents' API shows them; a
template's category change reprices its later sends, not the earlier ones, and an announced one waits;
account events are kept once and logged by gravity. Meta-shaped fixtures, moved to the sample hotel."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connectors.whatsapp.store import account_events, marketing_preferences, message_amendments
from connectors.whatsapp.tokens import parse_tokens
from tests.automations.helpers import eventually, message_in
from tests.channel.agents_api import PREFIX, AgentsApi, listen
from tests.channel.test_webhook import fixture, post
from tests.gateway_support import (
    GatewayServer,
    MovableClock,
    RecordingBot,
    serving,
)
from tests.support import LUCIA, MIRADOR, WABA, SandboxClient

TOKENS = "desk:agent:*:desk-secret,crm:automation:*:crm-secret"
ORIGINAL = "wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBQzORIGQUFCQ0RFRjAxMjM0NTY3ODkwAA=="
"""The message the `edit` and `revoke` fixtures amend."""
THREAD = f"/conversations/{MIRADOR}/{LUCIA}"
MARKETING = {"name": "winter_offer", "language": "es", "parameters": ["Lucía", "15"]}
UTILITY = {"name": "reservation_reminder", "language": "es", "parameters": ["Lucía", "18/12/2026", "Mirador"]}


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
async def crm(server: GatewayServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"{server.url}{PREFIX}", headers={"Authorization": "Bearer crm-secret"}, timeout=30
    ) as client:
        yield client


def at_mirador(fixture_name: str, **template: str) -> dict[str, Any]:
    """A fixture delivered to the sample hotel: its account and number, and `template` (name, language) for
    the template fields."""
    payload = copy.deepcopy(fixture(fixture_name))
    for entry in payload["entry"]:
        entry["id"] = WABA
        for change in entry["changes"]:
            value = change["value"]
            if "metadata" in value:
                value["metadata"]["phone_number_id"] = MIRADOR
            for key, field in (("name", "message_template_name"), ("language", "message_template_language")):
                if key in template and field in value:
                    value[field] = template[key]
    return payload


async def deliver(server: GatewayServer, payload: dict[str, Any]) -> None:
    assert (await post(server, payload)).status_code == 200
    await server.settle()


async def send(crm: httpx.AsyncClient, template: dict[str, Any]) -> httpx.Response:
    return await crm.post("/messages", json={"business": MIRADOR, "to": LUCIA, "template": template})


# --- marketing preferences ----------------------------------------------------------------------------------


def preference(value: str, timestamp: int) -> dict[str, Any]:
    """Lucía's choice alone (the fixture's first change), at `timestamp`."""
    payload = at_mirador("user_preferences")
    payload["entry"][0]["changes"] = payload["entry"][0]["changes"][:1]
    item = payload["entry"][0]["changes"][0]["value"]["user_preferences"][0]
    item.update(value=value, timestamp=timestamp)
    return payload


async def test_a_stop_in_whatsapp_refuses_marketing_templates_until_the_guest_resumes(
    server: GatewayServer, crm: httpx.AsyncClient, bot: RecordingBot
) -> None:
    await deliver(server, at_mirador("user_preferences"))

    refused = await send(crm, MARKETING)
    utility = await send(crm, UTILITY)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "opted_out"
    assert "stopped marketing messages" in refused.json()["error"]["message"]
    assert utility.status_code == 202, utility.text
    assert bot.received == []

    await deliver(server, preference("resume", 1774958400 + 60))
    assert (await send(crm, MARKETING)).status_code == 202

    await deliver(server, preference("stop", 1774958400))  # the first stop again, late: the resume is newer
    assert (await send(crm, MARKETING)).status_code == 202


async def test_a_marketing_message_queued_before_the_stop_is_cancelled(
    server: GatewayServer, crm: httpx.AsyncClient, clock: MovableClock
) -> None:
    soon = datetime.fromtimestamp(clock() + 2, timezone.utc).isoformat()
    scheduled = {"business": MIRADOR, "to": LUCIA, "template": MARKETING, "send_at": soon, "urgent": True}
    queued = await crm.post("/messages", json=scheduled)
    assert queued.status_code == 202, queued.text
    await deliver(server, at_mirador("user_preferences"))

    cancelled = await message_in(crm, queued.json()["id"], ("cancelled", "sent", "delivered", "read"))

    assert cancelled["state"] == "cancelled"


# --- edits and revokes --------------------------------------------------------------------------------------


def original_message() -> dict[str, Any]:
    payload = at_mirador("text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0].update(id=ORIGINAL, text={"body": "Llegamos el 11"})
    return payload


async def test_an_edit_is_shown_beside_the_original_and_never_reaches_the_bot(
    server: GatewayServer, desk: AgentsApi, bot: RecordingBot
) -> None:
    await deliver(server, original_message())
    await bot.wait_for(1)
    seen: list[tuple[str, dict[str, Any]]] = []
    connected = asyncio.Event()
    listener = asyncio.create_task(listen(server.url, "desk-secret", seen, connected))
    await asyncio.wait_for(connected.wait(), 10)

    await deliver(server, at_mirador("edit"))
    await deliver(server, at_mirador("edit"))  # Meta delivered it twice

    [message] = (await desk.get(THREAD)).json()["messages"]
    assert message["text"] == "Llegamos el 11"
    assert message["edited"] == {"text": "Llegamos el 12 de julio, no el 11", "at": 1751371200}
    assert message["deleted"] is False
    [found] = (await desk.get("/search", params={"q": "12 de julio"})).json()["messages"]
    assert found["id"] == message["id"]
    try:
        await eventually(lambda: _saw(seen, "amendment", kind="edit", wa_id=LUCIA, message_id=message["id"]))
    finally:
        listener.cancel()
    assert len(bot.received) == 1
    assert await server.count(message_amendments) == 1


async def test_a_revoke_hides_the_message_from_the_agents_even_one_that_came_before_it(
    server: GatewayServer, desk: AgentsApi, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="connectors.whatsapp.store.amendments"):
        await deliver(server, at_mirador("revoke"))
    assert f"names message {ORIGINAL}, which is not stored (yet): kept" in caplog.text

    await deliver(server, original_message())

    [message] = (await desk.get(THREAD)).json()["messages"]
    assert (message["deleted"], message["deleted_at"], message["text"], message["edited"]) == (
        True,
        1751371200,
        None,
        None,
    )
    [conversation] = (await desk.get("/conversations")).json()["conversations"]
    assert conversation["last_text"] is None
    assert (await desk.get("/search", params={"q": "llegamos"})).json()["messages"] == []


async def _saw(seen: list[tuple[str, dict[str, Any]]], event: str, **fields: Any) -> bool:
    return any(k == event and all(d.get(f) == v for f, v in fields.items()) for k, d in seen)


# --- templates ----------------------------------------------------------------------------------------------


def category_notice(which: int, at: int) -> dict[str, Any]:
    """One notice of the category fixture (0: announced, 1: made) for `reservation_reminder` (es), sent at
    `at`; the announced one for a day later."""
    payload = at_mirador("template_category_update", name="reservation_reminder", language="es")
    entry = payload["entry"][which]
    entry["time"] = at
    if which == 0:
        entry["changes"][0]["value"]["category_update_timestamp"] = at + 24 * 3600
    payload["entry"] = [entry]
    return payload


async def test_a_category_change_reprices_later_sends_and_an_announced_one_waits(
    server: GatewayServer, crm: httpx.AsyncClient, clock: MovableClock
) -> None:
    assert (await crm.post("/templates/sync")).status_code == 200
    before = await sent(crm, UTILITY)
    assert before["cost"]["category"] == "utility"

    clock.offset += 10
    announced_at = int(clock())
    await deliver(server, category_notice(0, announced_at))
    listed = await reminder(crm)
    upcoming = {"category": "MARKETING", "at": announced_at + 24 * 3600}
    assert (listed["category"], listed["upcoming_category"]) == ("UTILITY", upcoming)
    assert (await sent(crm, UTILITY))["cost"]["category"] == "utility"

    clock.offset += 10
    await deliver(server, category_notice(1, int(clock())))
    after = await sent(crm, UTILITY)
    assert after["cost"]["category"] == "marketing"
    listed = await reminder(crm)
    assert (listed["category"], listed["upcoming_category"]) == ("MARKETING", None)

    month = datetime.fromtimestamp(clock(), timezone.utc).strftime("%Y-%m")
    report = (await crm.get("/reports/costs", params={"business": MIRADOR, "month": month})).json()
    lines = {line["category"]: line for line in report["lines"]}
    assert (lines["utility"]["messages"], lines["marketing"]["messages"]) == (2, 1)
    assert Decimal(lines["utility"]["amount"]) == 2 * Decimal(before["cost"]["amount"])
    assert Decimal(lines["marketing"]["amount"]) == Decimal(after["cost"]["amount"])


async def test_a_quality_score_is_kept_and_an_older_one_never_overrides_it(
    server: GatewayServer, crm: httpx.AsyncClient
) -> None:
    assert (await crm.post("/templates/sync")).status_code == 200
    newer = at_mirador("template_quality_update", name="reservation_reminder", language="es")
    older = copy.deepcopy(newer)
    older["entry"][0]["time"] -= 3600
    older["entry"][0]["changes"][0]["value"]["new_quality_score"] = "RED"

    await deliver(server, newer)
    await deliver(server, older)

    assert (await reminder(crm))["quality_score"] == "YELLOW"


async def sent(crm: httpx.AsyncClient, template: dict[str, Any]) -> dict[str, Any]:
    """A template queued and delivered (its time in the message log is the send's, not the request's)."""
    answer = await send(crm, template)
    assert answer.status_code == 202, answer.text
    await message_in(crm, answer.json()["id"], ("delivered", "read"))
    return answer.json()


async def reminder(crm: httpx.AsyncClient) -> dict[str, Any]:
    """`reservation_reminder` (es) as the automations' template list shows it."""
    listed = (await crm.get("/templates", params={"business": MIRADOR})).json()["templates"]
    [template] = [t for t in listed if (t["name"], t["language"]) == ("reservation_reminder", "es")]
    return template


# --- account events -----------------------------------------------------------------------------------------


async def test_account_events_are_kept_once_and_a_restriction_is_an_error(
    server: GatewayServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="connectors.whatsapp.webhook.account_news"):
        await deliver(server, at_mirador("account_update"))
        await deliver(server, at_mirador("account_update"))

    async with server.store.engine.connect() as connection:
        kept = (await connection.execute(sa.select(account_events.c.event, account_events.c.waba_id))).all()
    assert sorted(kept) == sorted(
        (event, WABA)
        for event in (
            "DISABLED_UPDATE",
            "ACCOUNT_VIOLATION",
            "ACCOUNT_RESTRICTION",
            "VOLUME_BASED_PRICING_TIER_UPDATE",
            "BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE",
            "PARTNER_ADDED",
        )
    )
    levels = {r.getMessage().split(": ")[1].split()[0]: r.levelname for r in caplog.records}
    assert levels["ACCOUNT_RESTRICTION"] == levels["DISABLED_UPDATE"] == "ERROR"
    assert levels["VOLUME_BASED_PRICING_TIER_UPDATE"] == "INFO"


async def test_a_guest_first_known_by_a_user_id_who_taps_stop_in_whatsapp_gets_no_marketing(
    server: GatewayServer, crm: httpx.AsyncClient, bot: RecordingBot, sandbox: SandboxClient
) -> None:
    """Through the sandbox's guest phone: the guest wrote first with only a BSUID, then with their number too
    (one guest, keyed by the BSUID); their stop names both ids, and an automation writing to the number is
    refused the `winter_offer` (marketing) and sends the `payment_request` (utility), to the number."""
    bsuid, number = "ES.60120943318820556104", "34699400500"
    await sandbox.guest_says(bsuid, "hola", username="@nuria")
    await sandbox.guest_says(bsuid, "mi número", phone=number)
    await bot.wait_for(2)
    answer = await sandbox.http.post(f"/sandbox/guests/{bsuid}/preferences", json={"value": "stop"})
    assert answer.status_code == 200

    async def stopped() -> list[Any]:
        async with server.store.connect() as connection:
            return (await connection.execute(sa.select(marketing_preferences))).all()

    [row] = await eventually(stopped)
    assert (row.wa_id, row.stopped, row.user_id) == (bsuid, True, bsuid)
    refused = await crm.post("/messages", json={"business": MIRADOR, "to": number, "template": MARKETING})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "opted_out"
    payment = {
        "name": "payment_request",
        "language": "es",
        "parameters": ["Núria", "289.40 EUR", "https://pay.example"],
    }
    utility = await crm.post("/messages", json={"business": MIRADOR, "to": number, "template": payment})
    assert utility.status_code == 202, utility.text
    queued = await crm.get(f"/messages/{utility.json()['id']}")
    assert queued.json()["to"] == bsuid  # the guest's one thread, whichever id the automation named

    async def sent_to_the_number() -> list[dict[str, Any]]:
        rows = await server.store.thread(MIRADOR, bsuid)
        return [r for r in rows if r["type"] == "template" and r["state"] == "accepted"]

    [template] = await eventually(sent_to_the_number)
    assert json.loads(template["body"])["to"] == number
