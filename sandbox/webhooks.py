"""Meta-shaped webhook payloads and their signature, built by pure functions.

The sandbox plays Meta towards the gateway: inbound guest messages, message statuses and template status
updates all travel in the same `whatsapp_business_account` envelope, signed with the app secret over the
exact bytes sent (WHATSAPP.md section 1). From 2026 a guest may have a business-scoped user id beside or
instead of a phone number (`sandbox.identities`): contacts, messages and statuses then name it as Meta's
"Business-scoped user IDs" page shows.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import replace
from typing import Any

from sandbox.catalog import PhoneNumber, Template
from sandbox.identities import Identity

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


def contact(guest: Identity) -> dict[str, Any]:
    """A `contacts[]` entry: the profile, then each id the guest has (Meta omits `wa_id` of a guest known only
    by a username, and adds `user_id`, `parent_user_id` and `profile.username` from 2026)."""
    profile: dict[str, Any] = {"name": guest.name or ""}
    if guest.username:
        profile["username"] = guest.username
    entry: dict[str, Any] = {"profile": profile}
    for key in ("wa_id", "user_id", "parent_user_id"):
        if getattr(guest, key):
            entry[key] = getattr(guest, key)
    return entry


def inbound_webhook(number: PhoneNumber, sender: Identity, message: dict[str, Any]) -> dict[str, Any]:
    """The webhook for one guest message; a `system` message comes without `contacts[]`, as Meta sends it."""
    value: dict[str, Any] = {**_metadata(number)}
    if message.get("type") != "system":
        value["contacts"] = [contact(sender)]
    value["messages"] = [message]
    return envelope(number.waba_id, value)


def preferences_webhook(number: PhoneNumber, guest: Identity, value: str, timestamp: int) -> dict[str, Any]:
    """The `user_preferences` webhook of a guest who stopped (`value` "stop") or resumed marketing messages in
    WhatsApp's own settings; its item names the guest by each id the sandbox knows."""
    item: dict[str, Any] = {key: getattr(guest, key) for key in ("wa_id", "user_id") if getattr(guest, key)}
    detail = (
        "User requested to stop marketing messages"
        if value == "stop"
        else "User requested to resume marketing messages"
    )
    item.update(detail=detail, category="marketing_messages", value=value, timestamp=timestamp)
    value_object = {**_metadata(number), "contacts": [contact(guest)], "user_preferences": [item]}
    return envelope(number.waba_id, value_object, field="user_preferences")


def guest_message(
    partial: dict[str, Any], sender: Identity, wamid: str, timestamp: float, context_id: str | None = None
) -> dict[str, Any]:
    """Complete a guest's message object with Meta's common fields: `from` (the phone number, when the guest
    shows it), `from_user_id` and `from_parent_user_id` (the BSUIDs, when known), `id` and `timestamp`. The
    sender fields and the id a replayed message brought are replaced: the sandbox says who wrote, and when."""
    replaced = ("from", "from_user_id", "from_parent_user_id", "id", "timestamp")
    message = {k: v for k, v in partial.items() if k not in replaced}
    if context_id and "context" not in message:
        message["context"] = {"id": context_id}
    senders = {"from": sender.wa_id, "from_user_id": sender.user_id, "from_parent_user_id": sender.parent_user_id}
    return {
        **{k: v for k, v in senders.items() if v},
        "id": wamid,
        "timestamp": str(int(timestamp)),
        **message,
    }


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
    recipient: Identity,
    *,
    to_phone: bool = True,
    callback_data: str | None = None,
    pricing_object: dict[str, Any] | None = None,
    conversation_id: str | None = None,
    window_expires: float | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One entry of a webhook's `statuses[]`: a status change of one business message. It names the phone
    number when known (`recipient_id`) and the BSUIDs when known, except that a `failed` status of a send to
    a phone number names no BSUID (Meta's rule)."""
    item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(timestamp))}
    if recipient.wa_id:
        item["recipient_id"] = recipient.wa_id
    if not (status == "failed" and to_phone):
        if recipient.user_id:
            item["recipient_user_id"] = recipient.user_id
        if recipient.parent_user_id:
            item["recipient_parent_user_id"] = recipient.parent_user_id
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


def status_contact(recipient: Identity, status: str) -> dict[str, Any] | None:
    """The `contacts[]` entry Meta adds beside a `sent`, `delivered` or `read` status from 2026: none for a
    `failed` one or a guest the sandbox knows no BSUID of (its webhooks stay as before 2026), and the username
    only from `delivered` on."""
    if status == "failed" or not recipient.user_id:
        return None
    return contact(recipient if status != "sent" else replace(recipient, username=None))


def statuses_webhook(
    number: PhoneNumber, items: list[dict[str, Any]], contacts: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The webhook carrying status changes of one business number; Meta batches them under load. Each guest
    is in `contacts[]` once, with the username when one of the statuses carried it."""
    value: dict[str, Any] = {**_metadata(number)}
    unique: dict[str, dict[str, Any]] = {}
    for entry in contacts or ():
        if entry["user_id"] not in unique or "username" in entry["profile"]:
            unique[entry["user_id"]] = entry
    if unique:
        value["contacts"] = list(unique.values())
    value["statuses"] = items
    return envelope(number.waba_id, value)


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
