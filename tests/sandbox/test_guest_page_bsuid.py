"""The guest phone page for a guest with a username, in headless Chromium: the picker opens a guest by BSUID, or
by the phone number the guest showed later, and either way it is the one thread, live."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.support import MIRADOR, SandboxClient, WebhookReceiver

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium, never a downloaded one, as in the browser suite; its fixtures are not imported, since
they load the whole gateway and these tests need only the sandbox."""
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing; install Debian's chromium"),
]

PABLO = "US.13491208655302741918"
PABLO_PHONE = "16505551234"


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium for the module's pages."""
    async with async_playwright() as playwright:
        args = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        yield browser
        await browser.close()


@pytest.fixture
async def page(chromium: Browser) -> AsyncIterator[Page]:
    context = await chromium.new_context(viewport={"width": 1100, "height": 820}, locale="en-GB")
    yield await context.new_page()
    await context.close()


async def open_guest(page: Page, sandbox: SandboxClient, guest: str) -> None:
    await page.goto(f"{sandbox.base_url}/")
    await page.get_by_role("combobox", name="Hotel").select_option(MIRADOR)
    await page.get_by_label("Guest number or user id").fill(guest)
    await page.get_by_label("Guest number or user id").press("Enter")
    await expect(page.locator("#phone")).to_have_attribute("data-live", "open")


async def test_a_bsuid_guest_writes_from_the_page(
    page: Page, sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    await open_guest(page, sandbox, PABLO)
    await page.get_by_label("Message", exact=True).fill("Hi, is there parking?")
    await page.get_by_role("button", name="Send", exact=True).click()
    bubble = page.locator(".row[data-direction='inbound']", has_text="Hi, is there parking?")
    await expect(bubble).to_have_attribute("data-delivery", "acknowledged", timeout=10_000)
    [webhook] = [r for r in receiver.received if "Hi, is there parking?" in r.body.decode()]
    [message] = json.loads(webhook.body)["entry"][0]["changes"][0]["value"]["messages"]
    assert message["from_user_id"] == PABLO
    assert "from" not in message


async def test_the_phone_number_a_bsuid_guest_showed_opens_the_same_live_thread(
    page: Page, sandbox: SandboxClient
) -> None:
    await sandbox.guest_says(PABLO, "Hi")
    await sandbox.guest_says(PABLO, "My number", phone=PABLO_PHONE)
    await open_guest(page, sandbox, PABLO_PHONE)
    inbound = page.locator(".row[data-direction='inbound']")
    await expect(inbound).to_have_count(2)
    answer = await sandbox.send({"recipient": PABLO, "type": "text", "text": {"body": "Yes, 15 EUR a night."}})
    wamid = answer.json()["messages"][0]["id"]
    await expect(page.locator(f".row[data-wamid='{wamid}']")).to_contain_text("Yes, 15 EUR a night.")
