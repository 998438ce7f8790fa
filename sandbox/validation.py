"""Validation of `POST /{version}/{phone_number_id}/messages` bodies, as the Cloud API does it.

Pure: a request body in, an `Outbound` message or a `ReadReceipt` out, or a `GraphError` raised with the
code and details Meta would answer. Limits are those of WHATSAPP.md section 4. Anything that is not a
dict where a dict belongs is a code 100, never a Python exception. Who a send is for (`to` or a BSUID in
`recipient`) is read by `sandbox.addressing`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.addressing import Addressee, addressee_of
from sandbox.catalog import Catalog, PhoneNumber, Template
from sandbox.errors import GraphError, invalid
from sandbox.media_rules import check_sent_media

TEXT_MAX = 4096
CAPTION_MAX = 1024
BUTTON_BODY_MAX = 1024
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
FOOTER_MAX = 60
HEADER_TEXT_MAX = 60
LIST_BUTTON_MAX = 20
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24
TEMPLATE_BODY_MAX = 1024
CALLBACK_DATA_MAX = 512
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
MESSAGE_TYPES = (
    "text",
    "template",
    "interactive",
    "location",
    "reaction",
    "contacts",
    *MEDIA_TYPES,
)
TEMPLATE_PARAMETER_TYPES = (
    "text",
    "currency",
    "date_time",
    "image",
    "video",
    "document",
    "location",
    "payload",
    "coupon_code",
    "action",
)
BSUID_UNSUPPORTED = "Business-scoped User ID (BSUID) recipients are not supported for this message."
"""Meta's details of 131062: one-tap, zero-tap and copy-code authentication templates need a phone number."""


@dataclass(frozen=True)
class Outbound:
    """An accepted send: what the guest will receive."""

    addressee: Addressee
    type: str
    content: dict[str, Any]
    preview: str
    context_id: str | None = None
    callback_data: str | None = None
    template: Template | None = None
    template_parameters: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ReadReceipt:
    """A mark-as-read request, optionally showing the typing indicator."""

    message_id: str
    typing: bool


MediaLookup = Callable[[str], "tuple[str, int] | None"]
"""An uploaded media id's type and size, or None for an id this number never uploaded."""


def validate_request(
    body: Any, business: PhoneNumber, catalog: Catalog, media_of: MediaLookup
) -> Outbound | ReadReceipt:
    """Check a send request as Meta does and return what it asks for."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise invalid("The parameter messaging_product is required and must be 'whatsapp'.")
    if body.get("status") == "read":
        return _read_receipt(body)
    addressee = addressee_of(body)
    if addressee.wa_id == business.display_phone_number:
        raise GraphError(131021, "The recipient phone number is the same as the sender's.")
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise invalid("Param recipient_type must be 'individual'.")
    message_type = body.get("type", "text")
    if message_type not in MESSAGE_TYPES:
        raise invalid(f"Param type must be one of {{{', '.join(MESSAGE_TYPES)}}}.")
    context_id = _context(body)
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > CALLBACK_DATA_MAX):
        raise invalid(f"Param biz_opaque_callback_data must be a string of at most {CALLBACK_DATA_MAX} characters.")
    common = {"addressee": addressee, "type": message_type, "context_id": context_id, "callback_data": callback}
    if message_type == "contacts":
        return Outbound(**common, content={"contacts": body.get("contacts")}, preview=_contacts_preview(body))
    content = _object(body, message_type)
    common["content"] = content
    if message_type == "template":
        template, parameters = _template(content, business, catalog)
        if template.category == "AUTHENTICATION" and not addressee.to_phone:
            raise GraphError(131062, BSUID_UNSUPPORTED)
        return Outbound(
            **common,
            preview=template.render(list(parameters)),
            template=template,
            template_parameters=parameters,
        )
    return Outbound(**common, preview=_PREVIEWS[message_type](content, media_of))


def _read_receipt(body: dict[str, Any]) -> ReadReceipt:
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise invalid("The parameter message_id is required.")
    indicator = body.get("typing_indicator")
    if indicator is not None and (not isinstance(indicator, dict) or indicator.get("type") != "text"):
        raise invalid("Param typing_indicator.type must be 'text'.")
    return ReadReceipt(message_id=message_id, typing=indicator is not None)


def _object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise invalid(f"The parameter {key} is required and must be an object.")
    return value


def _string(parent: dict[str, Any], key: str, limit: int, where: str, required: bool = True) -> str:
    value = parent.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise invalid(f"Param {where} is required and must be a non-empty string.")
    if len(value) > limit:
        raise invalid(f"Param {where} must be at most {limit} characters long.")
    return value


def _context(body: dict[str, Any]) -> str | None:
    context = body.get("context")
    if context is None:
        return None
    if not isinstance(context, dict):
        raise invalid("Param context must be an object.")
    return _string(context, "message_id", 256, "context.message_id")


def _text_preview(text: dict[str, Any], _: MediaLookup) -> str:
    preview_url = text.get("preview_url", False)
    if not isinstance(preview_url, bool):
        raise invalid("Param text.preview_url must be a boolean.")
    return _string(text, "body", TEXT_MAX, "text.body")


def _media_preview_for(kind: str) -> Callable[[dict[str, Any], MediaLookup], str]:
    def preview(media: dict[str, Any], media_of: MediaLookup) -> str:
        has_id, has_link = "id" in media, "link" in media
        if has_id == has_link:
            raise invalid(f"Param {kind} must have exactly one of id or link.")
        uploaded = media_of(media["id"]) if has_id and isinstance(media["id"], str) else None
        if has_id and uploaded is None:
            raise GraphError(131053, f"Media id {media.get('id')!r} was not uploaded to this number.")
        if uploaded is not None:
            check_sent_media(kind, media["id"], *uploaded)
        if has_link and (not isinstance(media["link"], str) or not re.match(r"https?://", media["link"])):
            raise invalid(f"Param {kind}.link must be an http(s) URL.")
        caption = media.get("caption")
        if caption is not None and kind in ("audio", "sticker"):
            raise invalid(f"Param {kind}.caption is not allowed for {kind} messages.")
        caption = _string(media, "caption", CAPTION_MAX, f"{kind}.caption", required=False)
        if kind == "document":
            _string(media, "filename", 240, "document.filename", required=False)
        return f"[{kind}] {caption}".strip()

    return preview


def _location_preview(location: dict[str, Any], _: MediaLookup) -> str:
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = location.get(key)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                value = None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -bound <= value <= bound:
            raise invalid(f"Param location.{key} is required and must be a number within ±{bound}.")
    name = _string(location, "name", 1000, "location.name", required=False)
    address = _string(location, "address", 1000, "location.address", required=False)
    return f"[location] {name} {address}".strip()


def _reaction_preview(reaction: dict[str, Any], _: MediaLookup) -> str:
    _string(reaction, "message_id", 256, "reaction.message_id")
    emoji = reaction.get("emoji", "")
    if not isinstance(emoji, str) or len(emoji) > 10:
        raise invalid("Param reaction.emoji must be a single emoji or empty to remove the reaction.")
    return f"[reaction] {emoji}".strip()


def _interactive_preview(interactive: dict[str, Any], _: MediaLookup) -> str:
    kind = interactive.get("type")
    body = _object(interactive, "body")
    footer = interactive.get("footer")
    if footer is not None:
        _string(_object(interactive, "footer"), "text", FOOTER_MAX, "interactive.footer.text")
    _header(interactive)
    action = _object(interactive, "action")
    if kind == "button":
        text = _string(body, "text", BUTTON_BODY_MAX, "interactive.body.text")
        _reply_buttons(action)
    elif kind == "list":
        text = _string(body, "text", TEXT_MAX, "interactive.body.text")
        _list_action(action)
    elif kind == "cta_url":
        text = _string(body, "text", BUTTON_BODY_MAX, "interactive.body.text")
        parameters = _object(action, "parameters")
        _string(parameters, "display_text", BUTTON_TITLE_MAX, "interactive.action.parameters.display_text")
        _string(parameters, "url", 2000, "interactive.action.parameters.url")
    else:
        raise invalid("Param interactive.type must be one of {button, list, cta_url}.")
    return text


def _header(interactive: dict[str, Any]) -> None:
    header = interactive.get("header")
    if header is None:
        return
    if not isinstance(header, dict) or header.get("type") not in ("text", *MEDIA_TYPES[:-1]):
        raise invalid("Param interactive.header.type must be one of {text, image, video, document, audio}.")
    if header["type"] == "text":
        _string(header, "text", HEADER_TEXT_MAX, "interactive.header.text")


def _reply_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise invalid("Param interactive.action.buttons must have between 1 and 3 buttons.")
    ids: set[str] = set()
    for i, button in enumerate(buttons):
        if not isinstance(button, dict) or button.get("type") != "reply":
            raise invalid(f"Param interactive.action.buttons[{i}].type must be 'reply'.")
        reply = _object(button, "reply")
        button_id = _string(reply, "id", BUTTON_ID_MAX, f"interactive.action.buttons[{i}].reply.id")
        _string(reply, "title", BUTTON_TITLE_MAX, f"interactive.action.buttons[{i}].reply.title")
        if button_id in ids:
            raise invalid("Param interactive.action.buttons must have unique ids.")
        ids.add(button_id)


def _list_action(action: dict[str, Any]) -> None:
    _string(action, "button", LIST_BUTTON_MAX, "interactive.action.button")
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= LIST_SECTIONS_MAX:
        raise invalid(f"Param interactive.action.sections must have between 1 and {LIST_SECTIONS_MAX} sections.")
    ids: set[str] = set()
    rows_total = 0
    for s, section in enumerate(sections):
        if not isinstance(section, dict):
            raise invalid(f"Param interactive.action.sections[{s}] must be an object.")
        where = f"interactive.action.sections[{s}]"
        _string(section, "title", SECTION_TITLE_MAX, f"{where}.title", required=len(sections) > 1)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise invalid(f"Param {where}.rows must have at least one row.")
        rows_total += len(rows)
        for r, row in enumerate(rows):
            if not isinstance(row, dict):
                raise invalid(f"Param {where}.rows[{r}] must be an object.")
            row_id = _string(row, "id", ROW_ID_MAX, f"{where}.rows[{r}].id")
            _string(row, "title", ROW_TITLE_MAX, f"{where}.rows[{r}].title")
            _string(row, "description", ROW_DESCRIPTION_MAX, f"{where}.rows[{r}].description", required=False)
            if row_id in ids:
                raise invalid("Param interactive.action.sections rows must have unique ids.")
            ids.add(row_id)
    if rows_total > LIST_ROWS_MAX:
        raise invalid(f"Param interactive.action.sections must have at most {LIST_ROWS_MAX} rows in total.")


def _template(content: dict[str, Any], business: PhoneNumber, catalog: Catalog) -> tuple[Template, tuple[str, ...]]:
    name = _string(content, "name", 512, "template.name")
    code = _string(_object(content, "language"), "code", 15, "template.language.code")
    template = catalog.template(business.waba_id, name, code)
    if template is None or template.status in ("PENDING", "REJECTED"):
        raise GraphError(132001, f"template name ({name}) does not exist in {code}")
    if template.status == "PAUSED":
        raise GraphError(132015, f"Template {name} ({code}) is paused because of low quality.")
    if template.status == "DISABLED":
        raise GraphError(132016, f"Template {name} ({code}) is disabled because of low quality.")
    components = content.get("components", [])
    if not isinstance(components, list):
        raise invalid("Param template.components must be an array.")
    body_parameters: list[str] = []
    for i, component in enumerate(components):
        if not isinstance(component, dict) or component.get("type") not in ("header", "body", "button"):
            raise invalid(f"Param template.components[{i}].type must be one of {{header, body, button}}.")
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list):
            raise invalid(f"Param template.components[{i}].parameters must be an array.")
        values = [_template_parameter(p, f"template.components[{i}].parameters[{j}]") for j, p in enumerate(parameters)]
        if component["type"] == "body":
            body_parameters.extend(values)
        elif component["type"] == "header" and parameters:
            raise GraphError(132000, f"header: number of localizable_params ({len(parameters)}) does not match (0)")
    if len(body_parameters) != template.parameter_count:
        raise GraphError(
            132000,
            f"body: number of localizable_params ({len(body_parameters)}) does not match the expected number "
            f"of params ({template.parameter_count})",
        )
    if len(template.render(body_parameters)) > TEMPLATE_BODY_MAX:
        raise GraphError(132005, f"The hydrated body of {name} is longer than {TEMPLATE_BODY_MAX} characters.")
    return template, tuple(body_parameters)


def _template_parameter(parameter: Any, where: str) -> str:
    """The text a parameter shows: its `text`, or the fallback of currency and date_time parameters."""
    if not isinstance(parameter, dict) or parameter.get("type") not in TEMPLATE_PARAMETER_TYPES:
        raise invalid(f"Param {where}.type must be one of {{{', '.join(TEMPLATE_PARAMETER_TYPES)}}}.")
    kind = parameter["type"]
    if kind == "text":
        value = parameter.get("text")
        if not isinstance(value, str) or not value.strip():
            raise GraphError(131008, f"Param {where}.text is required.")
        return value
    if kind in ("currency", "date_time"):
        return _string(_object(parameter, kind), "fallback_value", 1024, f"{where}.{kind}.fallback_value")
    if kind in ("payload", "coupon_code"):
        return _string(parameter, kind, 256, f"{where}.{kind}")
    return f"[{kind}]"


def _contacts_preview(body: dict[str, Any]) -> str:
    contacts = body.get("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise invalid("Param contacts must be a non-empty array.")
    names = []
    for i, contact in enumerate(contacts):
        if not isinstance(contact, dict):
            raise invalid(f"Param contacts[{i}] must be an object.")
        names.append(_string(_object(contact, "name"), "formatted_name", 1000, f"contacts[{i}].name.formatted_name"))
    return "[contacts] " + ", ".join(names)


_PREVIEWS: dict[str, Callable[[dict[str, Any], MediaLookup], str]] = {
    "text": _text_preview,
    "interactive": _interactive_preview,
    "location": _location_preview,
    "reaction": _reaction_preview,
    **{kind: _media_preview_for(kind) for kind in MEDIA_TYPES},
}
