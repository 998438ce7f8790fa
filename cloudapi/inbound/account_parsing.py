"""The values of the account and template webhook fields, read into `cloudapi.inbound.account_updates`.

One reader per field: `message_template_status_update`, `message_template_quality_update`,
`template_category_update` and `account_update`. Each takes the change's `value` with the account id and the
entry's `time`, and gives the update, or the reason it cannot be one (the change then stays unknown, raw).
Meta's own quality-update reference shows its example under the field `message_template_status_update`, so a
status change that has no `event` but a `new_quality_score` is read as the quality update it is.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from cloudapi.inbound.account_updates import (
    AccountRestriction,
    AccountUpdate,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
    VolumeTier,
)
from cloudapi.inbound.readers import read_int, read_list, read_object, read_str

AccountChange = TemplateStatusUpdate | TemplateQualityUpdate | TemplateCategoryUpdate | AccountUpdate


def _template(value: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """The template a change is about: its id (a number in Meta's JSON), name and language."""
    return (
        read_str(value, "message_template_id"),
        read_str(value, "message_template_name"),
        read_str(value, "message_template_language"),
    )


def _quality_update(value: Mapping[str, Any], waba_id: str | None, time: int | None) -> TemplateQualityUpdate | str:
    new_score = read_str(value, "new_quality_score")
    if new_score is None:
        return "template quality update without new_quality_score"
    template_id, name, language = _template(value)
    return TemplateQualityUpdate(
        waba_id=waba_id,
        time=time,
        template_id=template_id,
        name=name,
        language=language,
        previous_score=read_str(value, "previous_quality_score"),
        new_score=new_score,
    )


def _status_update(
    value: Mapping[str, Any], waba_id: str | None, time: int | None
) -> TemplateStatusUpdate | TemplateQualityUpdate | str:
    event = read_str(value, "event")
    if event is None:
        if read_str(value, "new_quality_score") is not None:
            return _quality_update(value, waba_id, time)
        return "template update without event"
    template_id, name, language = _template(value)
    return TemplateStatusUpdate(
        waba_id=waba_id,
        time=time,
        event=event,
        template_id=template_id,
        name=name,
        language=language,
        reason=read_str(value, "reason"),
        category=read_str(value, "message_template_category"),
    )


def _category_update(value: Mapping[str, Any], waba_id: str | None, time: int | None) -> TemplateCategoryUpdate | str:
    new_category, correct_category = read_str(value, "new_category"), read_str(value, "correct_category")
    if new_category is None and correct_category is None:
        return "template category update without new_category or correct_category"
    template_id, name, language = _template(value)
    return TemplateCategoryUpdate(
        waba_id=waba_id,
        time=time,
        template_id=template_id,
        name=name,
        language=language,
        new_category=new_category,
        previous_category=read_str(value, "previous_category"),
        correct_category=correct_category,
        update_timestamp=read_int(value, "category_update_timestamp"),
    )


def _volume_tier(value: Mapping[str, Any]) -> VolumeTier | None:
    info = value.get("volume_tier_info")
    if not isinstance(info, Mapping):
        return None
    return VolumeTier(
        pricing_category=read_str(info, "pricing_category"),
        tier=read_str(info, "tier"),
        effective_month=read_str(info, "effective_month"),
        region=read_str(info, "region"),
        tier_update_time=read_int(info, "tier_update_time"),
    )


def _restrictions(value: Mapping[str, Any]) -> tuple[AccountRestriction, ...]:
    entries = (raw for raw in read_list(value, "restriction_info") if isinstance(raw, Mapping))
    return tuple(
        AccountRestriction(restriction_type, read_int(raw, "expiration"))
        for raw in entries
        if (restriction_type := read_str(raw, "restriction_type")) is not None
    )


def _account_update(value: Mapping[str, Any], waba_id: str | None, time: int | None) -> AccountUpdate | str:
    event = read_str(value, "event")
    if event is None:
        return "account update without event"
    ban = read_object(value, "ban_info")
    return AccountUpdate(
        waba_id=waba_id,
        time=time,
        event=event,
        raw=value,
        ban_state=read_str(ban, "waba_ban_state"),
        ban_date=read_str(ban, "waba_ban_date"),
        violation_type=read_str(read_object(value, "violation_info"), "violation_type"),
        restrictions=_restrictions(value),
        country=read_str(value, "country"),
        volume_tier=_volume_tier(value),
    )


_Reader = Callable[[Mapping[str, Any], str | None, int | None], AccountChange | str]

ACCOUNT_FIELDS: Final[Mapping[str, _Reader]] = MappingProxyType(
    {
        "message_template_status_update": _status_update,
        "message_template_quality_update": _quality_update,
        "template_category_update": _category_update,
        "account_update": _account_update,
    }
)
"""The webhook fields read here, each with its reader."""


def parse_account_change(field: str, value: Any, waba_id: str | None, time: int | None) -> AccountChange | str:
    """The update a change of one of `ACCOUNT_FIELDS` carries, or the reason it cannot be one."""
    if not isinstance(value, Mapping):
        return "value is not an object"
    return ACCOUNT_FIELDS[field](value, waba_id, time)
