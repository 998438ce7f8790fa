"""What an outbound message costs: a rate card and dated pricing rules kept as data, and pure functions over
them.

The rate card has the shape of Meta's quarterly CSV cards (market, category, rate, currency, effective date),
so a hotel drops the new card in each quarter; `markets.csv` maps a guest's country (from the calling code,
through `phonenumbers`) to Meta's market. Which messages are free is not an `if` on today's date: each rule is
a dated row of `pricing_rules.csv` (kind of message, window inside/outside, free / billed / free tier), and the
rule in force on the message's day decides. A rule for the `entry_point` window (a free entry point, see
`window`) comes before the others for a message inside one, and a rule of kind `any` covers every kind.
Meta bills months and rate changes in UTC.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Literal, TypeVar

__all__ = [
    "Charge",
    "PricingRule",
    "RateCard",
    "RateRow",
    "day_of",
    "load_rate_card",
    "month_bounds",
    "month_of",
    "price",
]

Window = Literal["inside", "outside", "any", "entry_point"]
ChargeKind = Literal["free", "billed", "free_tier"]
UNKNOWN_MARKET = "Other"
ENTRY_POINT_CATEGORY = "referral_conversion"
"""The category Meta's pricing object gives a message inside a free entry point window."""
T = TypeVar("T")


class RateCardError(ValueError):
    """A rate card or rules file that cannot be read; the message names the file and row."""


@dataclass(frozen=True)
class RateRow:
    market: str
    category: str
    rate: Decimal
    currency: str
    effective: date


@dataclass(frozen=True)
class PricingRule:
    effective: date
    kind: str
    """`service` (any non-template message) or a template category: `utility`, `marketing`, `authentication`."""
    window: Window
    charge: ChargeKind
    free_tier_per_month: int
    billed_as: str
    """The category whose rate applies when billed (service messages are billed at the utility rate)."""
    reason: str


@dataclass(frozen=True)
class Charge:
    """The price of one message under the card and rules in force on its day."""

    kind: str
    market: str
    billable: bool
    amount: Decimal | None
    """None when billable but the card has no rate for the market and category: shown as unpriced."""
    currency: str
    reason: str
    category: str = ""
    """The category Meta's pricing object should report: the kind, or `referral_conversion` in an FEP."""

    def __post_init__(self) -> None:
        if not self.category:
            object.__setattr__(self, "category", self.kind)


@dataclass(frozen=True)
class RateCard:
    rates: tuple[RateRow, ...]
    markets: Mapping[str, str]
    rules: tuple[PricingRule, ...]

    @property
    def currency(self) -> str:
        currencies = {row.currency for row in self.rates}
        return currencies.pop() if len(currencies) == 1 else "/".join(sorted(currencies))

    def market_of(self, region: str) -> str:
        return self.markets.get(region.upper(), UNKNOWN_MARKET)

    def rate(self, market: str, category: str, day: date) -> RateRow | None:
        """The newest row for `market` and `category` in force on `day`."""
        rows = [r for r in self.rates if r.market == market and r.category == category and r.effective <= day]
        return max(rows, key=lambda r: r.effective, default=None)

    def rule(self, kind: str, in_window: bool, day: date, entry_point: bool = False) -> PricingRule | None:
        """The newest rule for this kind of message and window state in force on `day`; inside a free entry
        point, the newest entry point rule if there is one."""
        if entry_point:
            found = self._newest(kind, ("entry_point",), day)
            if found is not None:
                return found
        return self._newest(kind, ("inside" if in_window else "outside", "any"), day)

    def _newest(self, kind: str, windows: tuple[str, ...], day: date) -> PricingRule | None:
        rows = [r for r in self.rules if r.kind in (kind, "any") and r.window in windows and r.effective <= day]
        return max(rows, key=lambda r: r.effective, default=None)


def day_of(moment: float) -> date:
    return datetime.fromtimestamp(moment, timezone.utc).date()


def month_of(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m")


def price(
    card: RateCard,
    kind: str,
    region: str,
    in_window: bool,
    moment: float,
    service_used: int,
    entry_point: bool = False,
) -> Charge:
    """The charge for one message: `kind` is `service` or the template's category (any case), `region` the
    guest's country, `service_used` how many service messages the business number already sent this month
    (for a free tier), `entry_point` whether it goes out inside a free entry point window."""
    kind = kind.lower()
    day = day_of(moment)
    market = card.market_of(region)
    rule = card.rule(kind, in_window, day, entry_point)
    if rule is None:
        return Charge(kind, market, False, Decimal(0), card.currency, f"no pricing rule for {kind} messages on {day}")
    if rule.charge == "free" or (rule.charge == "free_tier" and service_used < rule.free_tier_per_month):
        category = ENTRY_POINT_CATEGORY if rule.window == "entry_point" else kind
        return Charge(kind, market, False, Decimal(0), card.currency, rule.reason or "free", category)
    row = card.rate(market, rule.billed_as, day)
    reason = f"{rule.billed_as} rate, {market}"
    if row is None:
        return Charge(kind, market, True, None, card.currency, f"no {rule.billed_as} rate for {market} on {day}")
    return Charge(kind, market, True, row.rate, row.currency, reason)


def load_rate_card(rates: Path, rules: Path, markets: Path) -> RateCard:
    """The card, rules and market map from their CSV files; raises `RateCardError` naming the bad row."""
    return RateCard(
        rates=tuple(_rows(rates, _rate_row)),
        markets=dict(_rows(markets, lambda r: (r["region"].strip().upper(), r["market"].strip()))),
        rules=tuple(_rows(rules, _rule_row)),
    )


def _rows(path: Path, convert: Callable[[Mapping[str, str]], T]) -> Iterator[T]:
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                yield convert(row)
            except (KeyError, ValueError, ArithmeticError) as error:
                raise RateCardError(f"{path}, line {number}: {error!r}") from error


def _rate_row(row: Mapping[str, str]) -> RateRow:
    return RateRow(
        market=row["market"].strip(),
        category=row["category"].strip().lower(),
        rate=Decimal(row["rate"].strip()),
        currency=row["currency"].strip().upper(),
        effective=date.fromisoformat(row["effective_date"].strip()),
    )


def _rule_row(row: Mapping[str, str]) -> PricingRule:
    window = row["window"].strip()
    charge = row["charge"].strip()
    if window not in ("inside", "outside", "any", "entry_point"):
        raise ValueError(f"window must be inside, outside, any or entry_point, not {window!r}")
    if charge not in ("free", "billed", "free_tier"):
        raise ValueError(f"charge must be free, billed or free_tier, not {charge!r}")
    return PricingRule(
        effective=date.fromisoformat(row["effective_date"].strip()),
        kind=row["kind"].strip().lower(),
        window=window,  # type: ignore[arg-type]
        charge=charge,  # type: ignore[arg-type]
        free_tier_per_month=int(row["free_tier_per_month"] or 0),
        billed_as=(row["billed_as"] or row["kind"]).strip().lower(),
        reason=row["reason"].strip(),
    )


def month_bounds(moment: float) -> tuple[float, float]:
    start = datetime.fromtimestamp(moment, timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start.timestamp(), end.timestamp()
