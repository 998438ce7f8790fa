"""The sandbox checks media sends as Meta does: an upload must be a type some message kind takes, and a media
id goes only as a kind that takes its type and size; the guest phone page gets the media without Meta's token.
Over real HTTP against the sandbox process."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.test_cloud_api import assert_graph_error
from tests.support import ACCESS_TOKEN, LUCIA, MIRADOR, ROOT, SandboxClient

PDF = (ROOT / "sandbox" / "data" / "media" / "placeholder.pdf").read_bytes()
AUTHORIZED = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


async def upload(sandbox: SandboxClient, data: bytes, mime_type: str) -> Any:
    return await sandbox.http.post(
        f"/v23.0/{MIRADOR}/media",
        data={"messaging_product": "whatsapp", "type": mime_type},
        files={"file": ("file", data, mime_type)},
        headers=AUTHORIZED,
    )


async def test_an_upload_of_a_type_whatsapp_does_not_take_is_refused(sandbox: SandboxClient) -> None:
    refused = await upload(sandbox, b"<html><body>hola</body></html>", "text/html")
    error = assert_graph_error(refused, 400, 100)
    assert "application/pdf" in error["error_data"]["details"]


@pytest.mark.parametrize(
    ("kind", "extra"),
    [("image", {"caption": "Factura"}), ("sticker", {}), ("audio", {}), ("video", {})],
)
async def test_a_pdf_id_goes_only_as_a_document(sandbox: SandboxClient, kind: str, extra: dict[str, str]) -> None:
    await sandbox.guest_says(LUCIA, "¿La factura?")
    media_id = (await upload(sandbox, PDF, "application/pdf")).json()["id"]
    wrong = await sandbox.send({"to": LUCIA, "type": kind, kind: {"id": media_id, **extra}})
    error = assert_graph_error(wrong, 400, 131053)
    assert f"cannot be sent as {kind}" in error["error_data"]["details"]
    right = await sandbox.send(
        {"to": LUCIA, "type": "document", "document": {"id": media_id, "filename": "f.pdf", "caption": "Factura"}}
    )
    assert right.status_code == 200, right.text


async def test_a_caption_on_an_uploaded_sticker_is_refused(sandbox: SandboxClient) -> None:
    await sandbox.guest_says(LUCIA, "Hola")
    webp = (ROOT / "sandbox" / "data" / "media" / "placeholder.webp").read_bytes()
    media_id = (await upload(sandbox, webp, "image/webp")).json()["id"]
    refused = await sandbox.send({"to": LUCIA, "type": "sticker", "sticker": {"id": media_id, "caption": "hola"}})
    assert "caption is not allowed" in assert_graph_error(refused, 400, 100)["error_data"]["details"]


async def test_the_guest_phone_page_gets_a_messages_media_without_the_token(sandbox: SandboxClient) -> None:
    media_id = (await upload(sandbox, PDF, "application/pdf")).json()["id"]
    assert (await sandbox.http.get(f"/sandbox/media/{media_id}")).status_code == 401
    served = await sandbox.http.get(f"/sandbox/phone/media/{media_id}")
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert (await sandbox.http.get("/sandbox/phone/media/404404")).status_code == 400
