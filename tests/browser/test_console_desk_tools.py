"""The front desk's tools in headless Chromium, against the real gateway and the sandbox: an agent writes an
internal note, picks a saved reply by typing `/` (filled from the guest's reservation), assigns the thread to
themself and resolves it. Screenshots are kept in tests/artifacts/console_desk_tools*.png.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.test_console import LIVE_TIMEOUT_MS, log_in
from tests.gateway_support import GatewayServer
from tests.support import LUCIA, MIRADOR, SandboxClient

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
API = "/webhooks/whatsapp/api/v1"


async def test_an_agent_notes_uses_a_saved_reply_assigns_and_resolves(
    page: Page, gateway: GatewayServer, sandbox: SandboxClient
) -> None:
    async with httpx.AsyncClient(
        base_url=f"{gateway.url}{API}", headers={"Authorization": "Bearer marta-secret"}
    ) as api:
        saved = await api.post(
            "/saved-replies",
            params={"business": MIRADOR},
            json={"code": "checkin", "text": "Hola {guest_name}, el check-in es desde las {check_in_from}."},
        )
        assert saved.status_code == 201, saved.text
        await api.post(
            "/saved-replies", params={"business": MIRADOR}, json={"code": "wifi", "text": "Wi-Fi: {wifi_network}"}
        )
    await sandbox.guest_says(LUCIA, "Hola, ¿a qué hora es el check-in?", name="Lucía Fernández")
    await gateway.bot.wait_for(1)

    await log_in(page, gateway, "marta-secret")
    await expect(page.locator("#live")).to_have_attribute("data-live", "open", timeout=LIVE_TIMEOUT_MS)
    item = page.locator(f"#conversations li[data-key='{MIRADOR}:{LUCIA}']")
    await item.get_by_role("button").click()
    await expect(page.locator("#assignee-state")).to_have_text("Unassigned")

    await page.get_by_role("button", name="Assign to me").click()
    await expect(page.locator("#assignee-state")).to_have_text("Assigned to marta")
    await expect(item.locator(".assignee")).to_have_text("Assigned to marta")
    await page.get_by_label("Assignment").select_option("me")
    await expect(page.locator("#conversations li[data-key]")).to_have_count(1)

    await page.get_by_label("Internal note").check()
    await expect(page.locator("#composer-send")).to_have_text("Add note")
    await page.get_by_label("Reply").fill("Pidió cuna para el bebé")
    await page.locator("#composer-send").click()
    note = page.locator(".note", has_text="Pidió cuna para el bebé")
    await expect(note).to_contain_text("Note · marta")
    await page.get_by_label("Internal note").uncheck()

    box = page.get_by_label("Reply")
    await box.fill("")
    await box.press_sequentially("/c")
    options = page.get_by_role("listbox").get_by_role("option")
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text("/checkin")
    await box.press("Backspace")
    await expect(options).to_have_count(2)
    await box.press("ArrowDown")
    await expect(page.locator("#saved-picker li[data-code='wifi']")).to_have_attribute("aria-selected", "true")
    await box.press("ArrowUp")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "console_desk_tools_picker.png"))
    await box.press("Enter")
    await expect(box).to_have_value("Hola Lucía, el check-in es desde las 15:00.")
    await expect(page.get_by_role("listbox")).to_be_hidden()
    await page.get_by_role("button", name="Send", exact=True).click()
    reply = page.locator(".msg[data-origin='agent:marta']", has_text="el check-in es desde las 15:00")
    await expect(reply).to_have_attribute("data-status", "delivered", timeout=LIVE_TIMEOUT_MS)

    await page.screenshot(path=str(ARTIFACTS / "console_desk_tools.png"))

    await page.get_by_role("button", name="Resolve").click()
    await expect(page.locator("#handoff-state")).to_have_attribute("data-state", "bot")
    await expect(page.locator(".desk-event[data-desk='resolved']")).to_contain_text("marta resolved the conversation")
    await expect(item).to_be_hidden()
    await page.get_by_label("Conversation status").select_option("resolved")
    await expect(item.locator(".badge--resolved")).to_have_text("Resolved")

    await page.get_by_label("Idioma / Language").select_option("es")
    await expect(page.get_by_label("Nota interna")).to_be_visible()
    await expect(note).to_contain_text("Nota · marta")
    await expect(page.locator("#assignee-state")).to_have_text("Asignada a marta")
    await expect(page.get_by_label("Estado de la conversación")).to_have_value("resolved")

    entries = await sandbox.thread(LUCIA, MIRADOR)
    assert all("cuna" not in str(entry["content"]) for entry in entries), "the note reached the guest"
    assert [m.text for m in gateway.bot.received] == ["Hola, ¿a qué hora es el check-in?"]
