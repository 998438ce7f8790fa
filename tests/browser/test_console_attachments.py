"""The agent attaches a file in the console (headless Chromium, the real gateway blueprint, the sandbox as the
Cloud API): the file picker beside the reply box sends it with the reply text as its caption, it appears in
the thread and reaches the guest as a document; a file WhatsApp does not take is told clearly, in the
agent's language. The screenshot is kept in tests/artifacts/console_attachment.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.test_console import LIVE_TIMEOUT_MS, log_in
from tests.gateway_support import GatewayServer
from tests.support import LUCIA, SandboxClient

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / "sandbox" / "data" / "media" / "placeholder.pdf"
SCREENSHOT = ROOT / "tests" / "artifacts" / "console_attachment.png"


async def open_lucia(page: Page, gateway: GatewayServer, sandbox: SandboxClient) -> None:
    await sandbox.guest_says(LUCIA, "¿Me envían la factura?", name="Lucía Fernández")
    await gateway.bot.wait_for(1)
    await log_in(page, gateway, "marta-secret")
    await page.locator(f"#conversations li[data-key='1000000001:{LUCIA}']").get_by_role("button").click()
    await expect(page.locator(".msg[data-origin='guest']")).to_contain_text("factura")


async def pick(page: Page, name: str, data: bytes, mime_type: str, button: str = "Attach a file") -> None:
    """What the agent does: the attach button, then a file in the browser's file chooser."""
    async with page.expect_file_chooser() as chooser:
        await page.get_by_role("button", name=button).click()
    await (await chooser.value).set_files({"name": name, "mimeType": mime_type, "buffer": data})


async def test_an_agent_attaches_a_pdf_with_the_reply_text_as_its_caption(
    page: Page, gateway: GatewayServer, sandbox: SandboxClient
) -> None:
    await open_lucia(page, gateway, sandbox)
    await page.get_by_label("Reply").fill("Aquí tiene su factura")
    await pick(page, "factura MDP-4F7K2Q.pdf", PDF.read_bytes(), "application/pdf")

    await expect(page.locator("#attach-status")).to_have_text("Sent: factura MDP-4F7K2Q.pdf", timeout=LIVE_TIMEOUT_MS)
    sent = page.locator(".msg[data-origin='agent:marta']", has_text="factura MDP-4F7K2Q.pdf")
    # Kept in the media store under its message, the agent's file shows like a guest's: a link and the caption.
    await expect(sent.get_by_role("link", name="factura MDP-4F7K2Q.pdf")).to_be_visible()
    await expect(sent).to_contain_text("Aquí tiene su factura")
    await expect(sent).to_have_attribute("data-status", "delivered", timeout=LIVE_TIMEOUT_MS)
    await expect(page.get_by_label("Reply")).to_have_value("")
    await expect(page.locator("#handoff-state")).to_have_attribute("data-state", "agent")
    [entry] = [e for e in await sandbox.thread(LUCIA) if e["direction"] == "outbound" and e["type"] == "document"]
    assert entry["content"]["filename"] == "factura MDP-4F7K2Q.pdf"
    assert entry["content"]["caption"] == "Aquí tiene su factura"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))


async def test_a_file_whatsapp_does_not_take_is_told_in_the_agents_language(
    page: Page, gateway: GatewayServer, sandbox: SandboxClient
) -> None:
    await open_lucia(page, gateway, sandbox)
    await pick(page, "factura.pdf", b"<!DOCTYPE html><html><body>no</body></html>", "application/pdf")
    status = page.locator("#attach-status")
    await expect(status).to_contain_text("WhatsApp does not take this kind of file (factura.pdf)")
    await expect(status).to_have_class("attach__status error")
    await page.get_by_label("Idioma / Language").select_option("es")
    await pick(page, "factura.pdf", b"<html>no</html>", "application/pdf", button="Adjuntar archivo")
    await expect(status).to_contain_text("WhatsApp no acepta este tipo de archivo (factura.pdf)")
    assert [e for e in await sandbox.thread(LUCIA) if e["direction"] == "outbound" and e["type"] == "document"] == []
