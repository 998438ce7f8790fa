"""A guest known only by a business-scoped user id in the console, in headless Chromium: their username and
user id beside the hotel in the thread, where a guest with a number has the number."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_console import LIVE_TIMEOUT_MS, log_in
from tests.gateway_support import GatewayServer
from tests.support import SandboxClient

pytestmark = pytest.mark.browser

SOFIA = "ES.55120943318820556104"


async def test_a_username_guest_shows_their_username_and_user_id(
    page: Page, gateway: GatewayServer, sandbox: SandboxClient
) -> None:
    await sandbox.guest_says(SOFIA, "¿A qué hora es el desayuno?", username="@sofia.viaja", name="Sofía")
    await gateway.bot.wait_for(1)

    await log_in(page, gateway, "marta-secret")
    item = page.locator(f"#conversations li[data-key='1000000001:{SOFIA}']")
    await expect(item.locator(".conversation__name")).to_have_text("Sofía", timeout=LIVE_TIMEOUT_MS)
    await item.get_by_role("button").click()
    await expect(page.locator("#guest-name")).to_have_text("Sofía")
    await expect(page.locator("#guest-meta")).to_contain_text(f"@sofia.viaja · {SOFIA}")
    await expect(page.locator(".msg[data-origin='guest']", has_text="desayuno")).to_be_visible()
