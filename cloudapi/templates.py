"""Message templates as WhatsApp defines them: one language version as the management API lists it, and the
checks the Cloud API makes of a send's body parameters.

Pure. The checks run before a message is queued or sent, so a 132000 (parameter count) or 132005 (hydrated
body too long) never reaches the API (WHATSAPP.md §5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TEMPLATE_BODY_MAX", "CatalogTemplate", "parameter_problems", "render"]

TEMPLATE_BODY_MAX = 1024
"""A template's body after substitution (WHATSAPP.md §5; 132005 beyond)."""

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class CatalogTemplate:
    """One language version of a template as the management API lists it."""

    name: str
    language: str
    category: str
    status: str
    body: str = ""

    @property
    def approved(self) -> bool:
        return self.status.upper() == "APPROVED"

    @property
    def parameter_count(self) -> int:
        """How many body parameters a send must carry: the highest `{{n}}` in the body."""
        return max((int(n) for n in _PLACEHOLDER.findall(self.body)), default=0)

    @classmethod
    def from_graph(cls, item: Mapping[str, Any]) -> CatalogTemplate:
        """From one entry of `GET /{waba_id}/message_templates` (Meta's shape, body in a BODY component)."""
        body = next(
            (str(c.get("text", "")) for c in item.get("components") or [] if str(c.get("type", "")).upper() == "BODY"),
            str(item.get("body", "")),
        )
        return cls(
            name=str(item["name"]),
            language=str(item["language"]),
            category=str(item.get("category", "UTILITY")).upper(),
            status=str(item.get("status", "")).upper(),
            body=body,
        )


_SPACES = re.compile(r" {5,}")


def parameter_problems(template: CatalogTemplate, parameters: Sequence[str]) -> list[str]:
    """Every reason the Cloud API would refuse these body parameters for `template`, in words a caller can
    act on; empty when they fit."""
    where = f"template {template.name} ({template.language})"
    problems = []
    if len(parameters) != template.parameter_count:
        problems.append(f"{where} takes {template.parameter_count} body parameters, not {len(parameters)}")
    for position, value in enumerate(parameters, start=1):
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: parameter {position} must be non-empty text")
        elif "\n" in value or "\t" in value or _SPACES.search(value):
            problems.append(f"{where}: parameter {position} may not hold new lines, tabs or over 4 spaces in a row")
    if not problems and len(render(template.body, parameters)) > TEMPLATE_BODY_MAX:
        problems.append(f"{where}: the body with these parameters is over {TEMPLATE_BODY_MAX} characters")
    return problems


def render(body: str, parameters: Sequence[str]) -> str:
    """The body as the guest reads it."""
    return _PLACEHOLDER.sub(
        lambda m: parameters[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(parameters) else m.group(0), body
    )
