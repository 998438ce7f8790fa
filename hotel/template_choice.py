"""What to send for a purpose: free text while the customer service window is open, an approved template
in the guest's language once it has lapsed.

One pure function, `choose_message`, shared by the actions (a reminder delivered through `trigger_intent`, a
reply after the guest's last message is over 24 hours old) and the gateway's automations API, so both decide
the same way. No rasa-sdk import: the gateway loads this module too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cloudapi.outbound import template_message
from cloudapi.templates import CatalogTemplate


@dataclass(frozen=True)
class PurposeSpec:
    """A purpose's template, the values it needs in the template's parameter order, and the same message as
    free text in each language (for an open window, where a template would be billed for nothing)."""

    template: str
    parameters: tuple[str, ...]
    free_text: Mapping[str, str]


PURPOSES: Final[Mapping[str, PurposeSpec]] = {
    "reservation_reminder": PurposeSpec(
        "reservation_reminder",
        ("guest_name", "arrival_date", "hotel_name"),
        {
            "es": "Hola {guest_name}, le recordamos su llegada el {arrival_date} a {hotel_name}. "
            "Si necesita algo antes de llegar, escríbanos por aquí.",
            "en": "Hello {guest_name}, a reminder of your arrival on {arrival_date} at {hotel_name}. "
            "If you need anything before you arrive, just write to us here.",
        },
    ),
    "payment_request": PurposeSpec(
        "payment_request",
        ("guest_name", "amount_pending", "payment_link"),
        {
            "es": "Hola {guest_name}, su reserva tiene un pago pendiente de {amount_pending}. "
            "Puede completarlo aquí: {payment_link}",
            "en": "Hello {guest_name}, your reservation has a pending payment of {amount_pending}. "
            "You can complete it here: {payment_link}",
        },
    ),
    "checkin_instructions": PurposeSpec(
        "checkin_instructions",
        ("guest_name", "check_in_time", "hotel_address"),
        {
            "es": "Hola {guest_name}, hoy le esperamos. El check-in es a partir de las {check_in_time} "
            "en {hotel_address}. ¡Buen viaje!",
            "en": "Hello {guest_name}, we look forward to welcoming you today. Check-in is from {check_in_time} "
            "at {hotel_address}. Safe travels!",
        },
    ),
    "reopen_conversation": PurposeSpec(
        "reopen_conversation",
        ("guest_name", "hotel_name"),
        {
            "es": "Hola {guest_name}, en {hotel_name} tenemos una respuesta a su consulta.",
            "en": "Hello {guest_name}, {hotel_name} has an answer to your question.",
        },
    ),
    "winter_offer": PurposeSpec(
        "winter_offer",
        ("guest_name", "discount_percent"),
        {
            "es": "Hola {guest_name}, este invierno le ofrecemos un {discount_percent} % de descuento en su "
            "próxima estancia. ¿Le interesa?",
            "en": "Hello {guest_name}, this winter we offer you {discount_percent}% off your next stay. Interested?",
        },
    ),
}


@dataclass(frozen=True)
class FreeText:
    """Send this as a text message: the window is open."""

    text: str

    def message(self) -> dict[str, Any]:
        return {"type": "text", "text": {"body": self.text, "preview_url": True}}


@dataclass(frozen=True)
class TemplateChoice:
    """Send this approved template, with its body parameters in order."""

    name: str
    language: str
    category: str
    parameters: tuple[str, ...]

    def message(self) -> dict[str, Any]:
        """The Cloud API message object (without `to`), for the Sender or a Rasa `custom` response."""
        return template_message(self.name, self.language, self.parameters)


class ChoiceError(LookupError):
    """No message can be sent for this purpose; `reason` says why in words an API caller can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def choose_message(
    purpose: str,
    language: str,
    window_open: bool,
    catalog: Iterable[CatalogTemplate],
    values: Mapping[str, Any],
) -> FreeText | TemplateChoice:
    """Free text in `language` while the window is open; outside it the purpose's approved template in the
    guest's language, or in the other one when only that is approved (a message the guest can read in a
    second language beats none). Raises `ChoiceError` for an unknown purpose, a missing value, or no
    approved template."""
    spec = PURPOSES.get(purpose)
    if spec is None:
        raise ChoiceError(f"unknown purpose {purpose!r}; one of: {', '.join(PURPOSES)}")
    missing = [name for name in spec.parameters if values.get(name) in (None, "")]
    if missing:
        raise ChoiceError(f"purpose {purpose!r} needs {', '.join(missing)}")
    ordered = tuple(str(values[name]) for name in spec.parameters)
    if window_open:
        text_language = language if language in spec.free_text else "en"
        return FreeText(spec.free_text[text_language].format(**dict(zip(spec.parameters, ordered, strict=True))))
    versions = {t.language: t for t in catalog if t.name == spec.template and t.approved}
    for candidate in (language, "en", "es", *sorted(versions)):
        template = versions.get(candidate)
        if template is not None:
            return TemplateChoice(template.name, template.language, template.category, ordered)
    raise ChoiceError(
        f"the window is closed and template {spec.template!r} has no APPROVED version; "
        "approve it in WhatsApp Manager or wait until the guest writes"
    )
