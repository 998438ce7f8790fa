"""The console shows a guest's edit with an "edited" mark (the original on hover) and a message the guest
deleted as deleted, live, in headless Chromium against the real gateway and the sandbox playing the guest."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_console import LIVE_TIMEOUT_MS, log_in
from tests.gateway_support import GatewayServer
from tests.support import LUCIA, SandboxClient

pytestmark = pytest.mark.browser


async def test_an_edited_message_is_marked_and_a_deleted_one_shown_as_deleted(
    page: Page, gateway: GatewayServer, sandbox: SandboxClient
) -> None:
    first = await sandbox.guest_says(LUCIA, "Llegamos el 11", name="Lucía Fernández")
    second = await sandbox.guest_says(LUCIA, "Mi DNI es 12345678Z")
    await gateway.bot.wait_for(2)
    await log_in(page, gateway, "marta-secret")
    await page.locator(f"#conversations li[data-key='1000000001:{LUCIA}']").get_by_role("button").click()
    await expect(page.locator(".msg[data-origin='guest']", has_text="Mi DNI")).to_be_visible()

    edit = {"original_message_id": first, "message": {"type": "text", "text": {"body": "Llegamos el 12"}}}
    await sandbox.guest_says(LUCIA, message={"type": "edit", "edit": edit})
    await sandbox.guest_says(LUCIA, message={"type": "revoke", "revoke": {"original_message_id": second}})

    edited = page.locator(f".msg[data-wamid='{first}']")
    await expect(edited.locator(".msg__text")).to_have_text("Llegamos el 12", timeout=LIVE_TIMEOUT_MS)
    await expect(edited.locator(".msg__edited")).to_have_text("edited")
    await expect(edited.locator(".msg__text")).to_have_attribute("title", "Original: Llegamos el 11")
    deleted = page.locator(f".msg[data-wamid='{second}']")
    await expect(deleted).to_contain_text("The guest deleted this message", timeout=LIVE_TIMEOUT_MS)
    await expect(deleted).not_to_contain_text("12345678Z")
    assert len(gateway.bot.received) == 2
