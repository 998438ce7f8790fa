"""The guest phone page shows the hotel's files as the guest's WhatsApp would: a photo inline, a document
as a link with its name, audio and video players, the bytes from the sandbox's own copy of the upload.
Headless Chromium against the sandbox as a real process."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import Page, expect

from tests.browser.test_guest_page import ACCESS_TOKEN, GUEST, HOTEL, open_chat

pytestmark = pytest.mark.browser

MEDIA = Path(__file__).resolve().parents[2] / "sandbox" / "data" / "media"
SCREENSHOT = Path(__file__).resolve().parents[1] / "artifacts" / "guest_page_attachments.png"


def parking_photo() -> bytes:
    """A real 320x200 JPEG, so the screenshot shows the photo as a guest sees it."""
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (40, 120, 180)).save(buffer, "JPEG")
    return buffer.getvalue()


AUTHORIZED = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


async def hotel_sends_file(client: httpx.AsyncClient, data: bytes, mime_type: str, kind: str, **extra: Any) -> str:
    """Upload a file and send it by its media id, as the gateway does for an agent's attachment."""
    upload = await client.post(
        f"/v23.0/{HOTEL}/media",
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": ("file", data, mime_type)},
        headers=AUTHORIZED,
    )
    assert upload.status_code == 200, upload.text
    media_id = upload.json()["id"]
    body = {"messaging_product": "whatsapp", "to": GUEST, "type": kind, kind: {"id": media_id, **extra}}
    sent = await client.post(f"/v23.0/{HOTEL}/messages", json=body, headers=AUTHORIZED)
    assert sent.status_code == 200, sent.text
    return media_id


async def test_the_guest_phone_shows_the_hotels_photo_document_and_audio(page: Page, fresh_sandbox: str) -> None:
    async with httpx.AsyncClient(base_url=fresh_sandbox, timeout=5.0) as client:
        wrote = await client.post(f"/sandbox/guests/{GUEST}/messages", json={"to": HOTEL, "text": "¿El plano?"})
        assert wrote.status_code == 200, wrote.text
        await open_chat(page, fresh_sandbox)
        photo = await hotel_sends_file(client, parking_photo(), "image/jpeg", "image", caption="Entrada del parking")
        pdf = await hotel_sends_file(
            client, (MEDIA / "placeholder.pdf").read_bytes(), "application/pdf", "document", filename="factura.pdf"
        )
        voice = await hotel_sends_file(client, b"#!AMR\n" + b"\0" * 64, "audio/amr", "audio")

    image = page.locator(f"img.media--image[src='/sandbox/phone/media/{photo}']")
    await expect(image).to_be_visible()
    await expect(image).to_have_attribute("alt", "Entrada del parking")
    assert await image.evaluate("img => img.complete && img.naturalWidth === 320"), "the photo's bytes did not load"
    await expect(page.locator(".row[data-direction='outbound']", has_text="Entrada del parking")).to_be_visible()
    document = page.get_by_role("link", name="factura.pdf")
    await expect(document).to_have_attribute("href", f"/sandbox/phone/media/{pdf}")
    await expect(document).to_have_attribute("download", "factura.pdf")
    await expect(page.locator(f"audio.media--audio[src='/sandbox/phone/media/{voice}']")).to_have_attribute(
        "controls", ""
    )
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))
