"""The automations API over real HTTP: the gateway on loopback, the sandbox as the Cloud API."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connectors.whatsapp.automations import outbox
from connectors.whatsapp.store import statuses
from tests.automations.conftest import (
    AGENT_TOKEN,
    DAYTIME,
    MIRADOR_ONLY_TOKEN,
    ServerFactory,
    described_client,
    set_time,
)
from tests.automations.helpers import eventually, guest_wrote, message_in
from tests.gateway_support import GatewayServer, MovableClock
from tests.support import ALAMEDA, LUCIA, MIRADOR, OLIVER, SandboxClient

REMINDER = {"guest_name": "Lucía", "arrival_date": "18/12/2026", "hotel_name": "Hotel Mirador del Puerto"}
PAYMENT = {"guest_name": "Lucía", "amount_pending": "289.40 EUR", "payment_link": "https://pay.example.com/MDP-4F7K2Q"}


def outbound_of(thread: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in thread if entry["direction"] == "outbound"]


async def test_inside_the_window_a_purpose_goes_as_free_text_free_within_the_tier(
    gateway: GatewayServer, api: httpx.AsyncClient, sandbox: SandboxClient
) -> None:
    await sandbox.guest_says(LUCIA, "Hola, ¿me recordáis el pago?")
    await guest_wrote(gateway, MIRADOR, LUCIA)

    answer = await api.post(
        "/messages",
        json={"business": MIRADOR, "to": "+34 612 34 56 78", "purpose": "payment_request", "parameters": PAYMENT},
    )

    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["kind"] == "text"
    assert accepted["window_open"] is True
    assert accepted["language"] == "es"
    assert "pago pendiente de 289.40 EUR" in accepted["text"]
    assert accepted["cost"]["billable"] is False
    assert "free tier" in accepted["cost"]["reason"]
    done = await message_in(api, accepted["id"], ("read",))
    assert done["reconciliation"]["matches"] is True
    assert done["reconciliation"]["reported"]["type"] == "free_customer_service"
    sent = outbound_of(await sandbox.thread(LUCIA))
    assert [entry["type"] for entry in sent] == ["text"]
    assert "https://pay.example.com/MDP-4F7K2Q" in sent[0]["text"]


@pytest.mark.parametrize(
    ("guest", "language", "market", "amount"),
    [("+34 612 34 56 78", "es", "Spain", "0.0172"), ("+44 7700 900123", "en", "United Kingdom", "0.0189")],
)
async def test_outside_the_window_the_template_in_the_guests_language_with_its_cost(
    gateway: GatewayServer,
    api: httpx.AsyncClient,
    sandbox: SandboxClient,
    guest: str,
    language: str,
    market: str,
    amount: str,
) -> None:
    answer = await api.post(
        "/messages", json={"business": MIRADOR, "to": guest, "purpose": "reservation_reminder", "parameters": REMINDER}
    )

    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["kind"] == "template"
    assert accepted["template"] == {"name": "reservation_reminder", "language": language, "category": "UTILITY"}
    assert accepted["cost"] == {
        "category": "utility",
        "market": market,
        "billable": True,
        "amount": amount,
        "currency": "EUR",
        "reason": f"utility rate, {market}",
    }
    done = await message_in(api, accepted["id"], ("read",))
    assert done["cost"]["amount"] == amount
    assert done["reconciliation"] == {
        "matches": True,
        "differences": [],
        "reported": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"},
    }
    wa_id = LUCIA if language == "es" else OLIVER
    [sent] = outbound_of(await sandbox.thread(wa_id))
    assert sent["template"]["name"] == "reservation_reminder"
    assert sent["template"]["language"] == language


FROM_AN_AD = {
    "type": "text",
    "text": {"body": "Info, por favor"},
    "referral": {
        "source_url": "https://fb.me/invierno",
        "source_id": "1200",
        "source_type": "ad",
        "headline": "Invierno en el puerto",
        "body": "-15 %",
        "media_type": "image",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ",
    },
}
WINTER_OFFER = {"guest_name": "Lucía", "discount_percent": "15"}
FREE_ENTRY_POINT = {
    "billable": False,
    "pricing_model": "PMP",
    "type": "free_entry_point",
    "category": "referral_conversion",
}


async def test_a_guest_from_an_ad_opens_72_free_hours_with_the_first_reply(
    gateway: GatewayServer, api: httpx.AsyncClient, sandbox: SandboxClient, clock: MovableClock
) -> None:
    """WHATSAPP.md 7 and 9: a reply within 24 h to a guest who came from a click-to-WhatsApp ad opens a free
    entry point; for 72 h every message, a marketing template outside the service window included, is free,
    and the gateway's price agrees with the pricing object WhatsApp reports."""
    await sandbox.guest_says(LUCIA, message=FROM_AN_AD)
    await guest_wrote(gateway, MIRADOR, LUCIA)

    async def send(purpose: str, parameters: dict[str, str]) -> dict[str, Any]:
        answer = await api.post(
            "/messages", json={"business": MIRADOR, "to": LUCIA, "purpose": purpose, "parameters": parameters}
        )
        assert answer.status_code == 202, answer.text
        return await message_in(api, answer.json()["id"], ("read",))

    reply = await send("payment_request", PAYMENT)
    await set_time(clock, sandbox, DAYTIME + 30 * 3600)
    offer = await send("winter_offer", WINTER_OFFER)
    await set_time(clock, sandbox, DAYTIME + 72 * 3600 + 60)
    late_offer = await send("winter_offer", WINTER_OFFER)

    assert reply["kind"] == "text"
    assert offer["template"]["category"] == "MARKETING", "the service window has closed: a template goes"
    for free in (reply, offer):
        assert free["cost"]["billable"] is False
        assert free["cost"]["amount"] == "0"
        assert free["cost"]["category"] == "referral_conversion"
        assert "free entry point" in free["cost"]["reason"]
        assert free["reconciliation"] == {"matches": True, "differences": [], "reported": FREE_ENTRY_POINT}
    assert late_offer["cost"]["amount"] == "0.0509", "72 hours after the reply, marketing is billed again"
    assert late_offer["reconciliation"]["matches"] is True
    assert late_offer["reconciliation"]["reported"]["type"] == "regular"

    report = (await api.get("/reports/costs", params={"business": MIRADOR, "month": "2026-12"})).json()
    assert report["total"] == "0.0509"
    assert report["mismatches"] == []
    [reason] = [reason for reason in report["free_reasons"] if "free entry point" in reason]
    assert report["free_reasons"][reason] == 2


async def test_a_guest_from_an_ad_answered_after_24_hours_gets_no_free_entry_point(
    gateway: GatewayServer, api: httpx.AsyncClient, sandbox: SandboxClient, clock: MovableClock
) -> None:
    await sandbox.guest_says(LUCIA, message=FROM_AN_AD)
    await guest_wrote(gateway, MIRADOR, LUCIA)
    await set_time(clock, sandbox, DAYTIME + 25 * 3600)

    answer = await api.post(
        "/messages", json={"business": MIRADOR, "to": LUCIA, "purpose": "winter_offer", "parameters": WINTER_OFFER}
    )

    assert answer.status_code == 202, answer.text
    assert answer.json()["cost"]["amount"] == "0.0509"
    done = await message_in(api, answer.json()["id"], ("read",))
    assert done["reconciliation"]["matches"] is True
    assert done["reconciliation"]["reported"]["category"] == "marketing"


async def test_a_thread_the_hotel_started_is_in_the_agents_list(
    gateway: GatewayServer, api: httpx.AsyncClient, sandbox: SandboxClient
) -> None:
    """A reminder to a guest who never wrote: the front desk sees the thread, its template and its statuses,
    and the window is shown as never opened; when the guest answers, the same thread has their message."""
    answer = await api.post(
        "/messages", json={"business": MIRADOR, "to": LUCIA, "purpose": "reservation_reminder", "parameters": REMINDER}
    )
    assert answer.status_code == 202, answer.text
    await message_in(api, answer.json()["id"], ("read",))
    desk = {"Authorization": f"Bearer {AGENT_TOKEN}"}

    listed = (await api.get("/conversations", headers=desk)).json()["conversations"]
    [thread] = [c for c in listed if c["wa_id"] == LUCIA]
    assert thread["window"] == {"open": False, "closes_at": None}
    assert thread["last_origin"] == "automation:automations"
    assert thread["unread"] == 0
    detail = (await api.get(f"/conversations/{MIRADOR}/{LUCIA}", headers=desk)).json()
    [sent] = detail["messages"]
    assert (sent["type"], sent["status"]) == ("template", "read")

    await sandbox.guest_says(LUCIA, "¡Gracias! Llegamos sobre las 18:00")
    await guest_wrote(gateway, MIRADOR, LUCIA)
    listed = (await api.get("/conversations", headers=desk)).json()["conversations"]
    [thread] = [c for c in listed if c["wa_id"] == LUCIA]
    assert thread["window"]["open"] is True
    assert (thread["last_origin"], thread["unread"]) == ("guest", 1)


async def test_free_text_outside_the_window_is_refused_with_the_reason(
    gateway: GatewayServer, api: httpx.AsyncClient, sandbox: SandboxClient
) -> None:
    answer = await api.post("/messages", json={"business": MIRADOR, "to": LUCIA, "text": "¿Qué tal su viaje?"})

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "window_closed"
    assert "template" in answer.json()["error"]["message"]
    assert await gateway.count(outbox) == 0
    assert outbound_of(await sandbox.thread(LUCIA)) == []


async def test_the_same_idempotency_key_sends_once_and_answers_the_same(
    gateway: GatewayServer, api: httpx.AsyncClient, sandbox: SandboxClient
) -> None:
    body = {"business": MIRADOR, "to": OLIVER, "purpose": "reservation_reminder", "parameters": REMINDER}
    key = {"Idempotency-Key": f"reminder-{uuid.uuid4()}"}

    answers = await asyncio.gather(*(api.post("/messages", json=body, headers=key) for _ in range(3)))
    later = await api.post("/messages", json=body, headers=key)

    assert {a.status_code for a in [*answers, later]} == {202}
    assert len({a.json()["id"] for a in [*answers, later]}) == 1
    assert later.headers.get("Idempotent-Replay") == "true"
    await message_in(api, later.json()["id"], ("read",))
    assert await gateway.count(outbox) == 1
    assert len(outbound_of(await sandbox.thread(OLIVER))) == 1
    refused = {"business": MIRADOR, "to": OLIVER, "text": "hola"}
    refusal_key = {"Idempotency-Key": "refused-once"}
    first, second = [await api.post("/messages", json=refused, headers=refusal_key) for _ in range(2)]
    assert first.status_code == second.status_code == 409
    assert first.json() == second.json()


async def test_a_scheduled_send_survives_a_restart_and_goes_out_on_time(
    make_gateway: ServerFactory, clock: MovableClock, sandbox: SandboxClient
) -> None:
    first = await make_gateway()
    send_at = "2026-12-01T12:00:00+01:00"  # two hours after DAYTIME
    async with _api(first) as api:
        answer = await api.post(
            "/messages",
            json={
                "business": MIRADOR,
                "to": OLIVER,
                "purpose": "reservation_reminder",
                "parameters": REMINDER,
                "send_at": send_at,
            },
        )
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["id"]
    assert answer.json()["due_at"] == "2026-12-01T11:00:00+00:00"
    await first.stop()

    second = await make_gateway()
    async with _api(second) as api:
        await asyncio.sleep(1.5)
        assert (await api.get(f"/messages/{message_id}")).json()["state"] == "queued"
        assert outbound_of(await sandbox.thread(OLIVER)) == []

        await set_time(clock, sandbox, DAYTIME + 2 * 3600 + 1)
        done = await message_in(api, message_id, ("read",))

    assert done["sent_at"].startswith("2026-12-01T11:00:0")
    assert len(outbound_of(await sandbox.thread(OLIVER))) == 1


async def test_a_batch_of_500_completes_with_every_outcome_recorded(
    make_gateway: ServerFactory, sandbox: SandboxClient
) -> None:
    await sandbox.configure(throughput_limit=1000, undeliverable=["34600000000"])
    gateway = await make_gateway(throughput_per_second=500)
    guests = ["+34 600 000 000", *(f"+34 61{i:07d}" for i in range(1, 500))]
    messages = [{"to": guest, "purpose": "reservation_reminder", "parameters": REMINDER} for guest in guests]

    async with _api(gateway) as api:
        answer = await api.post("/batches", json={"business": MIRADOR, "messages": messages})
        assert answer.status_code == 202, answer.text
        batch_id = answer.json()["id"]
        assert answer.json()["counts"] == {"queued": 500}

        async def finished() -> dict[str, Any] | None:
            batch = (await api.get(f"/batches/{batch_id}")).json()
            return batch if all(m["state"] in ("read", "failed") for m in batch["messages"]) else None

        batch = await eventually(finished, timeout=60)

    assert batch["done"] is True
    assert batch["total"] == len(batch["messages"]) == 500
    assert batch["counts"] == {"read": 499, "failed": 1}
    [failed] = [m for m in batch["messages"] if m["state"] == "failed"]
    assert failed["to"] == "34600000000"
    assert failed["error"]["code"] == 131026
    assert len({m["wamid"] for m in batch["messages"]}) == 500


async def test_every_problem_of_a_request_is_listed(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/messages",
        json={"business": "999", "to": "+34 12", "purpose": "nonsense", "send_at": "tomorrow", "urgent": "yes"},
    )

    assert answer.status_code == 422
    fields = {p["field"] for p in answer.json()["error"]["problems"]}
    assert fields == {"business", "to", "purpose", "send_at", "urgent"}
    assert (await api.post("/messages", content=b"{not json")).status_code == 422
    both = await api.post("/messages", json={"business": MIRADOR, "to": LUCIA, "text": "a", "purpose": "winter_offer"})
    assert "exactly one" in both.json()["error"]["problems"][0]["message"]


async def test_template_parameters_are_checked_before_anything_is_sent(
    gateway: GatewayServer, api: httpx.AsyncClient
) -> None:
    answer = await api.post(
        "/messages",
        json={
            "business": MIRADOR,
            "to": LUCIA,
            "template": {"name": "payment_request", "language": "es", "parameters": ["Lucía"]},
        },
    )
    too_long = await api.post(
        "/messages",
        json={
            "business": MIRADOR,
            "to": LUCIA,
            "template": {"name": "reopen_conversation", "language": "es", "parameters": ["x" * 1100, "Mirador"]},
        },
    )
    unknown = await api.post(
        "/messages",
        json={"business": MIRADOR, "to": LUCIA, "template": {"name": "nope", "language": "es", "parameters": []}},
    )

    assert answer.status_code == 422
    assert "takes 3 body parameters, not 1" in answer.json()["error"]["message"]
    assert too_long.status_code == 422
    assert "over 1024 characters" in too_long.json()["error"]["message"]
    assert unknown.status_code == 422
    assert await gateway.count(outbox) == 0


async def test_only_automation_tokens_for_their_hotels(gateway: GatewayServer, api: httpx.AsyncClient) -> None:
    body = {"business": ALAMEDA, "to": LUCIA, "purpose": "reservation_reminder", "parameters": REMINDER}
    agent = await api.post("/messages", json=body, headers={"Authorization": f"Bearer {AGENT_TOKEN}"})
    other_hotel = await api.post("/messages", json=body, headers={"Authorization": f"Bearer {MIRADOR_ONLY_TOKEN}"})
    nobody = await api.post("/messages", json=body, headers={"Authorization": ""})

    assert (agent.status_code, other_hotel.status_code, nobody.status_code) == (403, 403, 401)
    assert await gateway.count(outbox) == 0


async def test_an_opt_out_is_confirmed_refused_and_undone_when_the_guest_writes_again(
    gateway: GatewayServer, api: httpx.AsyncClient, sandbox: SandboxClient
) -> None:
    body = {"business": MIRADOR, "to": LUCIA, "purpose": "reservation_reminder", "parameters": REMINDER}
    await sandbox.guest_says(LUCIA, "BAJA")

    async def confirmed() -> list[dict[str, Any]]:
        return outbound_of(await sandbox.thread(LUCIA))

    [confirmation] = await eventually(confirmed)
    assert confirmation["text"].startswith("Hecho: no le enviaremos más mensajes automáticos")
    refused = await api.post("/messages", json=body)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "opted_out"
    assert gateway.bot.received == []

    await sandbox.guest_says(LUCIA, "Hola de nuevo")
    await gateway.bot.wait_for(1)
    accepted = await api.post("/messages", json=body)
    assert accepted.status_code == 202, accepted.text


async def test_quiet_hours_move_scheduled_sends_to_the_morning_unless_urgent(api: httpx.AsyncClient) -> None:
    body = {
        "business": ALAMEDA,
        "to": OLIVER,
        "purpose": "reservation_reminder",
        "parameters": REMINDER,
        "send_at": "2026-12-01T23:30:00+01:00",
    }
    late = await api.post("/messages", json=body)
    urgent = await api.post("/messages", json={**body, "urgent": True})

    assert late.json()["due_at"] == "2026-12-02T07:00:00+00:00"  # 08:00 in Seville
    assert urgent.json()["due_at"] == "2026-12-01T22:30:00+00:00"


async def test_a_paused_template_holds_its_messages_until_approved_again(
    gateway: GatewayServer, api: httpx.AsyncClient, sandbox: SandboxClient
) -> None:
    await (await api.post("/templates/sync")).aread()
    paused = await sandbox.http.post("/sandbox/templates/reservation_reminder/en/status", json={"status": "PAUSED"})
    assert paused.status_code == 200, paused.text

    async def catalog_says_paused() -> bool:
        listed = (await api.get("/templates")).json()["templates"]
        return any(
            t["name"] == "reservation_reminder" and t["language"] == "en" and t["status"] == "PAUSED" for t in listed
        )

    await eventually(catalog_says_paused)
    answer = await api.post(
        "/messages", json={"business": MIRADOR, "to": OLIVER, "purpose": "reservation_reminder", "parameters": REMINDER}
    )
    assert answer.status_code == 202
    assert answer.json()["state"] == "held"
    await asyncio.sleep(0.5)
    assert outbound_of(await sandbox.thread(OLIVER)) == []

    await sandbox.http.post("/sandbox/templates/reservation_reminder/en/status", json={"status": "APPROVED"})
    await message_in(api, answer.json()["id"], ("read",))


async def test_a_marketing_send_over_the_monthly_budget_is_refused(
    make_gateway: ServerFactory, sandbox: SandboxClient
) -> None:
    gateway = await make_gateway(marketing_budgets={MIRADOR: Decimal("0.06")})
    body = {
        "business": MIRADOR,
        "to": LUCIA,
        "purpose": "winter_offer",
        "parameters": {"guest_name": "Lucía", "discount_percent": "15"},
    }
    async with _api(gateway) as api:
        first = await api.post("/messages", json=body)
        second = await api.post("/messages", json=body)

    assert first.status_code == 202
    assert first.json()["cost"]["amount"] == "0.0509"
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "budget_exceeded"


async def test_throttled_sends_slow_down_and_retry(make_gateway: ServerFactory, sandbox: SandboxClient) -> None:
    await sandbox.configure(throughput_limit=2)
    gateway = await make_gateway(throughput_per_second=80)
    guests = [f"+34 62{i:07d}" for i in range(6)]
    async with _api(gateway) as api:
        ids = []
        for guest in guests:
            answer = await api.post(
                "/messages",
                json={"business": MIRADOR, "to": guest, "purpose": "reservation_reminder", "parameters": REMINDER},
            )
            ids.append(answer.json()["id"])
        done = [await message_in(api, i, ("read",), timeout=30) for i in ids]

    assert max(m["attempts"] for m in done) >= 1
    async with gateway.store.engine.connect() as connection:
        errors = (
            (await connection.execute(sa.select(outbox.c.error_code).where(outbox.c.error_code.is_not(None))))
            .scalars()
            .all()
        )
    assert set(errors) == {130429}


def _api(gateway: GatewayServer) -> httpx.AsyncClient:
    return described_client(gateway)


async def test_a_send_whose_process_stopped_before_recording_it_is_not_sent_again(
    make_gateway: ServerFactory, clock: MovableClock, sandbox: SandboxClient
) -> None:
    """WhatsApp reported a status for the message (its callback data names it), so it went out: a process
    sent it, then stopped before recording the send. The next claim records it as sent; the guest gets it once."""
    gateway = await make_gateway()
    async with _api(gateway) as api:
        answer = await api.post(
            "/messages",
            json={
                "business": MIRADOR,
                "to": OLIVER,
                "purpose": "reservation_reminder",
                "parameters": REMINDER,
                "send_at": "2026-12-01T12:00:00+01:00",
            },
        )
        assert answer.status_code == 202, answer.text
        message_id = answer.json()["id"]
        async with gateway.store.transaction() as connection:
            await connection.execute(
                outbox.update()
                .where(outbox.c.id == int(message_id))
                .values(state="sending", claimed_by="stopped:q1", claimed_at=clock())
            )
            await connection.execute(
                statuses.insert().values(
                    wamid="wamid.sent-before-the-stop",
                    status="sent",
                    wa_timestamp=int(clock()),
                    recipient_id=OLIVER,
                    callback_data=f"gw:{message_id}",
                    received_at=clock(),
                )
            )

        await set_time(clock, sandbox, DAYTIME + 2 * 3600 + 61)  # due, and the stopped process's lease is over
        done = await message_in(api, message_id, ("sent", "delivered", "read"))

    assert done["wamid"] == "wamid.sent-before-the-stop"
    assert outbound_of(await sandbox.thread(OLIVER)) == []
