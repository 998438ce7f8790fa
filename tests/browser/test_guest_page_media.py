"""The guest phone page sends a real photo and a real PDF, picked from the device, in headless Chromium against
the sandbox as a real process: the webhook names a media id whose bytes, fetched through the Graph API's media
routes with the access token (and only with it, like Meta's), are the file's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from playwright.async_api import Page, expect

from tests.browser.test_guest_page import ACCESS_TOKEN, LIVE_TIMEOUT_MS, eventually, open_chat, signed_by_meta

if TYPE_CHECKING:
    from tests.browser.conftest import WebhookReceiver

import pytest

pytestmark = pytest.mark.browser

PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "shower.jpg"
PDF = Path(__file__).resolve().parents[2] / "sandbox" / "data" / "media" / "placeholder.pdf"


def media_message(receiver: WebhookReceiver, kind: str) -> dict[str, Any] | None:
    """The first guest message of `kind` a signed webhook carried to the receiver."""
    for webhook in receiver.snapshot():
        for entry in json.loads(webhook.body).get("entry", []):
            for change in entry["changes"]:
                for message in change["value"].get("messages", []):
                    if message.get("type") == kind and signed_by_meta(webhook):
                        return message
    return None


async def download(base_url: str, media_id: str) -> tuple[dict[str, Any], bytes, int]:
    """What a gateway gets for a media id: its info, then its bytes with the token; and the status without it."""
    bearer = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        info = (await client.get(f"/v23.0/{media_id}", headers=bearer)).json()
        with_token = await client.get(info["url"], headers=bearer)
        without_token = await client.get(info["url"])
    assert with_token.status_code == 200
    return info, with_token.content, without_token.status_code


async def test_the_guest_phone_sends_a_photo_and_a_pdf_from_the_device(
    page: Page, fresh_sandbox: str, webhook_receiver: WebhookReceiver
) -> None:
    await open_chat(page, fresh_sandbox)
    await page.get_by_label("Message", exact=True).fill("La ducha gotea")
    async with page.expect_file_chooser() as chooser:
        await page.get_by_role("button", name="Send a photo or PDF (caption from the text box)").click()
    await (await chooser.value).set_files(str(PHOTO))
    bubble = page.locator(".row[data-direction='inbound'][data-type='image']")
    await expect(bubble).to_contain_text("La ducha gotea", timeout=LIVE_TIMEOUT_MS)
    await expect(page.get_by_label("Message", exact=True)).to_have_value("")

    image = await eventually(lambda: media_message(webhook_receiver, "image"), "the photo's webhook")
    photo = PHOTO.read_bytes()
    assert image["image"]["caption"] == "La ducha gotea"
    assert image["image"]["sha256"] == hashlib.sha256(photo).hexdigest()
    info, data, unauthorised = await download(fresh_sandbox, image["image"]["id"])
    assert data == photo
    assert info["file_size"] == len(photo)
    assert info["mime_type"] == "image/jpeg"
    assert unauthorised == 401

    async with page.expect_file_chooser() as chooser:
        await page.get_by_role("button", name="Send a photo or PDF (caption from the text box)").click()
    await (await chooser.value).set_files(str(PDF))
    await expect(page.locator(".row[data-direction='inbound'][data-type='document']")).to_contain_text(
        "placeholder.pdf", timeout=LIVE_TIMEOUT_MS
    )
    document = await eventually(lambda: media_message(webhook_receiver, "document"), "the PDF's webhook")
    assert document["document"]["filename"] == "placeholder.pdf"
    _, data, _ = await download(fresh_sandbox, document["document"]["id"])
    assert data == PDF.read_bytes()
