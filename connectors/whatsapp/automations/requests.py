"""The automations API's request bodies, read into frozen requests with every problem listed. Pure.

A message names the business number, the guest (any human format), and exactly one of: a `purpose` with its
`parameters` (the gateway picks free text or the approved template), an explicit `template`, or `text`.
Optional: `language`, `send_at` (ISO 8601 with an offset), `urgent`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudapi.phones import GuestNumber, NumberError, parse_guest
from connectors.whatsapp.api.limits import BATCH_MAX, LANGUAGE_MAX, TEXT_MAX
from hotel.template_choice import PURPOSES

__all__ = ["MessageRequest", "Problem", "Refusal", "TemplateRequest", "read_batch", "read_message"]


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass(frozen=True)
class Refusal:
    """Why a message cannot be accepted: `status` 409 (its circumstances) or 422 (the request itself)."""

    status: int
    code: str
    message: str


@dataclass(frozen=True)
class TemplateRequest:
    name: str
    language: str
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class MessageRequest:
    business_id: str
    guest: GuestNumber
    purpose: str | None
    purpose_values: Mapping[str, str] | None
    template: TemplateRequest | None
    text: str | None
    language: str | None
    send_at: float | None
    urgent: bool


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_message(
    raw: Any, known_businesses: Mapping[str, object], where: str = "", business_id: str | None = None
) -> MessageRequest | list[Problem]:
    """The request in `raw`, or every problem with it. `where` prefixes field names (`messages[3].`);
    `business_id` is the batch's number when the item names none."""
    if not isinstance(raw, Mapping):
        return [Problem(where.rstrip(".") or "body", "must be a JSON object")]
    problems: list[Problem] = []
    business = _text(raw.get("business")) or business_id
    if business is None:
        problems.append(Problem(f"{where}business", "required: the hotel's business phone_number_id"))
    elif business not in known_businesses:
        problems.append(
            Problem(
                f"{where}business", f"{business!r} is not a hotel of this gateway; one of {sorted(known_businesses)}"
            )
        )
    guest: GuestNumber | None = None
    to = raw.get("to")
    if not isinstance(to, str | int) or not str(to).strip():
        problems.append(
            Problem(
                f"{where}to",
                "required: the guest's number with its country code, e.g. +34 612 34 56 78, or their WhatsApp user id",
            )
        )
    else:
        try:
            guest = parse_guest(str(to))
        except NumberError as error:
            problems.append(Problem(f"{where}to", str(error)))
    chosen = [key for key in ("purpose", "template", "text") if raw.get(key) not in (None, "")]
    if len(chosen) != 1:
        problems.append(
            Problem(
                where.rstrip(".") or "body", f"give exactly one of purpose, template or text (got {chosen or 'none'})"
            )
        )
    purpose, values = _purpose(raw, where, problems)
    template = _template(raw.get("template"), where, problems) if "template" in chosen else None
    text = raw.get("text")
    if "text" in chosen:
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(f"{where}text", "must be non-empty text"))
        elif len(text) > TEXT_MAX:
            problems.append(Problem(f"{where}text", f"is {len(text)} characters; WhatsApp takes at most {TEXT_MAX}"))
    language = raw.get("language")
    if language is not None and (not isinstance(language, str) or not 2 <= len(language) <= LANGUAGE_MAX):
        problems.append(Problem(f"{where}language", "must be a language code such as es or en"))
    send_at = _send_at(raw.get("send_at"), where, problems)
    urgent = raw.get("urgent", False)
    if not isinstance(urgent, bool):
        problems.append(Problem(f"{where}urgent", "must be true or false"))
    if problems or guest is None or business is None:
        return problems
    return MessageRequest(
        business_id=business,
        guest=guest,
        purpose=purpose if "purpose" in chosen else None,
        purpose_values=values if "purpose" in chosen else None,
        template=template,
        text=text if "text" in chosen else None,
        language=language,
        send_at=send_at,
        urgent=urgent,
    )


def _purpose(raw: Mapping[str, Any], where: str, problems: list[Problem]) -> tuple[str | None, dict[str, str] | None]:
    purpose = raw.get("purpose")
    if purpose in (None, ""):
        return None, None
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        problems.append(Problem(f"{where}purpose", f"unknown purpose {purpose!r}; one of {sorted(PURPOSES)}"))
        return None, None
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, Mapping):
        problems.append(
            Problem(f"{where}parameters", f"must be an object with {', '.join(PURPOSES[purpose].parameters)}")
        )
        return purpose, None
    values: dict[str, str] = {}
    for name in PURPOSES[purpose].parameters:
        value = parameters.get(name)
        if not isinstance(value, str | int | float) or isinstance(value, bool) or not str(value).strip():
            problems.append(Problem(f"{where}parameters.{name}", f"required by purpose {purpose}"))
        else:
            values[name] = str(value).strip()
    unknown = sorted(set(parameters) - set(PURPOSES[purpose].parameters))
    if unknown:
        problems.append(Problem(f"{where}parameters", f"purpose {purpose} takes no {', '.join(unknown)}"))
    return purpose, values


def _template(raw: Any, where: str, problems: list[Problem]) -> TemplateRequest | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem(f"{where}template", "must be an object: {name, language, parameters}"))
        return None
    name, language, parameters = raw.get("name"), raw.get("language"), raw.get("parameters", [])
    found = len(problems)
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(f"{where}template.name", "required"))
    if not isinstance(language, str) or not language.strip():
        problems.append(Problem(f"{where}template.language", "required, e.g. es or en"))
    if not isinstance(parameters, list) or not all(isinstance(p, str | int | float) for p in parameters):
        problems.append(Problem(f"{where}template.parameters", "must be a list of body parameters, in order"))
    if len(problems) > found:
        return None
    return TemplateRequest(name.strip(), language.strip(), tuple(str(p) for p in parameters))


def _send_at(raw: Any, where: str, problems: list[Problem]) -> float | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        problems.append(
            Problem(f"{where}send_at", "must be an ISO 8601 time with its offset, e.g. 2026-12-01T09:00:00+01:00")
        )
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        problems.append(Problem(f"{where}send_at", f"{raw!r} is not an ISO 8601 time"))
        return None
    if moment.tzinfo is None:
        problems.append(
            Problem(f"{where}send_at", f"{raw!r} has no offset: add Z or +01:00 so the time is unambiguous")
        )
        return None
    return moment.timestamp()


def read_batch(raw: Any, known_businesses: Mapping[str, object]) -> tuple[str, list[MessageRequest]] | list[Problem]:
    """A batch: `{"business", "messages": [...]}`, each message as for a single send (its `business` may be
    left out); `send_at` and `urgent` at the top apply to messages that give none."""
    if not isinstance(raw, Mapping):
        return [Problem("body", "must be a JSON object: {business, messages: [...]}")]
    problems: list[Problem] = []
    business = _text(raw.get("business"))
    if business is None or business not in known_businesses:
        problems.append(Problem("business", f"required: one of {sorted(known_businesses)}"))
    items = raw.get("messages")
    if not isinstance(items, list) or not items:
        problems.append(Problem("messages", "must be a non-empty list of messages"))
        return problems
    if len(items) > BATCH_MAX:
        problems.append(Problem("messages", f"{len(items)} messages; a batch holds at most {BATCH_MAX}"))
        return problems
    shared = {key: raw[key] for key in ("send_at", "urgent") if key in raw}
    requests: list[MessageRequest] = []
    for index, item in enumerate(items):
        merged = {**shared, **item} if isinstance(item, Mapping) else item
        if isinstance(merged, Mapping) and merged.get("business") not in (None, business):
            problems.append(
                Problem(f"messages[{index}].business", "every message of a batch is from the batch's business")
            )
            continue
        read = read_message(merged, known_businesses, f"messages[{index}].", business)
        if isinstance(read, list):
            problems.extend(read)
        else:
            requests.append(read)
    if problems or business is None:
        return problems
    return business, requests
