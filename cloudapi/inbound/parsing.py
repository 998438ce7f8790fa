"""Webhook POST bodies parsed into the values of `cloudapi.inbound.messages` and `.account_updates`.

Meta may batch many updates in one POST (`entry[] x changes[] x messages|statuses|errors[]`), adds fields
and message types without notice and, rarely, sends something malformed. The parser therefore reads every
item, and never raises: what it cannot read becomes an `UnknownChange` (a whole change or a broken item) or
an `Unknown` content (a message whose type or content is new), keeping the raw JSON so that nothing Meta sent
is lost. Apart from that raw JSON, everything that leaves this module is typed.

This module walks the delivery and reads the fields that concern guests: `messages` (messages, statuses and
errors) and `user_preferences`; a message's content is `content_parsing`, the template and account fields
`account_parsing`. From 2026 a guest may be known by a phone number, a business-scoped user id, or both, in
the item itself or only in the change's `contacts[]`: `_guest` puts them together.
"""

from collections.abc import Iterator, Mapping
from typing import Any, Final, NamedTuple, TypeVar

from cloudapi.errors import parse_error_info
from cloudapi.inbound.account_parsing import ACCOUNT_FIELDS, parse_account_change
from cloudapi.inbound.account_updates import (
    AccountUpdate,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
    UserPreference,
)
from cloudapi.inbound.content_parsing import parse_content
from cloudapi.inbound.messages import (
    Conversation,
    DeliveryStatus,
    InboundMessage,
    MessageContext,
    Pricing,
    Referral,
    ReferredProduct,
    StatusUpdate,
    UnknownChange,
    WebhookBatch,
    WebhookError,
)
from cloudapi.inbound.readers import (
    read_bool,
    read_errors,
    read_first_str,
    read_int,
    read_list,
    read_object,
    read_str,
)

# --- the parts of a message around its content --------------------------------------------------------------


def _parse_context(item: Mapping[str, Any]) -> MessageContext | None:
    context = item.get("context")
    if not isinstance(context, Mapping):
        return None
    product = context.get("referred_product")
    return MessageContext(
        message_id=read_str(context, "id"),
        sender=read_str(context, "from"),
        forwarded=read_bool(context, "forwarded") is True,
        frequently_forwarded=read_bool(context, "frequently_forwarded") is True,
        referred_product=(
            ReferredProduct(read_str(product, "catalog_id"), read_str(product, "product_retailer_id"))
            if isinstance(product, Mapping)
            else None
        ),
    )


def _parse_referral(item: Mapping[str, Any]) -> Referral | None:
    referral = item.get("referral")
    if not isinstance(referral, Mapping):
        return None
    return Referral(
        source_url=read_str(referral, "source_url"),
        source_type=read_str(referral, "source_type"),
        source_id=read_str(referral, "source_id"),
        headline=read_str(referral, "headline"),
        body=read_str(referral, "body"),
        media_type=read_str(referral, "media_type"),
        ctwa_clid=read_str(referral, "ctwa_clid"),
    )


# --- who the guest is ------------------------------------------------------------------------------------------


class _Guest(NamedTuple):
    """Who a guest is: a `contacts[]` entry of a change, or the identity of a message's or preference's guest.
    `username` sits in `profile` in Meta's webhooks, beside the entry in some partners' pages: both are read."""

    wa_id: str | None
    user_id: str | None
    parent_user_id: str | None = None
    name: str | None = None
    username: str | None = None

    def completed_by(self, profile: "_Guest | None") -> "_Guest":
        """This identity, with what it lacks taken from the guest's contacts entry (and its names)."""
        if profile is None:
            return self
        return _Guest(
            wa_id=self.wa_id or profile.wa_id,
            user_id=self.user_id or profile.user_id,
            parent_user_id=self.parent_user_id or profile.parent_user_id,
            name=profile.name,
            username=profile.username,
        )


def _profiles(value: Mapping[str, Any]) -> list[_Guest]:
    contacts = (raw for raw in read_list(value, "contacts") if isinstance(raw, Mapping))
    return [
        _Guest(
            wa_id=read_str(raw, "wa_id"),
            user_id=read_str(raw, "user_id"),
            parent_user_id=read_str(raw, "parent_user_id"),
            name=read_str(read_object(raw, "profile"), "name"),
            username=read_str(read_object(raw, "profile"), "username") or read_str(raw, "username"),
        )
        for raw in contacts
    ]


def _matching_profile(profiles: list[_Guest], identity: _Guest) -> _Guest | None:
    """The guest's contacts entry, matched by wa_id or business-scoped user id; when the item names neither,
    a lone entry can only be its guest."""
    wa_id, user_id = identity.wa_id, identity.user_id
    for profile in profiles:
        if (wa_id and profile.wa_id == wa_id) or (user_id and profile.user_id == user_id):
            return profile
    if wa_id is None and user_id is None and len(profiles) == 1:
        return profiles[0]
    return None


def _guest(item: Mapping[str, Any], profiles: list[_Guest]) -> _Guest:
    """The guest of a message: `from`, `from_user_id` and `from_parent_user_id`, completed and named from the
    contacts entry. A `user_changed_user_id` notice may name the guest only by `system.previous_user_id`."""
    user_id = read_str(item, "from_user_id")
    if user_id is None and item.get("type") == "system":
        user_id = read_str(read_object(item, "system"), "previous_user_id")
    identity = _Guest(read_str(item, "from"), user_id, read_str(item, "from_parent_user_id"))
    return identity.completed_by(_matching_profile(profiles, identity))


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
            waba_id=read_str(entry, "id"),
            time=read_int(entry, "time"),
            field=field if isinstance(field, str) else None,
            path=change_path,
            value=change.get("value"),
        )


# --- the items of a change ---------------------------------------------------------------------------------------


def _parse_message(
    item: Any, change: _Change, metadata: Mapping[str, Any], profiles: list[_Guest]
) -> InboundMessage | str:
    """The message, or the reason it cannot be one."""
    if not isinstance(item, Mapping):
        return "message is not an object"
    phone_number_id = read_str(metadata, "phone_number_id")
    message_id, timestamp, message_type = read_str(item, "id"), read_int(item, "timestamp"), read_str(item, "type")
    guest = _guest(item, profiles)
    if phone_number_id is None or message_id is None or timestamp is None or message_type is None:
        return "message lacks metadata.phone_number_id, id, timestamp or type"
    if guest.wa_id is None and guest.user_id is None:
        return "message names no sender (from, from_user_id or contacts)"
    return InboundMessage(
        waba_id=change.waba_id,
        phone_number_id=phone_number_id,
        display_phone_number=read_str(metadata, "display_phone_number"),
        wa_id=guest.wa_id,
        user_id=guest.user_id,
        profile_name=guest.name,
        message_id=message_id,
        timestamp=timestamp,
        type=message_type,
        content=parse_content(message_type, item),
        context=_parse_context(item),
        referral=_parse_referral(item),
        errors=read_errors(item),
        username=guest.username,
        parent_user_id=guest.parent_user_id,
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
        id=read_str(conversation, "id"),
        expiration_timestamp=read_int(conversation, "expiration_timestamp"),
        origin_type=read_str(read_object(conversation, "origin"), "type"),
    )


def parse_pricing(pricing: Any) -> Pricing | None:
    """A pricing object, from a status webhook or as the gateway stored it (`Pricing.as_json`)."""
    if not isinstance(pricing, Mapping):
        return None
    return Pricing(
        billable=read_bool(pricing, "billable"),
        pricing_model=read_str(pricing, "pricing_model"),
        type=read_str(pricing, "type"),
        category=read_str(pricing, "category"),
    )


_RECIPIENT_PARENT_KEYS: Final = ("recipient_parent_user_id", "parent_recipient_user_id", "parent_user_id")
"""Meta's BSUID page names a status's parent id both `parent_recipient_user_id` and `parent_user_id`; partners'
pages and SDKs say `recipient_parent_user_id`. All three are read."""


def _parse_status(item: Any, change: _Change, metadata: Mapping[str, Any]) -> StatusUpdate | str:
    """The status, or the reason it cannot be one."""
    if not isinstance(item, Mapping):
        return "status is not an object"
    message_id, raw_status, timestamp = read_str(item, "id"), read_str(item, "status"), read_int(item, "timestamp")
    if message_id is None or raw_status is None or timestamp is None:
        return "status lacks id, status or timestamp"
    return StatusUpdate(
        waba_id=change.waba_id,
        phone_number_id=read_str(metadata, "phone_number_id"),
        message_id=message_id,
        status=_delivery_status(raw_status),
        raw_status=raw_status,
        timestamp=timestamp,
        recipient_id=read_str(item, "recipient_id"),
        biz_opaque_callback_data=read_str(item, "biz_opaque_callback_data"),
        conversation=_parse_conversation(item),
        pricing=parse_pricing(item.get("pricing")),
        errors=read_errors(item),
        recipient_user_id=read_str(item, "recipient_user_id"),
        recipient_parent_user_id=read_first_str(item, *_RECIPIENT_PARENT_KEYS),
    )


def _parse_value_error(item: Any, change: _Change, metadata: Mapping[str, Any]) -> WebhookError | str:
    info = parse_error_info(item)
    if info is None:
        return "error is not an object"
    return WebhookError(waba_id=change.waba_id, phone_number_id=read_str(metadata, "phone_number_id"), error=info)


def _parse_preference(
    item: Any, change: _Change, metadata: Mapping[str, Any], profiles: list[_Guest]
) -> UserPreference | str:
    """The preference, or the reason it cannot be one."""
    if not isinstance(item, Mapping):
        return "preference is not an object"
    category, value = read_str(item, "category"), read_str(item, "value")
    if category is None or value is None:
        return "preference lacks category or value"
    identity = _Guest(read_str(item, "wa_id"), read_str(item, "user_id"), read_str(item, "parent_user_id"))
    guest = identity.completed_by(_matching_profile(profiles, identity))
    if guest.wa_id is None and guest.user_id is None:
        return "preference names no guest (wa_id, user_id or contacts)"
    return UserPreference(
        waba_id=change.waba_id,
        phone_number_id=read_str(metadata, "phone_number_id"),
        wa_id=guest.wa_id,
        user_id=guest.user_id,
        category=category,
        value=value,
        detail=read_str(item, "detail"),
        timestamp=read_int(item, "timestamp"),
        parent_user_id=guest.parent_user_id,
    )


# --- one delivery ------------------------------------------------------------------------------------------------

_MESSAGES_KEYS: Final = ("messages", "statuses", "errors")
_Item = TypeVar("_Item", InboundMessage, StatusUpdate, WebhookError, UserPreference)


class _Collector:
    """Accumulates the parsed items of one delivery, in order."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.statuses: list[StatusUpdate] = []
        self.errors: list[WebhookError] = []
        self.template_updates: list[TemplateStatusUpdate] = []
        self.unknown: list[UnknownChange] = []
        self.preferences: list[UserPreference] = []
        self.template_quality_updates: list[TemplateQualityUpdate] = []
        self.template_category_updates: list[TemplateCategoryUpdate] = []
        self.account_updates: list[AccountUpdate] = []

    def batch(self) -> WebhookBatch:
        return WebhookBatch(
            messages=tuple(self.messages),
            statuses=tuple(self.statuses),
            errors=tuple(self.errors),
            template_updates=tuple(self.template_updates),
            unknown=tuple(self.unknown),
            preferences=tuple(self.preferences),
            template_quality_updates=tuple(self.template_quality_updates),
            template_category_updates=tuple(self.template_category_updates),
            account_updates=tuple(self.account_updates),
        )

    def add(self, change: _Change) -> None:
        """A change, by its field; one whose field is not handled is kept as unknown."""
        field = change.field
        if field == "messages":
            self._add_messages_change(change)
        elif field == "user_preferences":
            self._add_preferences_change(change)
        elif field is not None and field in ACCOUNT_FIELDS:
            self._add_account_change(change, field)
        else:
            self.unknown.append(UnknownChange(change.field, change.path, "field not handled", change.value))

    def _add_messages_change(self, change: _Change) -> None:
        """A `messages` change: any of messages[] (with contacts[]), statuses[] and errors[]."""
        value = change.value
        if not isinstance(value, Mapping) or not any(isinstance(value.get(k), list) for k in _MESSAGES_KEYS):
            self.unknown.append(UnknownChange(change.field, change.path, "no messages, statuses or errors", value))
            return
        metadata, profiles = read_object(value, "metadata"), _profiles(value)
        for index, item in enumerate(read_list(value, "messages")):
            parsed = _parse_message(item, change, metadata, profiles)
            self._keep(self.messages, parsed, change, f"messages[{index}]", item)
        for index, item in enumerate(read_list(value, "statuses")):
            self._keep(self.statuses, _parse_status(item, change, metadata), change, f"statuses[{index}]", item)
        for index, item in enumerate(read_list(value, "errors")):
            self._keep(self.errors, _parse_value_error(item, change, metadata), change, f"errors[{index}]", item)

    def _add_preferences_change(self, change: _Change) -> None:
        """A `user_preferences` change: user_preferences[] (with contacts[])."""
        value = change.value
        if not isinstance(value, Mapping) or not isinstance(value.get("user_preferences"), list):
            self.unknown.append(UnknownChange(change.field, change.path, "no user_preferences", value))
            return
        metadata, profiles = read_object(value, "metadata"), _profiles(value)
        for index, item in enumerate(value["user_preferences"]):
            parsed = _parse_preference(item, change, metadata, profiles)
            self._keep(self.preferences, parsed, change, f"user_preferences[{index}]", item)

    def _add_account_change(self, change: _Change, field: str) -> None:
        """A template or account change: one update per change."""
        parsed = parse_account_change(field, change.value, change.waba_id, change.time)
        if isinstance(parsed, str):
            self.unknown.append(UnknownChange(change.field, change.path, parsed, change.value))
        elif isinstance(parsed, TemplateStatusUpdate):
            self.template_updates.append(parsed)
        elif isinstance(parsed, TemplateQualityUpdate):
            self.template_quality_updates.append(parsed)
        elif isinstance(parsed, TemplateCategoryUpdate):
            self.template_category_updates.append(parsed)
        else:
            self.account_updates.append(parsed)

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
        else:
            collector.add(change)
    return collector.batch()
