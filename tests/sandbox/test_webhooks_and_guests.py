"""Webhooks the sandbox sends as Meta would: statuses, guest messages, retries, the handshake, media."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.support import (
    ACCESS_TOKEN,
    ALAMEDA,
    LUCIA,
    MIRADOR,
    SandboxClient,
    WebhookReceiver,
    message_of,
    status_in,
    statuses_of,
)


def value_of(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["object"] == "whatsapp_business_account"
    [entry] = payload["entry"]
    assert entry["id"] == "2000000001"
    [change] = entry["changes"]
    assert change["field"] == "messages"
    return change["value"]


async def test_status_webhooks_arrive_signed_in_order_with_pricing(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    await sandbox.guest_says(LUCIA, "Hola")
    response = await sandbox.send(
        {"to": LUCIA, "type": "text", "text": {"body": "¡Hola Lucía!"}, "biz_opaque_callback_data": "ref-42"}
    )
    wamid = response.json()["messages"][0]["id"]

    webhooks = await receiver.wait_for(statuses_of(wamid), count=3)
    assert all(w.signature_valid for w in webhooks)
    statuses = [status_in(w, wamid) for w in webhooks]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert [int(s["timestamp"]) for s in statuses] == sorted(int(s["timestamp"]) for s in statuses)
    for status in statuses:
        assert status["recipient_id"] == LUCIA
        assert status["biz_opaque_callback_data"] == "ref-42"
        assert status["pricing"]["pricing_model"] == "PMP"
        assert status["pricing"]["category"] == "service"
        assert status["conversation"]["origin"]["type"] == "service"
    assert "expiration_timestamp" in statuses[0]["conversation"]
    assert value_of(webhooks[0].payload)["metadata"] == {
        "display_phone_number": "34952000001",
        "phone_number_id": MIRADOR,
    }

    entry = await sandbox.wait_for_entry(LUCIA, wamid, lambda e: e["status"] == "read")
    assert [s["status"] for s in entry["statuses"]] == ["sent", "delivered", "read"]


async def test_templates_are_priced_by_category(sandbox: SandboxClient, receiver: WebhookReceiver) -> None:
    offer = {
        "type": "template",
        "template": {
            "name": "winter_offer",
            "language": {"code": "es"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Lucía"}, {"type": "text", "text": "15"}]}
            ],
        },
    }
    response = await sandbox.send({"to": LUCIA, **offer})
    assert response.json()["messages"][0]["message_status"] == "accepted"
    wamid = response.json()["messages"][0]["id"]
    [sent] = await receiver.wait_for(statuses_of(wamid))
    pricing = status_in(sent, wamid)["pricing"]
    assert pricing == {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}


async def test_without_auto_read_statuses_stop_at_delivered(sandbox: SandboxClient, receiver: WebhookReceiver) -> None:
    await sandbox.configure(auto_read=False)
    await sandbox.guest_says(LUCIA, "Hola")
    wamid = (await sandbox.send({"to": LUCIA, "type": "text", "text": {"body": "Hola"}})).json()["messages"][0]["id"]
    entry = await sandbox.wait_for_entry(LUCIA, wamid, lambda e: e["status"] == "delivered")
    assert [s["status"] for s in entry["statuses"]] == ["sent", "delivered"]


INBOUND: dict[str, dict[str, Any]] = {
    "button reply": {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "parking_yes", "title": "Sí"}},
    },
    "list reply": {
        "type": "interactive",
        "interactive": {
            "type": "list_reply",
            "list_reply": {"id": "breakfast", "title": "Desayuno", "description": "07:30"},
        },
    },
    "template quick reply": {"type": "button", "button": {"payload": "Continuar", "text": "Continuar"}},
    "location": {"type": "location", "location": {"latitude": 36.72, "longitude": -4.42, "name": "Málaga"}},
    "image": {"type": "image", "image": {"caption": "DNI"}},
    "reaction": {"type": "reaction", "reaction": {"message_id": "wamid.HBgLORIGINAL", "emoji": "👍"}},
    "unsupported": {
        "type": "unsupported",
        "unsupported": {"type": "poll"},
        "errors": [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown"}],
    },
}


@pytest.mark.parametrize("kind", INBOUND)
async def test_guest_api_delivers_each_inbound_type_as_a_signed_meta_webhook(
    sandbox: SandboxClient, receiver: WebhookReceiver, kind: str
) -> None:
    wamid = await sandbox.guest_says(LUCIA, message=INBOUND[kind], name="Lucía", reply_to="wamid.HBgLQUOTED")
    [webhook] = await receiver.wait_for(message_of(wamid))
    assert webhook.signature_valid
    assert webhook.headers["Content-Type"] == "application/json"
    value = value_of(webhook.payload)
    assert value["messaging_product"] == "whatsapp"
    assert value["contacts"] == [{"profile": {"name": "Lucía"}, "wa_id": LUCIA}]
    [message] = value["messages"]
    assert message["from"] == LUCIA
    assert message["id"] == wamid
    assert message["timestamp"].isdigit()
    assert message["type"] == INBOUND[kind]["type"]
    assert message["context"] == {"id": "wamid.HBgLQUOTED"}
    kind_key = INBOUND[kind]["type"]
    for key, expected in INBOUND[kind][kind_key].items():
        assert message[kind_key][key] == expected


async def test_guest_image_media_can_be_downloaded_by_the_gateway(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    wamid = await sandbox.guest_says(LUCIA, message={"type": "image", "image": {"caption": "Mi DNI"}})
    [webhook] = await receiver.wait_for(message_of(wamid))
    image = value_of(webhook.payload)["messages"][0]["image"]
    auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    info = (await sandbox.http.get(f"/v23.0/{image['id']}", headers=auth)).json()
    assert info["mime_type"] == image["mime_type"] == "image/png"
    assert info["sha256"] == image["sha256"]
    download = await sandbox.http.get(info["url"], headers=auth)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == image["sha256"]
    assert len(download.content) == info["file_size"]
    assert (await sandbox.http.get(info["url"])).status_code == 401


async def test_guest_webhooks_are_retried_until_acknowledged(sandbox: SandboxClient, receiver: WebhookReceiver) -> None:
    receiver.answers.extend([500, 503])
    wamid = await sandbox.guest_says(LUCIA, "¿Hay parking?")
    attempts = await receiver.wait_for(message_of(wamid), count=3)
    assert [a.answered for a in attempts] == [500, 503, 200]
    assert len({a.body for a in attempts}) == 1
    assert all(a.signature_valid for a in attempts)
    entry = await sandbox.wait_for_entry(LUCIA, wamid, lambda e: e["webhook"]["acknowledged"])
    assert entry["webhook"]["attempts"] == 3


async def test_guests_write_to_either_hotel_as_separate_threads(sandbox: SandboxClient) -> None:
    await sandbox.guest_says(LUCIA, "Hola Mirador", to=MIRADOR)
    await sandbox.guest_says(LUCIA, "Hola Alameda", to=ALAMEDA)
    assert [e["text"] for e in await sandbox.thread(LUCIA, MIRADOR)] == ["Hola Mirador"]
    assert [e["text"] for e in await sandbox.thread(LUCIA, ALAMEDA)] == ["Hola Alameda"]
    assert len(await sandbox.thread(LUCIA)) == 2


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/sandbox/guests/abc/messages", {"text": "hola"}, "digits"),
        (f"/sandbox/guests/{LUCIA}/messages", {"to": "123", "text": "hola"}, "unknown business number"),
        (f"/sandbox/guests/{LUCIA}/messages", {"message": "hola"}, "must be a JSON object"),
        (f"/sandbox/guests/{LUCIA}/messages", {"message": {"text": {"body": "hola"}}}, 'needs a "type" string'),
        (f"/sandbox/guests/{LUCIA}/messages", {"message": {"type": 7}}, 'needs a "type" string'),
        (f"/sandbox/guests/{LUCIA}/messages", {}, "give"),
        ("/sandbox/guests/US.ENT.1349/messages", {"text": "hola"}, "business-scoped user id"),
        (f"/sandbox/guests/{LUCIA}/messages", {"text": "hola", "username": "@lucia"}, "comes with a user_id"),
        (f"/sandbox/guests/{LUCIA}/messages", {"text": "hola", "phone": LUCIA}, "phone is for a guest named by"),
        ("/sandbox/guests/US.1349/messages", {"text": "hola", "user_id": "US.1"}, "user_id is for a guest named"),
        ("/sandbox/guests/US.1349/messages", {"text": "hola", "phone": "+34 612"}, "phone must be 6-15 digits"),
        (f"/sandbox/guests/{LUCIA}/messages", {"text": "hola", "user_id": "1349"}, "user_id must be"),
        (f"/sandbox/guests/{LUCIA}/messages", {"text": "hola", "reply_to": 5}, "reply_to must be"),
    ],
)
async def test_guest_api_explains_what_is_wrong(
    sandbox: SandboxClient, path: str, body: dict[str, Any], fragment: str
) -> None:
    response = await sandbox.http.post(path, json=body)
    assert response.status_code == 422
    assert fragment in response.json()["error"]


async def test_verification_handshake_against_the_gateway(sandbox: SandboxClient, receiver: WebhookReceiver) -> None:
    ok = (await sandbox.http.post("/sandbox/verify", json={})).json()
    assert ok["verified"] is True
    assert ok["status"] == 200
    wrong = (await sandbox.http.post("/sandbox/verify", json={"verify_token": "nope"})).json()
    assert wrong["verified"] is False
    assert wrong["status"] == 403


async def test_settings_reject_unknown_or_bad_values(sandbox: SandboxClient) -> None:
    assert (await sandbox.http.patch("/sandbox/settings", json={"app_secret": "x"})).status_code == 422
    assert (await sandbox.http.patch("/sandbox/settings", json={"fault_error_rate": 2})).status_code == 422
    assert (await sandbox.http.patch("/sandbox/settings", json={"window_errors": "later"})).status_code == 422
