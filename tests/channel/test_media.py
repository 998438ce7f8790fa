"""Guests' media kept and served to agents, over real HTTP: the sandbox as WhatsApp (its media routes need the
Bearer token like Meta's), the gateway's blueprint on a Sanic server, SQLite and PostgreSQL behind it."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from connectors.whatsapp.media import MAX_BYTES, MediaRecord
from connectors.whatsapp.tokens import parse_tokens
from tests.channel.agents_api import PREFIX, AgentsApi
from tests.channel.test_agents_api import eventually, thread_path
from tests.gateway_support import (
    GatewayServer,
    MovableClock,
    RecordingBot,
    serving,
)
from tests.support import ALAMEDA, LUCIA, MIRADOR, SandboxClient

TOKENS = "desk:agent:1000000001:desk-secret,other:agent:1000000002:other-secret,crm:automation:*:crm-secret"
JPEG = (Path(__file__).parents[2] / "sandbox" / "data" / "media" / "placeholder.jpg").read_bytes()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
async def server(
    db_kind: str, tmp_path: Path, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient
) -> AsyncIterator[GatewayServer]:
    media = {"media_url": str(tmp_path / "media"), "media_retention_days": 30, "media_retry_seconds": 0.2}
    async with serving(db_kind, tmp_path, bot, clock, sandbox, api_tokens=parse_tokens(TOKENS), **media) as gateway:
        yield gateway


@pytest.fixture
async def desk(server: GatewayServer) -> AsyncIterator[AgentsApi]:
    api = AgentsApi(server.url, "desk-secret")
    yield api
    await api.close()


async def upload(sandbox: SandboxClient, data: bytes, mime_type: str, name: str = "photo.jpg") -> str:
    response = await sandbox.http.post("/sandbox/guests/media", files={"file": (name, data, mime_type)})
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def guest_sends(
    sandbox: SandboxClient, media_id: str, kind: str = "image", caption: str | None = None, **extra: Any
) -> str:
    content: dict[str, Any] = {"id": media_id, **extra}
    if caption:
        content["caption"] = caption
    return await sandbox.guest_says(LUCIA, message={"type": kind, kind: content})


async def media_of(desk: AgentsApi, wamid: str, settled: bool = True) -> dict[str, Any]:
    """The thread item's `media` once the message is in the thread (and, with `settled`, no longer pending)."""

    async def check() -> dict[str, Any] | None:
        answer = await desk.get(thread_path())
        if answer.status_code != 200:
            return None
        item = next((m for m in answer.json()["messages"] if m["wamid"] == wamid), None)
        media = item["media"] if item else None
        return media if media and (not settled or media["state"] != "pending") else None

    return await eventually(check, timeout=15)


async def test_a_guests_jpeg_is_kept_and_served_back_with_the_same_sha256(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient, bot: RecordingBot
) -> None:
    media_id = await upload(sandbox, JPEG, "image/jpeg")
    wamid = await guest_sends(sandbox, media_id, caption="la ducha no funciona")
    await bot.wait_for(1)  # the bot has it at once, whatever the download does
    media = await media_of(desk, wamid)
    assert media["state"] == "kept"
    assert media["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert media["size"] == len(JPEG)
    assert media["kind"] == "image"
    assert media["mime_type"] == "image/jpeg"
    assert media["url"] == f"{PREFIX}/media/{media['id']}"
    answer = await desk.http.get(media["url"][len(PREFIX) :])
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == hashlib.sha256(JPEG).hexdigest()
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["content-disposition"].startswith("inline;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    text_item = next(m for m in (await desk.get(thread_path())).json()["messages"] if m["wamid"] == wamid)
    assert text_item["text"] == "la ducha no funciona"


async def test_a_pdf_keeps_its_filename_and_opens_as_a_pdf(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    media_id = await upload(sandbox, PDF, "application/pdf", "multa.pdf")
    wamid = await guest_sends(sandbox, media_id, kind="document", filename="multa parking.pdf")
    media = await media_of(desk, wamid)
    assert media["state"] == "kept"
    assert media["filename"] == "multa parking.pdf"
    answer = await desk.http.get(f"/media/{media['id']}")
    assert answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == 'inline; filename="multa parking.pdf"'


async def test_a_media_id_that_fails_twice_then_succeeds_is_kept(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    media_id = await upload(sandbox, JPEG, "image/jpeg")
    assert (await sandbox.http.post(f"/sandbox/media/{media_id}/faults", json={"fail": 2})).status_code == 200
    wamid = await guest_sends(sandbox, media_id)
    media = await media_of(desk, wamid)
    assert media["state"] == "kept"
    assert media["sha256"] == hashlib.sha256(JPEG).hexdigest()
    record = await _record(server, media["id"])
    assert record.attempts == 1  # the Graph client's retries got it within the first try


async def test_a_media_id_that_cannot_be_fetched_is_recorded_with_the_reason_and_retried_later(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    """More failures than one call's attempts: the row stays pending with its reason, and a later round gets it."""
    media_id = await upload(sandbox, JPEG, "image/jpeg")
    attempts = server.settings.send_max_attempts
    await sandbox.http.post(f"/sandbox/media/{media_id}/faults", json={"fail": attempts + 1})
    wamid = await guest_sends(sandbox, media_id)
    pending = await media_of(desk, wamid, settled=False)

    async def failed_once() -> MediaRecord | None:
        record = await _record(server, pending["id"])
        return record if record.attempts >= 1 else None

    record = await failed_once() or await eventually(failed_once, timeout=15)
    assert record.state == "pending"
    assert "131000" in (record.reason or "")
    unavailable = await desk.get(f"/media/{pending['id']}")
    assert unavailable.status_code == 409
    assert unavailable.json()["error"]["state"] == "pending"
    keeper = server.channel.gateway.media
    assert keeper is not None

    async def kept() -> bool:
        await keeper.fetch_due()
        return (await _record(server, pending["id"])).state == "kept"

    await eventually(kept, timeout=15)
    answer = await desk.http.get(f"/media/{pending['id']}")
    assert hashlib.sha256(answer.content).hexdigest() == hashlib.sha256(JPEG).hexdigest()


async def test_a_photo_past_the_size_limit_is_recorded_as_refused(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    too_big = JPEG + b"\0" * (MAX_BYTES["image"] + 1 - len(JPEG))
    wamid = await guest_sends(sandbox, await upload(sandbox, too_big, "image/jpeg"))
    media = await media_of(desk, wamid)
    assert media["state"] == "refused"
    assert "limit" in media["reason"]
    answer = await desk.get(f"/media/{media['id']}")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "media_not_available"
    assert answer.json()["error"]["state"] == "refused"


async def test_another_hotels_agent_gets_404_and_an_automation_token_403(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    wamid = await guest_sends(sandbox, await upload(sandbox, JPEG, "image/jpeg"))
    media = await media_of(desk, wamid)
    other = AgentsApi(server.url, "other-secret")
    crm = AgentsApi(server.url, "crm-secret")
    try:
        assert (await other.get(f"/media/{media['id']}")).status_code == 404
        assert (await other.get("/media/0123456789abcdef0123456789abcdef")).status_code == 404
        assert (await crm.get(f"/media/{media['id']}")).status_code == 403
        assert (await other.get(thread_path(ALAMEDA, LUCIA))).status_code == 404
    finally:
        await other.close()
        await crm.close()


async def test_an_html_file_sent_as_a_jpeg_is_served_as_a_download(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    html = b"<html><script>alert(document.cookie)</script></html>"
    wamid = await guest_sends(sandbox, await upload(sandbox, html, "image/jpeg", "x.jpg"))
    media = await media_of(desk, wamid)
    assert media["state"] == "kept"
    answer = await desk.http.get(f"/media/{media['id']}")
    assert answer.content == html
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_the_retention_sweep_deletes_old_files_and_marks_them_expired(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient, clock: MovableClock, tmp_path: Path
) -> None:
    wamid = await guest_sends(sandbox, await upload(sandbox, JPEG, "image/jpeg"))
    media = await media_of(desk, wamid)
    record = await _record(server, media["id"])
    assert record.storage_key is not None
    stored = tmp_path / "media" / record.storage_key
    assert stored.read_bytes() == JPEG
    keeper = server.channel.gateway.media
    assert keeper is not None
    clock.offset += 29 * 86400
    await keeper.expire()
    assert stored.exists()
    clock.offset += 2 * 86400
    await keeper.expire()
    assert not stored.exists()
    assert (await _record(server, media["id"])).state == "expired"
    answer = await desk.get(f"/media/{media['id']}")
    assert answer.status_code == 409
    assert answer.json()["error"]["state"] == "expired"


async def test_a_media_message_recorded_while_no_keeper_was_told_is_found_by_the_sweep(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient
) -> None:
    """A process that stopped between recording a batch and waking its keeper leaves a message without a row."""
    keeper = server.channel.gateway.media
    processor = server.channel.gateway.processor
    assert keeper is not None
    assert processor is not None
    earlier = await guest_sends(sandbox, await upload(sandbox, JPEG, "image/jpeg"))
    assert (await media_of(desk, earlier))["state"] == "kept"
    for _ in range(3):
        await keeper.sweep()  # past its first sweeps, a sweep reads only the newest messages
    processor.media = None
    wamid = await guest_sends(sandbox, await upload(sandbox, JPEG, "image/jpeg"))
    await eventually(lambda: _stored(server, wamid))
    assert await _media_field(desk, wamid) is None
    await keeper.sweep()
    media = await media_of(desk, wamid)
    assert media["state"] == "kept"


async def _stored(server: GatewayServer, wamid: str) -> bool:
    return any(r["wamid"] == wamid for r in await server.store.thread(MIRADOR, LUCIA))


async def _media_field(desk: AgentsApi, wamid: str) -> Any:
    items = (await desk.get(thread_path())).json()["messages"]
    return next(m for m in items if m["wamid"] == wamid)["media"]


async def _record(server: GatewayServer, media_id: str) -> MediaRecord:
    keeper = server.channel.gateway.media
    assert keeper is not None
    record = await keeper.records.get(media_id)
    assert record is not None
    return record


async def test_an_agents_attachment_is_kept_by_keep_and_served_with_its_message(
    server: GatewayServer, desk: AgentsApi, sandbox: SandboxClient, bot: RecordingBot
) -> None:
    """`keep` is how an outbound file (an agent's attachment) joins the same store, under its message."""
    await sandbox.guest_says(LUCIA, "¿Me manda la factura?")
    await bot.wait_for(1)
    keeper = server.channel.gateway.media
    assert keeper is not None
    first = (await desk.get(thread_path())).json()["messages"][0]
    kept = await keeper.keep(PDF, "application/pdf", "factura.pdf", MIRADOR, LUCIA, first["id"], caption="Su factura")
    assert kept.state == "kept"
    item = (await desk.get(thread_path())).json()["messages"][0]
    assert item["media"]["id"] == kept.id
    assert item["media"]["filename"] == "factura.pdf"
    assert item["media"]["caption"] == "Su factura"
    answer = await desk.http.get(f"/media/{kept.id}")
    assert answer.content == PDF
    assert answer.headers["content-disposition"] == 'inline; filename="factura.pdf"'
