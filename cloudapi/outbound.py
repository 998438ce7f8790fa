"""Pure builders from Rasa's response parts to Cloud API message bodies.

A body is the Meta JSON of one message without its addressing, e.g. `{"type": "text", "text": {...}}`;
`addressed` adds the recipient (`to` for a phone number, `recipient` for a business-scoped user id), so the
same body can be logged, checked against the window (the sender's guard) and sent. Builders fit content into
WhatsApp's limits instead of letting the Cloud API reject it (error 100): long text is split, long titles are
cut with an ellipsis, surplus list rows are dropped. They never shorten an id, because a cut payload would
trigger the wrong intent: such a button raises `ValueError` instead. What WhatsApp cannot deliver at all is
refused the same way: an authentication template to a business-scoped user id (`check_template_recipient`).

Builders that may need more than one message to say everything (text, buttons, media with a caption) return a
list of bodies, to be sent in order.
"""

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from cloudapi.user_ids import is_bsuid

__all__ = [
    "BUTTONS_MAX",
    "BUTTON_BODY_MAX",
    "BUTTON_ID_MAX",
    "BUTTON_TITLE_MAX",
    "CAPTION_MAX",
    "LIST_BODY_MAX",
    "LIST_BUTTON_MAX",
    "LIST_ROWS_MAX",
    "LIST_ROW_DESCRIPTION_MAX",
    "LIST_ROW_ID_MAX",
    "LIST_ROW_TITLE_MAX",
    "OVERFLOW_PROMPT",
    "TEXT_MAX",
    "MessageBody",
    "PhoneNumberRequiredError",
    "addressed",
    "attachment_messages",
    "button_messages",
    "check_template_recipient",
    "custom_message",
    "image_messages",
    "media_kind_for",
    "sent_media",
    "split_text",
    "template_message",
    "text_messages",
    "uploaded_media_messages",
]

# WhatsApp's limits (WHATSAPP.md §4), in characters.
TEXT_MAX = 4096
CAPTION_MAX = 1024
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
BUTTON_BODY_MAX = 1024
LIST_ROWS_MAX = 10
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72
LIST_ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20
LIST_BODY_MAX = 4096

OVERFLOW_PROMPT = "👇"
"""The body of an interactive message whose text had to be sent on its own first; language-neutral on purpose."""

MessageBody = dict[str, Any]
"""One Cloud API message object without its addressing: Meta JSON by nature, so a plain dict."""

_ELLIPSIS = "…"
_URL = re.compile(r"https?://", re.IGNORECASE)
_IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png"})
_VIDEO_EXTENSIONS = frozenset({".mp4", ".3gp"})
_AUDIO_EXTENSIONS = frozenset({".ogg", ".mp3", ".m4a", ".aac", ".amr"})
_UNCAPTIONED_KINDS = frozenset({"audio", "sticker"})
_MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})
_ADDRESSING_KEYS = frozenset({"messaging_product", "recipient_type", "to", "recipient"})
_PHONE_ONLY_CATEGORIES = frozenset({"AUTHENTICATION"})
"""Template categories Meta sends to phone numbers only: one-tap, zero-tap and copy-code authentication
templates fail with 131062 for a business-scoped user id."""


def _fit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def _last_space(text: str, limit: int) -> int | None:
    """The index of the last whitespace at or before `limit`, or None when the first word is longer."""
    for index in range(limit, 0, -1):
        if text[index].isspace():
            return index
    return None


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """`text` in chunks of at most `limit` characters, cut at whitespace; only a single word longer than
    `limit` is cut inside. Text that fits is returned unchanged; blank text gives no chunk at all, since
    WhatsApp rejects an empty body."""
    if not text.strip():
        return []
    if len(text) <= limit:
        return [text]
    chunks = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _last_space(rest, limit)
        if cut is None:
            chunks.append(rest[:limit])
            rest = rest[limit:]
        else:
            chunks.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _text_body(text: str) -> MessageBody:
    return {"type": "text", "text": {"body": text, "preview_url": bool(_URL.search(text))}}


def text_messages(text: str) -> list[MessageBody]:
    """Text messages saying `text`, split at the 4,096-character limit; a link preview is asked for in each
    chunk that contains an http(s) URL (WhatsApp previews the first one)."""
    return [_text_body(chunk) for chunk in split_text(text)]


def _unique_options(buttons: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """(title, payload) pairs with a usable payload, the first of each payload only: WhatsApp requires unique
    ids, and two buttons with one payload mean the same thing to the bot. A blank title falls back to the
    payload, since WhatsApp rejects an empty title."""
    options: dict[str, str] = {}
    for title, payload in buttons:
        if not payload.strip():
            raise ValueError(f"button {title!r} has no payload: WhatsApp needs an id to send back")
        options.setdefault(payload, title.strip() or payload)
    return [(title, payload) for payload, title in options.items()]


def _checked_id(payload: str, limit: int, where: str) -> str:
    if len(payload) > limit:
        raise ValueError(
            f"button payload of {len(payload)} characters is too long for a WhatsApp {where} id "
            f"(at most {limit}); cutting it would trigger the wrong intent: {payload[:40]!r}..."
        )
    return payload


def _reply_buttons(body: str, options: Sequence[tuple[str, str]]) -> MessageBody:
    buttons = [
        {
            "type": "reply",
            "reply": {
                "id": _checked_id(payload, BUTTON_ID_MAX, "reply button"),
                "title": _fit(title, BUTTON_TITLE_MAX),
            },
        }
        for title, payload in options
    ]
    return {
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}},
    }


def _list_row(title: str, payload: str) -> dict[str, str]:
    """A list row; a title too long for the row is cut and told in full (up to 72 characters) below it."""
    row = {"id": _checked_id(payload, LIST_ROW_ID_MAX, "list row"), "title": _fit(title, LIST_ROW_TITLE_MAX)}
    if len(title) > LIST_ROW_TITLE_MAX:
        row["description"] = _fit(title, LIST_ROW_DESCRIPTION_MAX)
    return row


def _list(body: str, options: Sequence[tuple[str, str]], label: str) -> MessageBody:
    rows = [_list_row(title, payload) for title, payload in options[:LIST_ROWS_MAX]]
    action = {"button": _fit(label, LIST_BUTTON_MAX), "sections": [{"rows": rows}]}
    return {"type": "interactive", "interactive": {"type": "list", "body": {"text": body}, "action": action}}


def _interactive_after_text(
    text: str, body_max: int, prompt: str, build: Callable[[str], MessageBody]
) -> list[MessageBody]:
    """The interactive message with `text` as its body when it fits; otherwise the text goes first as plain
    messages and `prompt` carries the choices, so no word of the bot's text is lost."""
    if text.strip() and len(text) <= body_max:
        return [build(text)]
    return [*text_messages(text), build(prompt)]


def button_messages(
    text: str,
    buttons: Sequence[tuple[str, str]],
    list_label: str = "Options",
    prompt: str = OVERFLOW_PROMPT,
) -> list[MessageBody]:
    """Messages offering `buttons`, given as (title, payload) pairs; the payload comes back as the reply id.

    1-3 buttons become reply buttons (title cut to 20 characters with "…"); 4-10 a list (row title 24, full
    title in the description, button label `list_label`); beyond 10 only the first 10 rows are sent, since a
    list holds at most 10 rows in all. No buttons at all leaves plain text. A payload longer than the id limit
    (256 for a button, 200 for a row) raises `ValueError`.
    """
    options = _unique_options(buttons)
    if not options:
        return text_messages(text)
    if len(options) <= BUTTONS_MAX:
        return _interactive_after_text(text, BUTTON_BODY_MAX, prompt, lambda body: _reply_buttons(body, options))
    return _interactive_after_text(text, LIST_BODY_MAX, prompt, lambda body: _list(body, options, list_label))


def media_kind_for(url: str) -> str:
    """The WhatsApp media type for a file, by its URL's extension: only JPEG/PNG images, MP4/3GPP video and the
    audio formats WhatsApp plays are sent as such; anything else goes as a document, which takes any file."""
    extension = posixpath.splitext(urlsplit(url).path)[1].lower()
    if extension in _IMAGE_EXTENSIONS:
        return "image"
    if extension in _VIDEO_EXTENSIONS:
        return "video"
    if extension in _AUDIO_EXTENSIONS:
        return "audio"
    return "document"


def _media_messages(kind: str, media: dict[str, str], caption: str | None) -> list[MessageBody]:
    """The media message, captioned when WhatsApp allows it for `kind` and the caption fits in 1,024
    characters; otherwise the caption follows as text messages."""
    caption = caption or ""
    if caption.strip() and kind not in _UNCAPTIONED_KINDS and len(caption) <= CAPTION_MAX:
        return [{"type": kind, kind: {**media, "caption": caption}}]
    return [{"type": kind, kind: media}, *text_messages(caption)]


def image_messages(url: str, caption: str | None = None) -> list[MessageBody]:
    """An image sent by link (Meta fetches and caches it for 10 minutes), with its caption."""
    return _media_messages("image", {"link": url}, caption)


def attachment_messages(url: str, caption: str | None = None) -> list[MessageBody]:
    """A file sent by link as the media type its extension calls for (`media_kind_for`); a document carries
    the file name from the URL path, which is what the guest sees instead of a preview."""
    kind = media_kind_for(url)
    media = {"link": url}
    filename = unquote(posixpath.basename(urlsplit(url).path))
    if kind == "document" and filename:
        media["filename"] = filename
    return _media_messages(kind, media, caption)


def uploaded_media_messages(
    kind: str, media_id: str, caption: str | None = None, filename: str | None = None
) -> list[MessageBody]:
    """A file uploaded to the Cloud API (`POST /{phone-number-id}/media`) sent by its media id as `kind`; a
    document carries `filename`, the name the guest sees; the caption follows as text where WhatsApp takes
    none (audio, sticker) or it is over 1,024 characters."""
    media = {"id": media_id}
    if kind == "document" and filename:
        media["filename"] = filename
    return _media_messages(kind, media, caption)


def sent_media(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """What file a business message body sends, for the agents' thread: its kind, media id or link, caption
    and file name; None for a message that is no media (text, template, interactive...)."""
    kind = body.get("type")
    media = body.get(kind) if kind in _MEDIA_KINDS else None
    if not isinstance(media, Mapping):
        return None
    return {key: media.get(key) for key in ("id", "link", "caption", "filename")} | {"kind": kind}


def custom_message(custom: Any) -> MessageBody:
    """Rasa's `custom` payload passed through as a Cloud API message object, e.g. `{"type": "location",
    "location": {...}}`; anything else raises `ValueError` saying what is expected. Only the shape is checked:
    the Cloud API validates the content."""
    if not isinstance(custom, Mapping):
        raise ValueError(
            f"a WhatsApp custom message must be a JSON object like "
            f'{{"type": "location", "location": {{...}}}}, not {type(custom).__name__}'
        )
    kind = custom.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValueError('a WhatsApp custom message needs a "type" naming its message object, e.g. "location"')
    if not isinstance(custom.get(kind), Mapping | list):
        raise ValueError(f'a WhatsApp custom message of type "{kind}" needs a "{kind}" object')
    return dict(custom)


def template_message(name: str, language: str, body_parameters: Sequence[str] = ()) -> MessageBody:
    """A template with positional body parameters ({{1}}, {{2}}...). The language code is normalised to
    Meta's `ll_CC` form (`en-US` -> `en_US`), as the code must match an approved translation exactly."""
    template: dict[str, Any] = {"name": name, "language": {"code": language.replace("-", "_")}}
    if body_parameters:
        parameters = [{"type": "text", "text": value} for value in body_parameters]
        template["components"] = [{"type": "body", "parameters": parameters}]
    return {"type": "template", "template": template}


class PhoneNumberRequiredError(ValueError):
    """A message that WhatsApp delivers to phone numbers only, addressed to a guest known only by a
    business-scoped user id: refused before the send, where the Cloud API would answer 131062."""


def check_template_recipient(category: str, to: str) -> None:
    """Refuse (`PhoneNumberRequiredError`) a template of `category` for the guest `to` when Meta cannot
    deliver it there: an authentication template to a business-scoped user id. Everything else passes."""
    if category.upper() in _PHONE_ONLY_CATEGORIES and is_bsuid(to):
        raise PhoneNumberRequiredError(
            f"a {category.lower()} template needs the guest's phone number, and this guest is known only by a "
            f"business-scoped user id (WhatsApp would refuse it with 131062): ask for their number first"
        )


def addressed(
    body: Mapping[str, Any],
    to: str,
    context_message_id: str | None = None,
    callback_data: str | None = None,
) -> MessageBody:
    """The full send request for `body` to the guest `to`: optionally as a quoted reply to
    `context_message_id`, and with `callback_data` that Meta echoes in the statuses. A guest `to` written as a
    business-scoped user id (`cloudapi.user_ids.is_bsuid`) is addressed by `recipient`, as Meta asks; a phone
    number by `to`. Addressing keys inside `body` are ignored: a bot's custom payload must never choose its own
    recipient."""
    recipient_key = "recipient" if is_bsuid(to) else "to"
    message: MessageBody = {"messaging_product": "whatsapp", "recipient_type": "individual", recipient_key: to}
    message.update((key, value) for key, value in body.items() if key not in _ADDRESSING_KEYS)
    if context_message_id:
        message["context"] = {"message_id": context_message_id}
    if callback_data:
        message["biz_opaque_callback_data"] = callback_data
    return message
