"""The guest phone page in headless Chromium, against the sandbox as a real process.

What a person playing a guest relies on: a message typed in the page reaches the gateway as a signed webhook
and is shown acknowledged; the hotel's messages appear live with their ticks; tapping a reply button or a
list row sends the guest's answer in reply to the right message.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

if TYPE_CHECKING:
    from tests.browser.conftest import Webhook, WebhookReceiver

pytestmark = pytest.mark.browser

HOTEL = "1000000001"
GUEST = "34612345678"
APP_SECRET = b"sandbox-app-secret"
ACCESS_TOKEN = "sandbox-access-token"
SCREENSHOT = Path(__file__).resolve().parents[1] / "artifacts" / "guest_page.png"
LIVE_TIMEOUT_MS = 10_000

T = TypeVar("T")

PARKING_QUESTION = {
    "type": "button",
    "body": {"text": "¿Necesita parking?"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "parking_yes", "title": "Sí"}},
            {"type": "reply", "reply": {"id": "parking_no", "title": "No"}},
        ]
    },
}
BREAKFAST_MENU = {
    "type": "list",
    "header": {"type": "text", "text": "Desayuno"},
    "body": {"text": "¿Qué desayuno prefiere?"},
    "footer": {"text": "07:30-10:30"},
    "action": {
        "button": "Ver opciones",
        "sections": [
            {
                "title": "Buffet",
                "rows": [
                    {"id": "breakfast_buffet", "title": "Buffet completo", "description": "14 EUR por persona"},
                    {"id": "breakfast_room", "title": "En la habitación", "description": "Servicio de habitaciones"},
                ],
            }
        ],
    },
}


async def eventually(probe: Callable[[], T | Awaitable[T | None] | None], what: str, timeout: float = 10.0) -> T:
    """Poll `probe` until it returns something; the sandbox works in the background, so results come later."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = probe()
        if inspect.isawaitable(found):
            found = await found
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


async def guest_thread(base_url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        response = await client.get(f"/sandbox/guests/{GUEST}/messages", params={"business": HOTEL})
    response.raise_for_status()
    return response.json()["messages"]


async def hotel_sends(base_url: str, interactive: dict[str, Any]) -> str:
    """The business's side: an interactive message through the Cloud API, as the gateway would send it."""
    body = {"messaging_product": "whatsapp", "to": GUEST, "type": "interactive", "interactive": interactive}
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        response = await client.post(
            f"/v23.0/{HOTEL}/messages", json=body, headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}
        )
    assert response.status_code == 200, response.text
    return response.json()["messages"][0]["id"]


async def open_chat(page: Page, base_url: str) -> None:
    """Open the page, choose the hotel and the guest, and wait until the thread is live."""
    await page.goto(f"{base_url}/")
    await page.get_by_role("combobox", name="Hotel").select_option(HOTEL)
    await page.get_by_label("Guest number").fill(GUEST)
    await page.get_by_label("Guest number").press("Enter")
    await expect(page.locator("#phone")).to_have_attribute("data-live", "open")
    await expect(page.get_by_role("heading", name="Hotel Mirador del Puerto")).to_be_visible()


async def guest_writes(page: Page, text: str) -> Locator:
    """Type and send a message through the composer; the guest's bubble for it."""
    await page.get_by_label("Message", exact=True).fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()
    bubble = page.locator(".row[data-direction='inbound']", has_text=text)
    await expect(bubble).to_be_visible()
    return bubble


def signed_by_meta(webhook: Webhook) -> bool:
    expected = "sha256=" + hmac.new(APP_SECRET, webhook.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(webhook.headers.get("x-hub-signature-256", ""), expected)


def webhook_with_text(receiver: WebhookReceiver, text: str) -> Webhook | None:
    for webhook in receiver.snapshot():
        for entry in json.loads(webhook.body).get("entry", []):
            for change in entry["changes"]:
                messages = change["value"].get("messages", [])
                if any(m.get("text", {}).get("body") == text for m in messages):
                    return webhook
    return None


async def inbound_reply_to(base_url: str, wamid: str) -> dict[str, Any] | None:
    """The guest's interactive answer to the business message `wamid`, once the sandbox holds it."""
    for message in await guest_thread(base_url):
        if message["direction"] == "inbound" and message["type"] == "interactive" and message["context_id"] == wamid:
            return message
    return None


@pytest.mark.parametrize(("asset", "content_type"), [("guest.js", "javascript"), ("guest.css", "text/css")])
async def test_the_page_assets_are_served(sandbox_url: str, asset: str, content_type: str) -> None:
    """Checked apart, because a Graph API route that swallows `/static/…` otherwise shows up as an empty page."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=5.0) as client:
        response = await client.get(f"/static/{asset}")
    assert response.status_code == 200, f"GET /static/{asset} answered {response.status_code}: {response.text[:200]}"
    assert content_type in response.headers["content-type"]


async def test_guest_message_reaches_the_gateway_and_a_button_tap_answers_the_hotel(
    page: Page, fresh_sandbox: str, webhook_receiver: WebhookReceiver
) -> None:
    await open_chat(page, fresh_sandbox)
    bubble = await guest_writes(page, "Hola, llego mañana por la tarde")

    await expect(bubble).to_have_attribute("data-delivery", "acknowledged", timeout=LIVE_TIMEOUT_MS)
    webhook = await eventually(
        lambda: webhook_with_text(webhook_receiver, "Hola, llego mañana por la tarde"),
        "the guest's webhook at the receiver",
    )
    assert signed_by_meta(webhook)

    await page.evaluate("window.sameDocument = true")
    wamid = await hotel_sends(fresh_sandbox, PARKING_QUESTION)
    question = page.locator(f".row[data-wamid='{wamid}']")
    await expect(question).to_contain_text("¿Necesita parking?")
    await expect(question).to_have_attribute("data-status", "read", timeout=LIVE_TIMEOUT_MS)
    await expect(question.get_by_role("img", name="Read")).to_be_visible()
    assert await page.evaluate("window.sameDocument"), "the page reloaded instead of updating live"

    await question.get_by_role("button", name="Sí").click()
    answer = await eventually(lambda: inbound_reply_to(fresh_sandbox, wamid), "the guest's button reply")
    assert answer["content"]["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "parking_yes", "title": "Sí"},
    }
    assert answer["content"]["context"] == {"id": wamid}
    await expect(page.locator(".row[data-direction='inbound'][data-type='interactive']")).to_contain_text("Sí")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.mouse.move(0, 0)
    await page.screenshot(path=str(SCREENSHOT))


async def test_tapping_a_list_row_answers_the_list_message(page: Page, fresh_sandbox: str) -> None:
    await open_chat(page, fresh_sandbox)
    await guest_writes(page, "¿Qué opciones de desayuno hay?")
    wamid = await hotel_sends(fresh_sandbox, BREAKFAST_MENU)
    menu = page.locator(f".row[data-wamid='{wamid}']")
    await expect(menu).to_contain_text("¿Qué desayuno prefiere?")

    await menu.get_by_role("button", name="Ver opciones").click()
    sheet = page.get_by_role("dialog", name="Ver opciones")
    await expect(sheet).to_be_visible()
    await sheet.get_by_role("button", name="En la habitación").click()
    await expect(sheet).to_be_hidden()

    answer = await eventually(lambda: inbound_reply_to(fresh_sandbox, wamid), "the guest's list reply")
    assert answer["content"]["interactive"] == {
        "type": "list_reply",
        "list_reply": {
            "id": "breakfast_room",
            "title": "En la habitación",
            "description": "Servicio de habitaciones",
        },
    }
    reply = page.locator(".row[data-direction='inbound'][data-type='interactive']")
    await expect(reply).to_contain_text("En la habitación")
    await expect(reply.locator(".quote")).to_contain_text("¿Qué desayuno prefiere?")
