"""The content of one inbound message, by its `type`, as a value of `cloudapi.inbound.messages`.

Each parser returns None when the content object lacks what makes it usable; `parse_content` then gives
Unknown content that keeps the whole item, so a new or malformed type never loses what Meta sent. An edit
carries a whole message inside it (`edit.message`), whose content is read by the same parsers.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from cloudapi.inbound.messages import (
    Contact,
    ContactPhone,
    Contacts,
    Content,
    Edit,
    InteractiveReply,
    Location,
    Media,
    Order,
    OrderItem,
    Reaction,
    Revoke,
    System,
    TemplateButton,
    Text,
    Unknown,
    Unsupported,
)
from cloudapi.inbound.readers import (
    read_bool,
    read_errors,
    read_float,
    read_int,
    read_list,
    read_object,
    read_str,
    read_text,
)

_MEDIA_KINDS: Final = ("image", "audio", "video", "document", "sticker")
_INTERACTIVE_KINDS: Final = ("button_reply", "list_reply", "nfm_reply")


def _parse_text(item: Mapping[str, Any]) -> Text | None:
    body = read_object(item, "text").get("body")
    return Text(body) if isinstance(body, str) else None


def _parse_interactive(item: Mapping[str, Any]) -> InteractiveReply | None:
    interactive = read_object(item, "interactive")
    kind = interactive.get("type")
    if kind not in _INTERACTIVE_KINDS:
        return None
    reply = read_object(interactive, kind)
    if kind == "nfm_reply":
        return InteractiveReply(
            kind="nfm_reply",
            id=read_text(reply, "name"),
            title=read_text(reply, "body"),
            response_json=read_str(reply, "response_json"),
        )
    reply_id = read_str(reply, "id")
    if reply_id is None:
        return None
    return InteractiveReply(
        kind=kind, id=reply_id, title=read_text(reply, "title"), description=read_str(reply, "description")
    )


def _parse_button(item: Mapping[str, Any]) -> TemplateButton | None:
    button = read_object(item, "button")
    if not isinstance(button.get("payload"), str) and not isinstance(button.get("text"), str):
        return None
    return TemplateButton(payload=read_text(button, "payload"), text=read_text(button, "text"))


def _parse_location(item: Mapping[str, Any]) -> Location | None:
    location = read_object(item, "location")
    latitude, longitude = read_float(location, "latitude"), read_float(location, "longitude")
    if latitude is None or longitude is None:
        return None
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=read_str(location, "name"),
        address=read_str(location, "address"),
        url=read_str(location, "url"),
    )


def _parse_contact_phone(raw: Any) -> ContactPhone | None:
    if not isinstance(raw, Mapping) or read_str(raw, "phone") is None:
        return None
    return ContactPhone(phone=read_text(raw, "phone"), wa_id=read_str(raw, "wa_id"), type=read_str(raw, "type"))


def _parse_contact(raw: Any) -> Contact:
    card = raw if isinstance(raw, Mapping) else {}
    phones = (_parse_contact_phone(phone) for phone in read_list(card, "phones"))
    return Contact(
        formatted_name=read_text(read_object(card, "name"), "formatted_name"),
        phones=tuple(phone for phone in phones if phone is not None),
    )


def _parse_contacts(item: Mapping[str, Any]) -> Contacts | None:
    cards = read_list(item, "contacts")
    if not cards:
        return None
    return Contacts(cards=tuple(_parse_contact(card) for card in cards))


def _parse_media(item: Mapping[str, Any]) -> Media | None:
    kind = item.get("type")
    if kind not in _MEDIA_KINDS:
        return None
    media = read_object(item, kind)
    media_id = read_str(media, "id")
    if media_id is None:
        return None
    return Media(
        kind=kind,
        media_id=media_id,
        mime_type=read_str(media, "mime_type"),
        sha256=read_str(media, "sha256"),
        caption=read_str(media, "caption"),
        filename=read_str(media, "filename"),
        voice=read_bool(media, "voice") is True,
        animated=read_bool(media, "animated") is True,
        url=read_str(media, "url"),
    )


def _parse_reaction(item: Mapping[str, Any]) -> Reaction | None:
    reaction = read_object(item, "reaction")
    message_id = read_str(reaction, "message_id")
    return Reaction(message_id=message_id, emoji=read_text(reaction, "emoji")) if message_id else None


def _parse_order_item(raw: Any) -> OrderItem | None:
    if not isinstance(raw, Mapping):
        return None
    product_id, quantity = read_str(raw, "product_retailer_id"), read_int(raw, "quantity")
    if product_id is None or quantity is None:
        return None
    return OrderItem(
        product_retailer_id=product_id,
        quantity=quantity,
        item_price=read_float(raw, "item_price"),
        currency=read_str(raw, "currency"),
    )


def _parse_order(item: Mapping[str, Any]) -> Order | None:
    order = read_object(item, "order")
    catalog_id = read_str(order, "catalog_id")
    if catalog_id is None:
        return None
    items = (_parse_order_item(raw) for raw in read_list(order, "product_items"))
    return Order(catalog_id=catalog_id, items=tuple(i for i in items if i is not None), text=read_str(order, "text"))


def _parse_system(item: Mapping[str, Any]) -> System:
    system = read_object(item, "system")
    return System(
        body=read_str(system, "body"),
        kind=read_str(system, "type"),
        new_wa_id=read_str(system, "wa_id"),
        new_user_id=read_str(system, "user_id"),
        new_parent_user_id=read_str(system, "parent_user_id"),
        previous_user_id=read_str(system, "previous_user_id"),
    )


def _parse_unsupported(item: Mapping[str, Any]) -> Unsupported:
    codes = (error.code for error in read_errors(item))
    return Unsupported(
        kind=read_str(read_object(item, "unsupported"), "type"),
        error_codes=tuple(code for code in codes if code is not None),
    )


def _parse_revoke(item: Mapping[str, Any]) -> Revoke | None:
    original = read_str(read_object(item, "revoke"), "original_message_id")
    return Revoke(original) if original else None


_Parser = Callable[[Mapping[str, Any]], Content | None]

_MESSAGE_CONTENT_PARSERS: Final[Mapping[str, _Parser]] = MappingProxyType(
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
"""The content a message can have, and also the new content of an edit (an edit of an edit does not exist)."""


def _content_of(parsers: Mapping[str, _Parser], message_type: str, item: Mapping[str, Any]) -> Content:
    parser = parsers.get(message_type)
    content = parser(item) if parser is not None else None
    return content if content is not None else Unknown(type=message_type, raw=item)


def _parse_edit(item: Mapping[str, Any]) -> Edit | None:
    """An edit needs the id of the message it replaces and a new message with a type; that message's content
    may still be Unknown (a type this parser does not know), which keeps it whole."""
    edit = read_object(item, "edit")
    original, message = read_str(edit, "original_message_id"), read_object(edit, "message")
    new_type = read_str(message, "type")
    if original is None or new_type is None:
        return None
    return Edit(original_message_id=original, content=_content_of(_MESSAGE_CONTENT_PARSERS, new_type, message))


_CONTENT_PARSERS: Final[Mapping[str, _Parser]] = MappingProxyType(
    {**_MESSAGE_CONTENT_PARSERS, "edit": _parse_edit, "revoke": _parse_revoke}
)


def parse_content(message_type: str, item: Mapping[str, Any]) -> Content:
    """The content of the message `item` of type `message_type`; Unknown (keeping `item`) for a type this
    parser does not know or content that lacks what makes it usable."""
    return _content_of(_CONTENT_PARSERS, message_type, item)
