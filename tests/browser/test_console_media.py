"""The console shows a guest's photo as a thumbnail that opens full size, a PDF as a download with its name,
and a file WhatsApp's limit refused as not available, in headless Chromium against the real gateway, with the
sandbox playing the guest; the screenshot is kept in tests/artifacts/console_media.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from connectors.whatsapp.media import MAX_BYTES
from tests.browser.test_console import LIVE_TIMEOUT_MS, log_in
from tests.gateway_support import GatewayServer
from tests.support import LUCIA, SandboxClient

pytestmark = pytest.mark.browser

PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "shower.jpg"
BLOB = re.compile(r"^blob:")
SCREENSHOT = Path(__file__).resolve().parents[1] / "artifacts" / "console_media.png"


async def _upload(sandbox: SandboxClient, data: bytes, mime_type: str, name: str) -> str:
    response = await sandbox.http.post("/sandbox/guests/media", files={"file": (name, data, mime_type)})
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def test_an_agent_sees_the_guests_photo_as_a_thumbnail_that_opens_full_size(
    page: Page, gateway: GatewayServer, sandbox: SandboxClient
) -> None:
    photo = await _upload(sandbox, PHOTO.read_bytes(), "image/jpeg", "shower.jpg")
    await sandbox.guest_says(LUCIA, message={"type": "image", "image": {"id": photo, "caption": "La ducha gotea"}})
    pdf = await _upload(sandbox, b"%PDF-1.4\n%%EOF\n", "application/pdf", "ticket.pdf")
    await sandbox.guest_says(LUCIA, message={"type": "document", "document": {"id": pdf, "filename": "ticket.pdf"}})
    big = await _upload(sandbox, b"\xff\xd8\xff" + b"\0" * MAX_BYTES["image"], "image/jpeg", "big.jpg")
    await sandbox.guest_says(LUCIA, message={"type": "image", "image": {"id": big}})
    await gateway.bot.wait_for(3)

    await log_in(page, gateway, "marta-secret")
    await page.locator(f"#conversations li[data-key='1000000001:{LUCIA}']").get_by_role("button").click()
    thumbnail = page.get_by_role("button", name="View full size").locator("img")
    await expect(thumbnail).to_have_attribute("src", BLOB, timeout=LIVE_TIMEOUT_MS)
    message = page.locator(".msg", has=thumbnail)
    await expect(message.locator(".media__caption")).to_have_text("La ducha gotea")
    await expect(message).not_to_contain_text("/send_media")
    width = await thumbnail.evaluate("image => image.complete && image.naturalWidth")
    assert width == 480  # the real photo's bytes, decoded by the browser
    await expect(page.get_by_role("link", name="Download ticket.pdf")).to_be_visible()
    await expect(page.locator(".media--unavailable")).to_have_text(
        "Not available (too large for WhatsApp)", timeout=LIVE_TIMEOUT_MS
    )
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))

    await page.get_by_role("button", name="View full size").click()
    full = page.locator("dialog.media-viewer img")
    await expect(full).to_have_attribute("src", BLOB)
    assert await full.evaluate("image => image.decode().then(() => image.naturalWidth)") == 480
    await page.get_by_role("button", name="Close", exact=True).click()
    await expect(page.locator("dialog.media-viewer")).to_have_count(0)

    await page.get_by_label("Idioma / Language").select_option("es")
    await expect(page.get_by_role("link", name="Descargar ticket.pdf")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
