"""The console's Costs view in headless Chromium, against the real gateway and the sandbox.

Priced traffic goes out through the real automations API (and the bot's echo) to the sandbox; once every
message is delivered, the view must show what `GET /reports/costs` answers for the same month: the total,
the counts, one bar per category and country that cost something, the CSV the API gives, an empty month and
a refused hotel, in Spanish and in English. The screenshot is kept in tests/artifacts/console-costs.png.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.automations.helpers import eventually, message_in
from tests.gateway_support import GatewayServer
from tests.support import ALAMEDA, APP_SECRET, LUCIA, MIRADOR, OLIVER, WABA, SandboxClient

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[1] / "artifacts" / "console-costs.png"
AS_MARTA = {"Authorization": "Bearer marta-secret"}
DUTCH, FRENCH = "31612345678", "33612345678"
REMINDER = {"guest_name": "Lucía", "arrival_date": "18/12/2026", "hotel_name": "Hotel Mirador del Puerto"}
PAYMENT = {"guest_name": "Lucía", "amount_pending": "289.40 EUR", "payment_link": "https://pay.example.com/MDP-4F7K2Q"}


@pytest.fixture
async def api(gateway: GatewayServer) -> AsyncIterator[httpx.AsyncClient]:
    """The API as the CRM's automation token; the report is asked for with the agent's (`AS_MARTA`)."""
    async with httpx.AsyncClient(
        base_url=f"{gateway.url}/webhooks/whatsapp/api/v1", headers={"Authorization": "Bearer crm-secret"}, timeout=30
    ) as client:
        yield client


async def send_priced_traffic(api: httpx.AsyncClient, gateway: GatewayServer, sandbox: SandboxClient) -> int:
    """A month's worth in miniature, through the automations API: free text in the window (free tier), utility
    templates in Spain and the United Kingdom, one to France (no rate on the card: unpriced), a marketing
    template in the Netherlands; the bot's echo adds a service message. Answers how many outbound messages went."""
    await sandbox.guest_says(LUCIA, "Hola, ¿cuánto me queda por pagar?", name="Lucía Fernández")
    await gateway.bot.wait_for(1)
    await eventually(lambda: gateway.store.last_inbound(MIRADOR, LUCIA))
    sends: list[dict[str, Any]] = [
        {"to": LUCIA, "purpose": "payment_request", "parameters": PAYMENT},
        {
            "to": LUCIA,
            "template": {"name": "reservation_reminder", "language": "es", "parameters": list(REMINDER.values())},
        },
        {"to": OLIVER, "purpose": "reservation_reminder", "parameters": REMINDER},
        {"to": DUTCH, "purpose": "winter_offer", "parameters": {"guest_name": "Daan", "discount_percent": "15"}},
        {"to": FRENCH, "purpose": "reservation_reminder", "parameters": REMINDER},  # no French rate: unpriced
    ]
    for send in sends:
        answer = await api.post("/messages", json={"business": MIRADOR, **send})
        assert answer.status_code == 202, answer.text
        done = await message_in(api, answer.json()["id"], ("delivered",))  # only delivered messages are charged
        if send["to"] == OLIVER:
            await whatsapp_calls_it_free(gateway, done["wamid"], OLIVER)
    return len(sends) + 1


async def whatsapp_calls_it_free(gateway: GatewayServer, wamid: str, wa_id: str) -> None:
    """A signed `read` status whose pricing object says the message was free: a mismatch for the report."""
    status = {
        "id": wamid,
        "status": "read",
        "timestamp": str(int(time.time())),
        "recipient_id": wa_id,
        "pricing": {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "34952000001", "phone_number_id": MIRADOR},
        "statuses": [status],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "messages", "value": value}]}],
    }
    body = json.dumps(payload).encode()
    signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            gateway.webhook_url,
            content=body,
            headers={"X-Hub-Signature-256": f"sha256={signature}", "Content-Type": "application/json"},
        )
    assert answer.status_code == 200, answer.text


async def settled_report(api: httpx.AsyncClient, month: str, messages: int) -> dict[str, Any]:
    """The API's report once every message (the bot's echo too) is counted as delivered, and WhatsApp's
    disagreeing read status is in."""

    async def check() -> dict[str, Any] | None:
        answer = await api.get("/reports/costs", params={"business": MIRADOR, "month": month}, headers=AS_MARTA)
        report = answer.json()
        settled = report["messages"] == messages and report["undelivered"] == 0 and len(report["mismatches"]) == 1
        return report if settled else None

    return await eventually(check)


def shown_amount(text: str, currency: str) -> Decimal:
    """`0,2123 EUR` or `0.2123 EUR` as a number."""
    number, shown_currency = text.rsplit(" ", 1)
    assert shown_currency == currency
    return Decimal(number.replace(",", "."))


def previous_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


async def check_the_view_matches(page: Page, report: dict[str, Any]) -> None:
    total = page.locator("#costs-total dd")
    await expect(total).to_have_attribute("data-amount", report["total"])
    assert shown_amount(await total.inner_text(), report["currency"]) == Decimal(report["total"])
    for name in ("messages", "billable", "free", "undelivered"):
        await expect(page.locator(f"#costs-{name} dd")).to_have_text(str(report[name]))
    for reason, count in report["free_reasons"].items():
        await expect(page.locator("#costs-free-reasons li", has_text=reason)).to_contain_text(str(count))
    charged_lines = [line for line in report["lines"] if Decimal(line["amount"]) > 0]
    await expect(page.locator("#costs-chart svg g.chart__row")).to_have_count(len(report["lines"]))
    bars = page.locator("#costs-chart svg rect.bar")
    await expect(bars).to_have_count(len(charged_lines))
    assert sorted(await bars.evaluate_all("bars => bars.map((bar) => bar.dataset.amount)")) == sorted(
        line["amount"] for line in charged_lines
    )


async def test_the_costs_view_shows_the_reports_month_in_both_languages(
    page: Page, gateway: GatewayServer, sandbox: SandboxClient, api: httpx.AsyncClient
) -> None:
    month = datetime.now(timezone.utc).strftime("%Y-%m")
    sent = await send_priced_traffic(api, gateway, sandbox)
    report = await settled_report(api, month, sent)
    assert Decimal(report["total"]) > 0, report
    assert report["billable"] >= 3, report
    assert report["free"] >= 2, report
    assert {line["category"] for line in report["lines"]} >= {"service", "utility", "marketing"}

    await page.goto(f"{gateway.url}/webhooks/whatsapp/console/")
    await page.get_by_label("Idioma / Language").select_option("es")
    await page.get_by_label("Token").fill("marta-secret")
    await page.get_by_role("button", name="Entrar").click()
    await page.get_by_role("button", name="Costes").click()

    await expect(page.get_by_role("heading", name="Costes de WhatsApp")).to_be_visible()
    await expect(page.get_by_label("Hotel")).to_have_value(MIRADOR)
    await expect(page.get_by_label("Mes")).to_have_value(month)
    await check_the_view_matches(page, report)
    await expect(page.locator("#costs-summary")).to_contain_text("Cobrados")
    [mismatch] = report["mismatches"]
    await expect(page.locator("#costs-mismatches li")).to_have_text(
        f"{mismatch['wamid']}: billable: expected True, WhatsApp says False"
    )

    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Descargar CSV").click()
    download = await download_info.value
    csv = await api.get(
        "/reports/costs", params={"business": MIRADOR, "month": month, "format": "csv"}, headers=AS_MARTA
    )
    assert download.suggested_filename == f"costs-{MIRADOR}-{month}.csv"
    saved = await download.path()
    assert await asyncio.to_thread(saved.read_text, encoding="utf-8") == csv.text

    await page.get_by_label("Idioma / Language").select_option("en")
    await expect(page.get_by_role("heading", name="WhatsApp costs")).to_be_visible()
    await expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    await expect(page.locator("#costs-summary dt")).to_have_text(
        ["Month's total", "Messages sent", "Charged", "Free", "Undelivered (not charged)"]
    )
    await expect(page.get_by_role("img", name=f"Cost by category and country in {month}")).to_be_visible()
    await expect(page.locator("#costs-chart")).to_contain_text("Marketing · NL")
    await expect(page.locator("#costs-chart g[data-country='FR']")).to_contain_text("1 with no rate")
    await expect(page.locator("#costs-unpriced")).to_have_text("1 charged with no rate on the rate card")
    await check_the_view_matches(page, report)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT), full_page=True)

    await page.get_by_label("Month").fill(previous_month(month))
    await expect(page.locator("#costs-state")).to_have_text("No messages this month.")
    await expect(page.locator("#costs-report")).to_be_hidden()
    await page.get_by_label("Idioma / Language").select_option("es")
    await expect(page.locator("#costs-state")).to_have_text("No hay mensajes este mes.")


async def test_a_hotel_the_token_may_not_see_gets_a_clear_refusal(page: Page, gateway: GatewayServer) -> None:
    await page.goto(f"{gateway.url}/webhooks/whatsapp/console/")
    await page.get_by_label("Idioma / Language").select_option("en")
    await page.get_by_label("Token").fill("marta-secret")
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("button", name="Costs").click()
    await expect(page.get_by_label("Hotel").locator("option")).to_have_text([f"Hotel Mirador del Puerto ({MIRADOR})"])

    # The picker offers only the token's hotels; a hotel taken from the token while the page is open is refused.
    await page.get_by_label("Hotel").evaluate("(picker, id) => picker.append(new Option(id, id))", ALAMEDA)
    await page.get_by_label("Hotel").select_option(ALAMEDA)

    state = page.locator("#costs-state")
    await expect(state).to_have_text("This token may not see this hotel's costs.")
    await expect(state).to_have_attribute("data-state", "error")
    await expect(page.get_by_role("button", name="Download CSV")).to_be_disabled()
    await page.get_by_label("Idioma / Language").select_option("es")
    await expect(state).to_have_text("Este token no puede ver los costes de este hotel.")
