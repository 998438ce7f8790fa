"""Meta-shaped webhook payloads and their signature, built by pure functions.

The sandbox plays Meta towards the gateway: inbound guest messages, message statuses and template status
updates all travel in the same `whatsapp_business_account` envelope, signed with the app secret over the
exact bytes sent (WHATSAPP.md section 1).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
from typing import Any

from sandbox.catalog import PhoneNumber, Template

#: Inbound message types the guest API accepts, with the object each carries.
INBOUND_TYPES = (
    "text",
    "interactive",
    "button",
    "location",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "contacts",
    "reaction",
    "order",
    "system",
    "unsupported",
)
#: From this date utility templates and service messages inside a window are billed (WHATSAPP.md §9).
PRICING_2026_10 = dt.date(2026, 10, 1)
SERVICE_FREE_TIER = 1000


def new_wamid() -> str:
    """A fresh WhatsApp message id in Meta's `wamid.<base64>` form."""
    return "wamid." + base64.urlsafe_b64encode(b"HBgL" + os.urandom(24)).decode()


def sign(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` header value for `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    """The bytes that are both signed and sent, so the signature covers exactly what arrives."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def envelope(waba_id: str, value: dict[str, Any], field: str = "messages", time: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": waba_id, "changes": [{"value": value, "field": field}]}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def _metadata(number: PhoneNumber) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": number.display_phone_number, "phone_number_id": number.id},
    }


def inbound_webhook(number: PhoneNumber, wa_id: str, profile_name: str, message: dict[str, Any]) -> dict[str, Any]:
    """The webhook for one guest message."""
    value = {
        **_metadata(number),
        "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}],
        "messages": [message],
    }
    return envelope(number.waba_id, value)


def guest_message(
    partial: dict[str, Any], wa_id: str, wamid: str, timestamp: float, context_id: str | None = None
) -> dict[str, Any]:
    """Complete a guest's message object with Meta's common fields (`from`, `id`, `timestamp`)."""
    message = {k: v for k, v in partial.items() if k not in ("from", "id", "timestamp")}
    if message.get("type") not in INBOUND_TYPES:
        raise ValueError(f"message.type must be one of {', '.join(INBOUND_TYPES)}")
    if message["type"] not in message:
        raise ValueError(f"message.{message['type']} is required")
    if context_id and "context" not in message:
        message["context"] = {"id": context_id}
    return {"from": wa_id, "id": wamid, "timestamp": str(int(timestamp)), **message}


def pricing(
    template: Template | None, window_open: bool, day: dt.date, service_sent_this_month: int, entry_point: bool = False
) -> dict[str, Any]:
    """The pricing object of a status under the per-message rules in force on `day`: inside a free entry point
    every message is free."""
    if entry_point:
        return {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_entry_point",
            "category": "referral_conversion",
        }
    if template is not None:
        category = template.category.lower()
        free = window_open and category == "utility" and day < PRICING_2026_10
    else:
        category = "service"
        free = day < PRICING_2026_10 or service_sent_this_month < SERVICE_FREE_TIER
    return {
        "billable": not free,
        "pricing_model": "PMP",
        "type": "free_customer_service" if free else "regular",
        "category": category,
    }


def status_item(
    wamid: str,
    status: str,
    timestamp: float,
    recipient: str,
    *,
    callback_data: str | None = None,
    pricing_object: dict[str, Any] | None = None,
    conversation_id: str | None = None,
    window_expires: float | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One entry of a webhook's `statuses[]`: a status change of one business message."""
    item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(timestamp)), "recipient_id": recipient}
    if callback_data is not None:
        item["biz_opaque_callback_data"] = callback_data
    if conversation_id is not None and pricing_object is not None:
        conversation: dict[str, Any] = {"id": conversation_id, "origin": {"type": pricing_object["category"]}}
        if status == "sent" and window_expires is not None:
            conversation["expiration_timestamp"] = str(int(window_expires))
        item["conversation"] = conversation
    if pricing_object is not None:
        item["pricing"] = pricing_object
    if errors:
        item["errors"] = errors
    return item


def statuses_webhook(number: PhoneNumber, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The webhook carrying status changes of one business number; Meta batches them under load."""
    return envelope(number.waba_id, {**_metadata(number), "statuses": items})


def template_status_webhook(template: Template, event: str, timestamp: float, reason: str = "NONE") -> dict[str, Any]:
    """The `message_template_status_update` webhook for a template whose status changed."""
    value = {
        "event": event,
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "reason": reason,
        "message_template_category": template.category,
    }
    return envelope(template.waba_id, value, field="message_template_status_update", time=int(timestamp))
