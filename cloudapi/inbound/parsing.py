"""Webhook POST bodies parsed into the values of `cloudapi.inbound.messages`.

Meta may batch many updates in one POST (`entry[] x changes[] x messages|statuses|errors[]`), adds fields
and message types without notice and, rarely, sends something malformed. The parser therefore reads every
item, and never raises: what it cannot read becomes an `UnknownChange` (a whole change or a broken item) or
an `Unknown` content (a message whose type or content is new), keeping the raw JSON so that nothing Meta sent
is lost. Apart from that raw JSON, everything that leaves this module is typed.
"""

import math
import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple, TypeVar

from cloudapi.errors import ErrorInfo, parse_error_info
from cloudapi.inbound.messages import (
    Contact,
    ContactPhone,
    Contacts,
    Content,
    Conversation,
    DeliveryStatus,
    InboundMessage,
    InteractiveReply,
    Location,
    Media,
    MessageContext,
    Order,
    OrderItem,
    Pricing,
    Reaction,
    Referral,
    ReferredProduct,
    StatusUpdate,
    System,
    TemplateButton,
    TemplateStatusUpdate,
    Text,
    Unknown,
    UnknownChange,
    Unsupported,
    WebhookBatch,
    WebhookError,
)

# --- tolerant readers of JSON values -----------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,19}")


def _str(data: Mapping[str, Any], key: str) -> str | None:
    """A non-empty string, or an integer written as one (Meta sends some ids as numbers)."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _text(data: Mapping[str, Any], key: str) -> str:
    """A string that may legitimately be empty (a removed reaction, a blank order note)."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _int(data: Mapping[str, Any], key: str) -> int | None:
    """An integer, as a number or as the string of digits Meta uses for timestamps."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return None


def _float(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _bool(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def _object(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object, or an empty one so that readers can go on without checks."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _errors(data: Mapping[str, Any]) -> tuple[ErrorInfo, ...]:
    infos = (parse_error_info(item) for item in _list(data, "errors"))
    return tuple(info for info in infos if info is not None)


# --- message content parsers -------------------------------------------------------------------------------
# Each returns None when the content object lacks what makes it usable; the message then gets Unknown content.

_MEDIA_KINDS: Final = ("image", "audio", "video", "document", "sticker")
_INTERACTIVE_KINDS: Final = ("button_reply", "list_reply", "nfm_reply")


def _parse_text(item: Mapping[str, Any]) -> Text | None:
    body = _object(item, "text").get("body")
    return Text(body) if isinstance(body, str) else None


def _parse_interactive(item: Mapping[str, Any]) -> InteractiveReply | None:
    interactive = _object(item, "interactive")
    kind = interactive.get("type")
    if kind not in _INTERACTIVE_KINDS:
        return None
    reply = _object(interactive, kind)
    if kind == "nfm_reply":
        return InteractiveReply(
            kind="nfm_reply",
            id=_text(reply, "name"),
            title=_text(reply, "body"),
            response_json=_str(reply, "response_json"),
        )
    reply_id = _str(reply, "id")
    if reply_id is None:
        return None
    return InteractiveReply(kind=kind, id=reply_id, title=_text(reply, "title"), description=_str(reply, "description"))


def _parse_button(item: Mapping[str, Any]) -> TemplateButton | None:
    button = _object(item, "button")
    if not isinstance(button.get("payload"), str) and not isinstance(button.get("text"), str):
        return None
    return TemplateButton(payload=_text(button, "payload"), text=_text(button, "text"))


def _parse_location(item: Mapping[str, Any]) -> Location | None:
    location = _object(item, "location")
    latitude, longitude = _float(location, "latitude"), _float(location, "longitude")
    if latitude is None or longitude is None:
        return None
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=_str(location, "name"),
        address=_str(location, "address"),
        url=_str(location, "url"),
    )


def _parse_contact_phone(raw: Any) -> ContactPhone | None:
    if not isinstance(raw, Mapping) or _str(raw, "phone") is None:
        return None
    return ContactPhone(phone=_text(raw, "phone"), wa_id=_str(raw, "wa_id"), type=_str(raw, "type"))


def _parse_contact(raw: Any) -> Contact:
    card = raw if isinstance(raw, Mapping) else {}
    phones = (_parse_contact_phone(phone) for phone in _list(card, "phones"))
    return Contact(
        formatted_name=_text(_object(card, "name"), "formatted_name"),
        phones=tuple(phone for phone in phones if phone is not None),
    )


def _parse_contacts(item: Mapping[str, Any]) -> Contacts | None:
    cards = _list(item, "contacts")
    if not cards:
        return None
    return Contacts(cards=tuple(_parse_contact(card) for card in cards))


def _parse_media(item: Mapping[str, Any]) -> Media | None:
    kind = item.get("type")
    if kind not in _MEDIA_KINDS:
        return None
    media = _object(item, kind)
    media_id = _str(media, "id")
    if media_id is None:
        return None
    return Media(
        kind=kind,
        media_id=media_id,
        mime_type=_str(media, "mime_type"),
        sha256=_str(media, "sha256"),
        caption=_str(media, "caption"),
        filename=_str(media, "filename"),
        voice=_bool(media, "voice") is True,
        animated=_bool(media, "animated") is True,
        url=_str(media, "url"),
    )


def _parse_reaction(item: Mapping[str, Any]) -> Reaction | None:
    reaction = _object(item, "reaction")
    message_id = _str(reaction, "message_id")
    return Reaction(message_id=message_id, emoji=_text(reaction, "emoji")) if message_id else None


def _parse_order_item(raw: Any) -> OrderItem | None:
    if not isinstance(raw, Mapping):
        return None
    product_id, quantity = _str(raw, "product_retailer_id"), _int(raw, "quantity")
    if product_id is None or quantity is None:
        return None
    return OrderItem(
        product_retailer_id=product_id,
        quantity=quantity,
        item_price=_float(raw, "item_price"),
        currency=_str(raw, "currency"),
    )


def _parse_order(item: Mapping[str, Any]) -> Order | None:
    order = _object(item, "order")
    catalog_id = _str(order, "catalog_id")
    if catalog_id is None:
        return None
    items = (_parse_order_item(raw) for raw in _list(order, "product_items"))
    return Order(catalog_id=catalog_id, items=tuple(i for i in items if i is not None), text=_str(order, "text"))


def _parse_system(item: Mapping[str, Any]) -> System:
    system = _object(item, "system")
    return System(body=_str(system, "body"), kind=_str(system, "type"), new_wa_id=_str(system, "wa_id"))


def _parse_unsupported(item: Mapping[str, Any]) -> Unsupported:
    codes = (error.code for error in _errors(item))
    return Unsupported(
        kind=_str(_object(item, "unsupported"), "type"),
        error_codes=tuple(code for code in codes if code is not None),
    )


_CONTENT_PARSERS: Final = MappingProxyType(
    {
        "text": _parse_text,
        "interactive": _parse_interactive,
        "button": _parse_button,
        "location": _parse_location,
        "contacts": _parse_contacts,
        **dict.fromkeys(_MEDIA_KINDS, _parse_media),
        "reaction": _parse_reaction,
        "order": _parse_order,
        "system": _parse_system,
        "unsupported": _parse_unsupported,
    }
)


def _parse_content(message_type: str, item: Mapping[str, Any]) -> Content:
    parser = _CONTENT_PARSERS.get(message_type)
    content = parser(item) if parser is not None else None
    return content if content is not None else Unknown(type=message_type, raw=item)


# --- the parts of a message around its content --------------------------------------------------------------


def _parse_context(item: Mapping[str, Any]) -> MessageContext | None:
    context = item.get("context")
    if not isinstance(context, Mapping):
        return None
    product = context.get("referred_product")
    return MessageContext(
        message_id=_str(context, "id"),
        sender=_str(context, "from"),
        forwarded=_bool(context, "forwarded") is True,
        frequently_forwarded=_bool(context, "frequently_forwarded") is True,
        referred_product=(
            ReferredProduct(_str(product, "catalog_id"), _str(product, "product_retailer_id"))
            if isinstance(product, Mapping)
            else None
        ),
    )


def _parse_referral(item: Mapping[str, Any]) -> Referral | None:
    referral = item.get("referral")
    if not isinstance(referral, Mapping):
        return None
    return Referral(
        source_url=_str(referral, "source_url"),
        source_type=_str(referral, "source_type"),
        source_id=_str(referral, "source_id"),
        headline=_str(referral, "headline"),
        body=_str(referral, "body"),
        media_type=_str(referral, "media_type"),
        ctwa_clid=_str(referral, "ctwa_clid"),
    )


class _Profile(NamedTuple):
    """Who a sender is: a `contacts[]` entry of a messages change, or the identity of a message's guest."""

    wa_id: str | None
    user_id: str | None
    name: str | None


def _profiles(value: Mapping[str, Any]) -> list[_Profile]:
    contacts = (raw for raw in _list(value, "contacts") if isinstance(raw, Mapping))
    return [
        _Profile(_str(raw, "wa_id"), _str(raw, "user_id"), _str(_object(raw, "profile"), "name")) for raw in contacts
    ]


def _matching_profile(profiles: list[_Profile], wa_id: str | None, user_id: str | None) -> _Profile | None:
    """The sender's contacts entry, matched by wa_id or business-scoped user id; when the message names
    neither, a lone entry can only be its sender."""
    for profile in profiles:
        if (wa_id and profile.wa_id == wa_id) or (user_id and profile.user_id == user_id):
            return profile
    if wa_id is None and user_id is None and len(profiles) == 1:
        return profiles[0]
    return None


def _guest(item: Mapping[str, Any], profiles: list[_Profile]) -> _Profile:
    """The guest of a message: `from` and `from_user_id`, completed and named from the contacts entry."""
    wa_id = _str(item, "from")
    user_id = _str(item, "from_user_id")
    profile = _matching_profile(profiles, wa_id, user_id)
    if profile is None:
        return _Profile(wa_id, user_id, None)
    return _Profile(wa_id or profile.wa_id, user_id or profile.user_id, profile.name)


# --- walking a delivery ---------------------------------------------------------------------------------------


class _Change(NamedTuple):
    """Where a change came from, shared by all the items it holds."""

    waba_id: str | None
    time: int | None
    field: str | None
    path: str
    value: Any


def _changes(payload: Any) -> Iterator[_Change | UnknownChange]:
    """Every change of every entry, or an `UnknownChange` for each part that is not shaped as Meta documents."""
    if not isinstance(payload, Mapping):
        yield UnknownChange(None, "$", f"body is {type(payload).__name__}, not an object", payload)
        return
    entries = payload.get("entry")
    if not isinstance(entries, list):
        yield UnknownChange(None, "$", "body has no entry list", payload)
        return
    for index, entry in enumerate(entries):
        yield from _entry_changes(entry, f"entry[{index}]")


def _entry_changes(entry: Any, path: str) -> Iterator[_Change | UnknownChange]:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("changes"), list):
        yield UnknownChange(None, path, "entry has no changes list", entry)
        return
    for index, change in enumerate(entry["changes"]):
        change_path = f"{path}.changes[{index}]"
        if not isinstance(change, Mapping):
            yield UnknownChange(None, change_path, "change is not an object", change)
            continue
        field = change.get("field")
        yield _Change(
            waba_id=_str(entry, "id"),
            time=_int(entry, "time"),
            field=field if isinstance(field, str) else None,
            path=change_path,
            value=change.get("value"),
        )


def _parse_message(
    item: Any, change: _Change, metadata: Mapping[str, Any], profiles: list[_Profile]
) -> InboundMessage | str:
    """The message, or the reason it cannot be one."""
    if not isinstance(item, Mapping):
        return "message is not an object"
    phone_number_id = _str(metadata, "phone_number_id")
    message_id, timestamp, message_type = _str(item, "id"), _int(item, "timestamp"), _str(item, "type")
    guest = _guest(item, profiles)
    if phone_number_id is None or message_id is None or timestamp is None or message_type is None:
        return "message lacks metadata.phone_number_id, id, timestamp or type"
    if guest.wa_id is None and guest.user_id is None:
        return "message names no sender (from, from_user_id or contacts)"
    return InboundMessage(
        waba_id=change.waba_id,
        phone_number_id=phone_number_id,
        display_phone_number=_str(metadata, "display_phone_number"),
        wa_id=guest.wa_id,
        user_id=guest.user_id,
        profile_name=guest.name,
        message_id=message_id,
        timestamp=timestamp,
        type=message_type,
        content=_parse_content(message_type, item),
        context=_parse_context(item),
        referral=_parse_referral(item),
        errors=_errors(item),
    )


def _delivery_status(raw_status: str) -> DeliveryStatus:
    try:
        return DeliveryStatus(raw_status)
    except ValueError:
        return DeliveryStatus.UNKNOWN


def _parse_conversation(status: Mapping[str, Any]) -> Conversation | None:
    conversation = status.get("conversation")
    if not isinstance(conversation, Mapping):
        return None
    return Conversation(
        id=_str(conversation, "id"),
        expiration_timestamp=_int(conversation, "expiration_timestamp"),
        origin_type=_str(_object(conversation, "origin"), "type"),
    )


def parse_pricing(pricing: Any) -> Pricing | None:
    """A pricing object, from a status webhook or as the gateway stored it (`Pricing.as_json`)."""
    if not isinstance(pricing, Mapping):
        return None
    return Pricing(
        billable=_bool(pricing, "billable"),
        pricing_model=_str(pricing, "pricing_model"),
        type=_str(pricing, "type"),
        category=_str(pricing, "category"),
    )


def _parse_status(item: Any, change: _Change, metadata: Mapping[str, Any]) -> StatusUpdate | str:
    """The status, or the reason it cannot be one."""
    if not isinstance(item, Mapping):
        return "status is not an object"
    message_id, raw_status, timestamp = _str(item, "id"), _str(item, "status"), _int(item, "timestamp")
    if message_id is None or raw_status is None or timestamp is None:
        return "status lacks id, status or timestamp"
    return StatusUpdate(
        waba_id=change.waba_id,
        phone_number_id=_str(metadata, "phone_number_id"),
        message_id=message_id,
        status=_delivery_status(raw_status),
        raw_status=raw_status,
        timestamp=timestamp,
        recipient_id=_str(item, "recipient_id"),
        biz_opaque_callback_data=_str(item, "biz_opaque_callback_data"),
        conversation=_parse_conversation(item),
        pricing=parse_pricing(item.get("pricing")),
        errors=_errors(item),
    )


def _parse_value_error(item: Any, change: _Change, metadata: Mapping[str, Any]) -> WebhookError | str:
    info = parse_error_info(item)
    if info is None:
        return "error is not an object"
    return WebhookError(waba_id=change.waba_id, phone_number_id=_str(metadata, "phone_number_id"), error=info)


_MESSAGES_KEYS: Final = ("messages", "statuses", "errors")
_Item = TypeVar("_Item", InboundMessage, StatusUpdate, WebhookError)


class _Collector:
    """Accumulates the parsed items of one delivery, in order."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.statuses: list[StatusUpdate] = []
        self.errors: list[WebhookError] = []
        self.template_updates: list[TemplateStatusUpdate] = []
        self.unknown: list[UnknownChange] = []

    def batch(self) -> WebhookBatch:
        return WebhookBatch(
            messages=tuple(self.messages),
            statuses=tuple(self.statuses),
            errors=tuple(self.errors),
            template_updates=tuple(self.template_updates),
            unknown=tuple(self.unknown),
        )

    def add_messages_change(self, change: _Change) -> None:
        """A `messages` change: any of messages[] (with contacts[]), statuses[] and errors[]."""
        value = change.value
        if not isinstance(value, Mapping) or not any(isinstance(value.get(k), list) for k in _MESSAGES_KEYS):
            self.unknown.append(UnknownChange(change.field, change.path, "no messages, statuses or errors", value))
            return
        metadata, profiles = _object(value, "metadata"), _profiles(value)
        for index, item in enumerate(_list(value, "messages")):
            self._keep(
                self.messages, _parse_message(item, change, metadata, profiles), change, f"messages[{index}]", item
            )
        for index, item in enumerate(_list(value, "statuses")):
            self._keep(self.statuses, _parse_status(item, change, metadata), change, f"statuses[{index}]", item)
        for index, item in enumerate(_list(value, "errors")):
            self._keep(self.errors, _parse_value_error(item, change, metadata), change, f"errors[{index}]", item)

    def add_template_change(self, change: _Change) -> None:
        value = change.value
        event = _str(value, "event") if isinstance(value, Mapping) else None
        if event is None:
            self.unknown.append(UnknownChange(change.field, change.path, "template update without event", value))
            return
        self.template_updates.append(
            TemplateStatusUpdate(
                waba_id=change.waba_id,
                time=change.time,
                event=event,
                template_id=_str(value, "message_template_id"),
                name=_str(value, "message_template_name"),
                language=_str(value, "message_template_language"),
                reason=_str(value, "reason"),
                category=_str(value, "message_template_category"),
            )
        )

    def _keep(self, into: list[_Item], parsed: _Item | str, change: _Change, where: str, raw: Any) -> None:
        """Append a parsed item, or record why it could not be parsed (`parsed` is then the reason)."""
        if isinstance(parsed, str):
            self.unknown.append(UnknownChange(change.field, f"{change.path}.value.{where}", parsed, raw))
        else:
            into.append(parsed)


def parse_webhook(payload: Any) -> WebhookBatch:
    """Everything in a webhook POST body (already decoded from JSON). Never raises: a body of the wrong shape
    gives an empty batch with an `UnknownChange` saying why."""
    collector = _Collector()
    for change in _changes(payload):
        if isinstance(change, UnknownChange):
            collector.unknown.append(change)
        elif change.field == "messages":
            collector.add_messages_change(change)
        elif change.field == "message_template_status_update":
            collector.add_template_change(change)
        else:
            collector.unknown.append(UnknownChange(change.field, change.path, "field not handled", change.value))
    return collector.batch()
