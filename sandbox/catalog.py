"""What Meta knows about the business: its accounts, phone numbers, approved templates and sample guests.

Loaded from `sandbox/data/catalog.json` (the facts of HOTELS.md). Template statuses can change while the
sandbox runs (a test pauses a template), so the catalog keeps templates in a dict it replaces entries of;
every value in it is frozen.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_CATALOG = Path(__file__).parent / "data" / "catalog.json"
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
TEMPLATE_STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")


@dataclass(frozen=True)
class PhoneNumber:
    id: str
    display_phone_number: str
    verified_name: str
    waba_id: str


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    language: str
    category: str
    status: str
    body: str
    example: tuple[str, ...] = ()
    quick_replies: tuple[str, ...] = ()
    waba_id: str = ""

    @property
    def parameter_count(self) -> int:
        return len(set(PLACEHOLDER.findall(self.body)))

    def render(self, parameters: list[str]) -> str:
        """The body text the guest reads, parameters substituted by position."""
        return PLACEHOLDER.sub(lambda m: parameters[int(m.group(1)) - 1], self.body)

    def management_view(self) -> dict[str, Any]:
        """The template as `GET /{waba_id}/message_templates` lists it."""
        components: list[dict[str, Any]] = [
            {"type": "BODY", "text": self.body, "example": {"body_text": [list(self.example)]}}
        ]
        if self.quick_replies:
            components.append(
                {
                    "type": "BUTTONS",
                    "buttons": [{"type": "QUICK_REPLY", "text": t} for t in self.quick_replies],
                }
            )
        return {
            "name": self.name,
            "parameter_format": "POSITIONAL",
            "components": components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        }


@dataclass(frozen=True)
class Guest:
    """A sample guest the guest page offers: by phone number, or by BSUID for one who has a username."""

    name: str
    wa_id: str | None = None
    user_id: str | None = None
    username: str | None = None

    def to_json(self) -> dict[str, str]:
        """As `/sandbox/config` lists it: the ids and username the guest has, and the name."""
        ids = {"wa_id": self.wa_id, "user_id": self.user_id, "username": self.username}
        return {**{k: v for k, v in ids.items() if v}, "name": self.name}


class Catalog:
    """Phone numbers, templates and sample guests, looked up the way the Graph API needs them."""

    def __init__(
        self,
        numbers: dict[str, PhoneNumber],
        templates: dict[tuple[str, str, str], Template],
        guests: tuple[Guest, ...],
        waba_names: dict[str, str],
    ) -> None:
        self.numbers = numbers
        self._templates = templates
        self.guests = guests
        self.waba_names = waba_names

    @classmethod
    def load(cls, path: Path = DEFAULT_CATALOG) -> Catalog:
        raw = json.loads(path.read_text(encoding="utf-8"))
        numbers: dict[str, PhoneNumber] = {}
        templates: dict[tuple[str, str, str], Template] = {}
        waba_names: dict[str, str] = {}
        for account in raw["business_accounts"]:
            waba_id = account["id"]
            waba_names[waba_id] = account["name"]
            for number in account["phone_numbers"]:
                numbers[number["id"]] = PhoneNumber(waba_id=waba_id, **number)
            for t in account["templates"]:
                template = Template(
                    waba_id=waba_id,
                    **{
                        **t,
                        "example": tuple(t.get("example", ())),
                        "quick_replies": tuple(t.get("quick_replies", ())),
                    },
                )
                templates[(waba_id, template.name, template.language)] = template
        guests = tuple(Guest(**g) for g in raw.get("guests", ()))
        return cls(numbers, templates, guests, waba_names)

    def number(self, phone_number_id: str) -> PhoneNumber | None:
        return self.numbers.get(phone_number_id)

    def number_by_display(self, display: str) -> PhoneNumber | None:
        return next((n for n in self.numbers.values() if n.display_phone_number == display), None)

    def template(self, waba_id: str, name: str, language: str) -> Template | None:
        return self._templates.get((waba_id, name, language))

    def templates(self, waba_id: str) -> list[Template]:
        return [t for (w, _, _), t in self._templates.items() if w == waba_id]

    def set_status(self, waba_id: str, name: str, language: str, status: str) -> Template:
        """Change a template's status (a test pausing or disabling it); KeyError if it is unknown."""
        key = (waba_id, name, language)
        updated = replace(self._templates[key], status=status)
        self._templates[key] = updated
        return updated

    def guest(self, any_id: str | None) -> Guest | None:
        """The sample guest with this phone number or BSUID."""
        return next((g for g in self.guests if any_id and any_id in (g.wa_id, g.user_id)), None)
