"""The front desk's console in headless Chromium, against the real gateway blueprint and the sandbox.

An agent logs in with a token, sees a guest's new message arrive live, takes the thread over, replies and
sees the delivered tick, and gives the thread back; the screenshot is kept in tests/artifacts/console.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.gateway_support import GatewayServer
from tests.support import LUCIA, SandboxClient

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[1] / "artifacts" / "console.png"
LIVE_TIMEOUT_MS = 10_000
DAY = 24 * 60 * 60


async def log_in(page: Page, gateway: GatewayServer, token: str) -> None:
    await page.goto(f"{gateway.url}/webhooks/whatsapp/console/")
    await page.get_by_label("Idioma / Language").select_option("en")
    await page.get_by_label("Token").fill(token)
    await page.get_by_role("button", name="Log in").click()


async def test_an_agent_takes_a_thread_over_replies_and_gives_it_back(
    page: Page, gateway: GatewayServer, sandbox: SandboxClient
) -> None:
    await sandbox.guest_says(LUCIA, "Hola, llego mañana", name="Lucía Fernández")
    await gateway.bot.wait_for(1)

    await log_in(page, gateway, "marta-secret")
    await expect(page.locator("#live")).to_have_attribute("data-live", "open", timeout=LIVE_TIMEOUT_MS)
    item = page.locator(f"#conversations li[data-key='1000000001:{LUCIA}']")
    await expect(item).to_contain_text("echo: Hola, llego mañana")
    await item.get_by_role("button").click()
    await expect(page.locator("#reservation")).to_contain_text("MDP-4F7K2Q")
    await page.evaluate("window.sameDocument = true")

    await sandbox.guest_says(LUCIA, "¿Tienen parking?")
    await expect(page.locator(".msg[data-origin='guest']", has_text="¿Tienen parking?")).to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )

    await page.get_by_role("button", name="Take over").click()
    await expect(page.locator("#handoff-state")).to_have_attribute("data-state", "agent")
    await expect(page.locator("#handoff-state")).to_have_text("With marta")

    await sandbox.guest_says(LUCIA, "¿Hola?")
    held = page.locator(".msg[data-origin='guest']", has_text="¿Hola?")
    await expect(held).to_contain_text("Held for the agent", timeout=LIVE_TIMEOUT_MS)

    await page.get_by_label("Reply").fill("Sí, parking subterráneo a 18 EUR por noche.")
    await page.get_by_role("button", name="Send", exact=True).click()
    reply = page.locator(".msg[data-origin='agent:marta']", has_text="parking subterráneo")
    await expect(reply).to_have_attribute("data-status", "delivered", timeout=LIVE_TIMEOUT_MS)
    await expect(reply.get_by_role("img", name="Delivered")).to_be_visible()

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))

    await page.get_by_role("button", name="Give back to the bot").click()
    await expect(page.locator("#handoff-state")).to_have_attribute("data-state", "bot")
    await expect(page.locator(".handoff-event[data-handoff='bot']")).to_be_visible()
    assert await page.evaluate("window.sameDocument"), "the page reloaded instead of updating live"
    assert [m.text for m in gateway.bot.received] == ["Hola, llego mañana", "¿Tienen parking?"]


async def test_outside_the_window_the_agent_sends_a_prefilled_template(
    page: Page, gateway: GatewayServer, sandbox: SandboxClient
) -> None:
    await sandbox.guest_says(LUCIA, "Hola", name="Lucía Fernández")
    await gateway.bot.wait_for(1)
    await sandbox.advance(DAY + 60)
    gateway.clock.offset += DAY + 60

    await log_in(page, gateway, "marta-secret")
    await page.locator(f"#conversations li[data-key='1000000001:{LUCIA}']").get_by_role("button").click()
    await expect(page.locator("#window-state")).to_have_text("Window closed")
    await page.get_by_label("Reply").fill("¿Sigue interesada en el parking?")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("The window is closed")

    await page.get_by_label("Plantilla").select_option(label="payment_request · es · UTILITY")
    await expect(page.locator("#template-parameters input").nth(1)).to_have_value("289.40 EUR")
    await page.get_by_role("button", name="Send template").click()
    sent = page.locator(".msg[data-origin='agent:marta']", has_text="[template payment_request es]")
    await expect(sent).to_have_attribute("data-status", "delivered", timeout=LIVE_TIMEOUT_MS)


async def test_the_console_speaks_spanish_and_refuses_an_automation_token(page: Page, gateway: GatewayServer) -> None:
    await page.goto(f"{gateway.url}/webhooks/whatsapp/console/")
    await page.get_by_label("Idioma / Language").select_option("es")
    await expect(page.get_by_role("heading", name="Consola de recepción")).to_be_visible()
    await page.get_by_label("Token").fill("crm-secret")
    await page.get_by_role("button", name="Entrar").click()
    await expect(page.get_by_role("alert")).to_have_text("Este token no es de agente.")
    await expect(page.locator("#desk")).to_be_hidden()
