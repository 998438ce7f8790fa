"""Settings of the automations API and its outbound queue, read once from the environment.

Kept beside `settings.GatewaySettings` (which holds them as `settings.automation`) so the queue's knobs live
in one frozen object with one validation, and the channel's own settings stay as they were.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

DATA_FOLDER = Path(__file__).resolve().parents[1] / "costs" / "data"
"""The rate card, pricing rules and markets shipped with the costs package."""
MAX_THROUGHPUT = 1000
"""Meta's highest per-number throughput (messages per second) for unlimited portfolios (WHATSAPP.md §5)."""


class AutomationSettingsError(ValueError):
    """An automation setting the gateway cannot start with; the message names the variable."""


@dataclass(frozen=True)
class AutomationSettings:
    throughput_per_second: int = 80
    """Sends per second per business number unless `throughput_overrides` names the number."""
    throughput_overrides: Mapping[str, int] = field(default_factory=dict)
    pair_burst: int = 45
    """Messages one guest may get in a burst from one number before the pair rate applies (131056 beyond)."""
    pair_interval_seconds: float = 6.0
    redis_url: str | None = None
    """Redis shared by every gateway process for the rate limits; the database when unset."""
    marketing_budgets: Mapping[str, Decimal] = field(default_factory=dict)
    """Monthly marketing spend allowed per business number, in the rate card's currency."""
    rate_card_path: Path = DATA_FOLDER / "rate_card.csv"
    pricing_rules_path: Path = DATA_FOLDER / "pricing_rules.csv"
    markets_path: Path = DATA_FOLDER / "markets.csv"
    sync_templates: bool = True
    """Fetch every hotel's template catalog from the management API when the gateway starts."""
    max_attempts: int = 8
    """Sends of one queued message that met a retryable error before it is recorded as failed."""

    def throughput_of(self, business_id: str) -> int:
        return self.throughput_overrides.get(business_id, self.throughput_per_second)


def load_automation_settings(environ: Mapping[str, str] = os.environ) -> AutomationSettings:
    """The automation settings from the environment; raises `AutomationSettingsError` naming the variable."""
    values: dict[str, object] = {}
    if environ.get("GATEWAY_THROUGHPUT_PER_SECOND"):
        values["throughput_per_second"] = _throughput(
            environ["GATEWAY_THROUGHPUT_PER_SECOND"], "GATEWAY_THROUGHPUT_PER_SECOND"
        )
    if environ.get("GATEWAY_THROUGHPUT_OVERRIDES"):
        values["throughput_overrides"] = {
            number: _throughput(value, f"GATEWAY_THROUGHPUT_OVERRIDES ({number})")
            for number, value in _pairs(environ["GATEWAY_THROUGHPUT_OVERRIDES"], "GATEWAY_THROUGHPUT_OVERRIDES")
        }
    if environ.get("GATEWAY_PAIR_BURST"):
        values["pair_burst"] = _positive_int(environ["GATEWAY_PAIR_BURST"], "GATEWAY_PAIR_BURST")
    if environ.get("GATEWAY_PAIR_INTERVAL_SECONDS"):
        values["pair_interval_seconds"] = _positive_float(
            environ["GATEWAY_PAIR_INTERVAL_SECONDS"], "GATEWAY_PAIR_INTERVAL_SECONDS"
        )
    if environ.get("GATEWAY_REDIS_URL"):
        url = environ["GATEWAY_REDIS_URL"]
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise AutomationSettingsError(f"GATEWAY_REDIS_URL={url!r} must be a redis:// or rediss:// URL")
        values["redis_url"] = url
    if environ.get("GATEWAY_MARKETING_BUDGETS"):
        values["marketing_budgets"] = {
            number: _amount(value, f"GATEWAY_MARKETING_BUDGETS ({number})")
            for number, value in _pairs(environ["GATEWAY_MARKETING_BUDGETS"], "GATEWAY_MARKETING_BUDGETS")
        }
    for name, variable in (
        ("rate_card_path", "GATEWAY_RATE_CARD"),
        ("pricing_rules_path", "GATEWAY_PRICING_RULES"),
        ("markets_path", "GATEWAY_MARKETS"),
    ):
        if environ.get(variable):
            path = Path(environ[variable])
            if not path.is_file():
                raise AutomationSettingsError(f"{variable}={path} is not a file")
            values[name] = path
    if environ.get("GATEWAY_SYNC_TEMPLATES"):
        values["sync_templates"] = environ["GATEWAY_SYNC_TEMPLATES"].strip().lower() in ("1", "true", "yes", "on")
    if environ.get("GATEWAY_SEND_MAX_ATTEMPTS_QUEUED"):
        values["max_attempts"] = _positive_int(
            environ["GATEWAY_SEND_MAX_ATTEMPTS_QUEUED"], "GATEWAY_SEND_MAX_ATTEMPTS_QUEUED"
        )
    return AutomationSettings(**values)  # type: ignore[arg-type]


def _pairs(spec: str, variable: str) -> list[tuple[str, str]]:
    """`1000000001:1000,1000000002:200` as pairs."""
    pairs = []
    for entry in (item.strip() for item in spec.split(",")):
        if not entry:
            continue
        number, separator, value = entry.partition(":")
        if not separator or not number.strip() or not value.strip():
            raise AutomationSettingsError(f"{variable}: entry {entry!r} must read <phone_number_id>:<value>")
        pairs.append((number.strip(), value.strip()))
    return pairs


def _positive_int(raw: str, variable: str) -> int:
    try:
        value = int(raw)
    except ValueError as error:
        raise AutomationSettingsError(f"{variable}={raw!r} is not a whole number") from error
    if value < 1:
        raise AutomationSettingsError(f"{variable}={raw!r} must be at least 1")
    return value


def _positive_float(raw: str, variable: str) -> float:
    try:
        value = float(raw)
    except ValueError as error:
        raise AutomationSettingsError(f"{variable}={raw!r} is not a number") from error
    if value <= 0:
        raise AutomationSettingsError(f"{variable}={raw!r} must be above 0")
    return value


def _throughput(raw: str, variable: str) -> int:
    value = _positive_int(raw, variable)
    if value > MAX_THROUGHPUT:
        raise AutomationSettingsError(f"{variable}={raw!r}: WhatsApp allows at most {MAX_THROUGHPUT} messages/s")
    return value


def _amount(raw: str, variable: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation as error:
        raise AutomationSettingsError(f"{variable}={raw!r} is not an amount") from error
    if value < 0:
        raise AutomationSettingsError(f"{variable}={raw!r} must not be negative")
    return value
