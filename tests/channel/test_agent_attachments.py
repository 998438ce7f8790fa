"""Agents send files (`POST .../attachments`): the real channel and agents' API over loopback, the sandbox as
the Cloud API (its upload, its media checks and its thread), SQLite and PostgreSQL; every answer checked
against the OpenAPI description (tests/channel/agents_api.py)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import Any

import httpx

from cloudapi.media_kinds import KIND_LIMITS
from connectors.whatsapp.agents.attachments import MAX_REQUEST_BYTES
from tests.channel import test_agents_api
from tests.channel.agents_api import AgentsApi
from tests.channel.test_agents_api import DAY, guest_writes, sandbox_outbound, thread_path
from tests.gateway_support import GatewayServer, MovableClock
from tests.support import ACCESS_TOKEN, ALAMEDA, LUCIA, ROOT, SandboxClient

server = test_agents_api.server
desk = test_agents_api.desk
"""The agents' API suite's fixtures: its gateway with agent and automation tokens, the desk's client."""

MEDIA = ROOT / "sandbox" / "data" / "media"
PDF = (MEDIA / "placeholder.pdf").read_bytes()
JPEG = (MEDIA / "placeholder.jpg").read_bytes()


def attachments(business: str | None = None) -> str:
    return f"{thread_path(business) if business else thread_path()}/attachments"


async def sandbox_bytes(sandbox: SandboxClient, media_id: str) -> bytes:
    """The bytes the sandbox holds for a media id, fetched as a guest's WhatsApp would: URL, then download."""
    headers = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    info = await sandbox.http.get(f"/v23.0/{media_id}", headers=headers)
    assert info.status_code == 200, info.text
    download = await sandbox.http.get(httpx.URL(info.json()["url"]).path, headers=headers)
    return download.content


async def outbound_rows(server: GatewayServer) -> list[dict[str, Any]]:
    return [row for row in await server.store.thread("1000000001", LUCIA) if row["direction"] == "outbound"]


async def test_an_agents_pdf_reaches_the_guest_as_a_document_with_its_bytes_and_name(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "¿Me envían la factura?")
    answer = await desk.post(attachments(), files={"file": ("factura MDP-4F7K2Q.pdf", PDF, "application/pdf")})
    assert answer.status_code == 200, answer.text
    sent = answer.json()
    assert sent["messages"][0]["state"] == "accepted"
    assert sent["handoff"]["state"] == "agent"
    attachment = sent["attachment"]
    assert attachment == {
        "kind": "document",
        "mime_type": "application/pdf",
        "size": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "filename": "factura MDP-4F7K2Q.pdf",
        "caption": None,
        "media_id": attachment["media_id"],
    }
    [entry] = await sandbox_outbound(sandbox)
    assert entry["type"] == "document"
    assert entry["content"] == {"id": attachment["media_id"], "filename": "factura MDP-4F7K2Q.pdf"}
    held = await sandbox_bytes(sandbox, entry["content"]["id"])
    assert hashlib.sha256(held).hexdigest() == attachment["sha256"]

    thread = (await desk.get(thread_path())).json()
    [item] = [m for m in thread["messages"] if m["direction"] == "outbound"]
    assert item["type"] == "document"
    assert item["origin"] == "agent:desk"
    assert item["wamid"] == entry["wamid"]
    assert item["attachment"] == {
        "kind": "document",
        "id": attachment["media_id"],
        "link": None,
        "caption": None,
        "filename": "factura MDP-4F7K2Q.pdf",
    }


async def test_a_jpeg_goes_as_an_image_with_its_caption_whatever_the_browser_claimed(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "¿Dónde aparco?")
    answer = await desk.post(
        attachments(),
        files={"file": ("plano", JPEG, "application/octet-stream")},
        data={"caption": "  El parking está en la entrada B  "},
    )
    assert answer.status_code == 200, answer.text
    attachment = answer.json()["attachment"]
    assert (attachment["kind"], attachment["mime_type"], attachment["filename"]) == ("image", "image/jpeg", None)
    [entry] = await sandbox_outbound(sandbox)
    assert entry["type"] == "image"
    assert entry["content"] == {"id": attachment["media_id"], "caption": "El parking está en la entrada B"}
    assert await sandbox_bytes(sandbox, attachment["media_id"]) == JPEG
    [item] = [m for m in (await desk.get(thread_path())).json()["messages"] if m["direction"] == "outbound"]
    assert item["attachment"]["caption"] == "El parking está en la entrada B"
    assert item["text"] == "[image] El parking está en la entrada B"


async def test_an_image_over_5_mb_is_413_and_nothing_is_sent(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "Mándeme la foto de la habitación")
    too_big = JPEG + b"\0" * (KIND_LIMITS["image"] - len(JPEG) + 1)
    answer = await desk.post(attachments(), files={"file": ("room.jpg", too_big, "image/jpeg")})
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error["code"] == "file_too_large"
    assert "5,000 KB" in error["message"]
    assert await sandbox_outbound(sandbox) == []
    assert await outbound_rows(server) == []


async def test_html_claimed_as_a_pdf_is_refused_422_and_nothing_is_sent(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "La factura, por favor")
    page = b"<!DOCTYPE html><html><body><script>alert(1)</script>Factura</body></html>"
    answer = await desk.post(attachments(), files={"file": ("factura.pdf", page, "application/pdf")})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "unsupported_media_type"
    assert await sandbox_outbound(sandbox) == []
    assert await outbound_rows(server) == []


async def test_no_file_or_no_multipart_is_422(server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient) -> None:
    await guest_writes(sandbox, server, "Hola")
    no_file = await desk.post(attachments(), data={"caption": "sin archivo"}, files={"other": ("x.txt", b"x")})
    assert (no_file.status_code, no_file.json()["error"]["code"]) == (422, "missing_file")
    empty = await desk.post(attachments(), files={"file": ("vacío.pdf", b"", "application/pdf")})
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "missing_file")
    as_json = await desk.post(attachments(), json={"file": "JVBERi0="})
    assert (as_json.status_code, as_json.json()["error"]["code"]) == (422, "invalid_body")
    assert await sandbox_outbound(sandbox) == []


async def test_outside_the_window_an_attachment_is_refused_like_a_reply(
    server: GatewayServer, desk: AgentsApi, clock: MovableClock, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "Gracias por todo")
    await sandbox.advance(DAY + 60)
    clock.offset += DAY + 60
    reply = await desk.post(f"{thread_path()}/reply", json={"text": "Su factura"})
    answer = await desk.post(attachments(), files={"file": ("factura.pdf", PDF, "application/pdf")})
    assert (reply.status_code, answer.status_code) == (409, 409)
    refused, replied = answer.json()["error"], reply.json()["error"]
    assert refused["code"] == replied["code"] == "window_closed"
    assert refused["reason"] == replied["reason"]
    assert refused["templates"] == replied["templates"]
    assert await sandbox_outbound(sandbox) == []


async def test_a_refused_send_is_502_with_whatsapps_code_and_recorded(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "¿Y el recibo?")
    await sandbox.configure(fault_error_rate=1.0)
    answer = await desk.post(attachments(), files={"file": ("recibo.pdf", PDF, "application/pdf")})
    await sandbox.configure(fault_error_rate=0.0)
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert (error["code"], error["error_code"]) == ("send_failed", 131000)
    [row] = await outbound_rows(server)
    assert (row["type"], row["state"], row["error_code"]) == ("document", "failed", 131000)


async def test_another_hotels_thread_is_404_and_an_automation_token_403(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    await guest_writes(sandbox, server, "Hello", to=ALAMEDA)
    other = await desk.post(attachments(ALAMEDA), files={"file": ("a.pdf", PDF, "application/pdf")})
    assert (other.status_code, other.json()["error"]["code"]) == (404, "not_found")
    crm = AgentsApi(server.url, "crm-secret")
    forbidden = await crm.post(attachments(ALAMEDA), files={"file": ("a.pdf", PDF, "application/pdf")})
    await crm.close()
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
    assert await sandbox_outbound(sandbox, business=ALAMEDA) == []


async def test_a_document_past_the_webhooks_cap_goes_and_one_past_any_limit_is_413_before_it_is_read(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    """The route has its own cap (`MAX_REQUEST_BYTES`, a 100 MB document and its framing), not the webhook's
    3 MB; a body declared past it is refused from its headers, with no byte of it read."""
    await guest_writes(sandbox, server, "El contrato completo, por favor")
    contract = PDF + b"\n%" + b"0" * (4 * 1_000_000)
    answer = await desk.post(attachments(), files={"file": ("contrato.pdf", contract, "application/pdf")})
    assert answer.status_code == 200, answer.text
    assert await sandbox_bytes(sandbox, answer.json()["attachment"]["media_id"]) == contract

    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        (
            f"POST /webhooks/whatsapp/api/v1{attachments()} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer desk-secret\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {MAX_REQUEST_BYTES + 1}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))
    body = json.loads(await asyncio.wait_for(reader.readexactly(length), 10))
    writer.close()
    assert head.startswith(b"HTTP/1.1 413")
    assert body["error"]["code"] == "file_too_large", "the route's own cap answered, not Sanic's"
    assert len(await sandbox_outbound(sandbox)) == 1
