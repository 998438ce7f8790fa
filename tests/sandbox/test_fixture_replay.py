"""Every guest message of the golden webhooks (tests/fixtures/webhooks) replayed through the guest API: none is
refused, each arrives at the gateway as it was, and its media can be downloaded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import ACCESS_TOKEN, LUCIA, SandboxClient, WebhookReceiver, message_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
SET_BY_THE_SANDBOX = ("from", "from_user_id", "from_parent_user_id", "id", "timestamp")


def deliveries(name: str) -> list[dict[str, Any]]:
    """The webhook bodies of a fixture: one, several (a list), or none (a body that is not an object)."""
    body = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return [b for b in (body if isinstance(body, list) else [body]) if isinstance(b, dict)]


def guest_messages(name: str) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each inbound message of a fixture (`entry[].changes[].value.messages[]`) with its value's contacts."""
    return [
        (message, change.get("value", {}).get("contacts") or [])
        for body in deliveries(name)
        for entry in body.get("entry", [])
        for change in entry.get("changes", [])
        for message in change.get("value", {}).get("messages") or []
    ]


WITH_MESSAGES = [path.stem for path in sorted(FIXTURES.glob("*.json")) if guest_messages(path.stem)]


def replay_of(message: dict[str, Any], contacts: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The guest API request that replays `message` as its sender: the path names the sender by phone number
    (or by BSUID when it has no number), the body its other ids and its profile from the contacts entry."""
    phone, user = message.get("from"), message.get("from_user_id")
    matching = [c for c in contacts if (phone and c.get("wa_id") == phone) or (user and c.get("user_id") == user)]
    contact = (matching or (contacts if len(contacts) == 1 else [{}]))[0]
    phone, user = phone or contact.get("wa_id"), user or contact.get("user_id")
    body: dict[str, Any] = {"message": message}
    if contact.get("profile", {}).get("name"):
        body["name"] = contact["profile"]["name"]
    if user:
        body |= {"username": contact.get("profile", {}).get("username")}
        body |= {"parent_user_id": message.get("from_parent_user_id") or contact.get("parent_user_id")}
    if phone and user:
        body["user_id"] = user
    return phone or user or LUCIA, {k: v for k, v in body.items() if v}


def as_replayed(message: dict[str, Any]) -> dict[str, Any]:
    """A message without what the sandbox sets: its sender fields and id, and the stored media's hash and URL."""
    kept = {k: v for k, v in message.items() if k not in SET_BY_THE_SANDBOX}
    kind = kept.get("type")
    if kind in MEDIA_KINDS and isinstance(kept.get(kind), dict):
        kept[kind] = {k: v for k, v in kept[kind].items() if k not in ("sha256", "url")}
    edit = kept.get("edit")
    if kind == "edit" and isinstance(edit, dict) and isinstance(edit.get("message"), dict):
        kept["edit"] = {**edit, "message": as_replayed(edit["message"])}
    return kept


async def downloadable(sandbox: SandboxClient, media: dict[str, Any]) -> None:
    """The gateway's way to a guest's file: `GET /{media_id}`, then its URL, both with the token."""
    auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    info = (await sandbox.http.get(f"/v23.0/{media['id']}", headers=auth)).json()
    assert (info["id"], info["mime_type"], info["sha256"]) == (media["id"], media["mime_type"], media["sha256"])
    file = await sandbox.http.get(info["url"], headers=auth)
    assert file.status_code == 200
    assert hashlib.sha256(file.content).hexdigest() == media["sha256"]
    if "url" in media:
        assert media["url"] == info["url"]


def test_the_fixtures_hold_guest_messages_to_replay() -> None:
    assert len(WITH_MESSAGES) >= 20
    assert {"bsuid_only", "unknown_type", "unsupported", "image"} <= set(WITH_MESSAGES)


@pytest.mark.parametrize("name", WITH_MESSAGES)
async def test_every_fixture_message_replays_through_the_guest_api(
    sandbox: SandboxClient, receiver: WebhookReceiver, name: str
) -> None:
    for message, contacts in guest_messages(name):
        guest, body = replay_of(message, contacts)
        response = await sandbox.http.post(f"/sandbox/guests/{guest}/messages", json=body)
        assert response.status_code == 200, f"{name}: {message.get('type')} refused: {response.text}"
        [webhook] = await receiver.wait_for(message_of(response.json()["wamid"]))
        [delivered] = webhook.payload["entry"][0]["changes"][0]["value"]["messages"]
        assert as_replayed(delivered) == as_replayed(message)
        kind = delivered["type"]
        if kind in MEDIA_KINDS:
            await downloadable(sandbox, delivered[kind])
        if kind == "edit" and delivered["edit"]["message"].get("type") in MEDIA_KINDS:
            inner = delivered["edit"]["message"]
            await downloadable(sandbox, inner[inner["type"]])


REAL_WORLD = {
    "interactive with an error": {
        "type": "interactive",
        "interactive": {"type": "nfm_reply"},
        "errors": [{"code": 131051, "title": "Message type unknown"}],
    },
    "unsupported without detail": {"type": "unsupported"},
    "revoke": {"type": "revoke", "revoke": {"original_message_id": "wamid.HBgLGONE"}},
    "a type WhatsApp adds tomorrow": {"type": "hologram", "hologram": {"depth": 3}},
    "a video the sandbox did not make": {"type": "video", "video": {"id": "8812345678", "mime_type": "video/mp4"}},
    "a voice note from Meta's servers": {
        "type": "audio",
        "audio": {
            "id": "872650",
            "mime_type": "audio/ogg; codecs=opus",
            "voice": True,
            "url": "https://lookaside.fbsbx.com/x",
        },
    },
    "a document with an id that is not Meta's": {
        "type": "document",
        "document": {"id": "factura-1", "mime_type": "application/pdf", "filename": "factura.pdf"},
    },
    "a sticker with no file": {"type": "sticker", "sticker": {"animated": False}},
}


@pytest.mark.parametrize("case", REAL_WORLD)
async def test_real_world_objects_are_accepted_and_their_media_stored(
    sandbox: SandboxClient, receiver: WebhookReceiver, case: str
) -> None:
    message = REAL_WORLD[case]
    wamid = await sandbox.guest_says(LUCIA, message=message)
    [webhook] = await receiver.wait_for(message_of(wamid))
    [delivered] = webhook.payload["entry"][0]["changes"][0]["value"]["messages"]
    kind = message["type"]
    if kind not in MEDIA_KINDS:
        assert as_replayed(delivered) == message
        return
    media = delivered[kind]
    await downloadable(sandbox, media)
    claimed = message[kind].get("id")
    if claimed and claimed.isdigit():
        assert media["id"] == claimed
    else:
        assert media["id"].isdigit()
        assert media["id"] != claimed
    assert media["mime_type"] == message[kind].get("mime_type", "image/webp")
