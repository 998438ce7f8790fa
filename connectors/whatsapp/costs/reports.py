"""The monthly cost report of one hotel number, and the reconciliation of each price with Meta's own pricing
object. Pure: the caller reads the month's messages from the store.

Every outbound message of the month counts (the bot's, the agents' and the automations'): templates by their
category, anything else as a service message. Meta charges on delivery, so a message that was never
delivered costs nothing (it is shown as undelivered); the monthly free tier of service messages counts every
service message sent, in order, as Meta's does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cloudapi.inbound import Pricing
from connectors.whatsapp.costs.pricing import Charge, RateCard, price

__all__ = ["CostLine", "CostReport", "Mismatch", "SentMessage", "cost_report", "reconcile", "report_csv"]


@dataclass(frozen=True)
class SentMessage:
    id: int
    wamid: str | None
    at: float
    wa_id: str
    region: str
    kind: str
    """`service`, or the template's category in lower case."""
    in_window: bool
    in_entry_point: bool
    delivered: bool
    reported: Pricing | None
    """The pricing object of the message's status webhooks, if any arrived."""


@dataclass(frozen=True)
class Mismatch:
    id: int
    wamid: str | None
    expected: Mapping[str, Any]
    reported: Pricing
    differences: tuple[str, ...]


def reconcile(charge: Charge, reported: Pricing | None) -> tuple[str, ...]:
    """How Meta's pricing object differs from the gateway's price (billable, category); empty when it agrees
    or has not arrived."""
    if reported is None:
        return ()
    differences = []
    category = (reported.category or "").lower()
    if category and category != charge.category:
        differences.append(f"category: expected {charge.category}, WhatsApp says {category}")
    charged = reported.charged
    if charged is not None and charged != charge.billable:
        differences.append(f"billable: expected {charge.billable}, WhatsApp says {charged}")
    return tuple(differences)


@dataclass
class CostLine:
    category: str
    country: str
    market: str
    messages: int = 0
    delivered: int = 0
    free: int = 0
    billable: int = 0
    unpriced: int = 0
    amount: Decimal = Decimal(0)

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "country": self.country,
            "market": self.market,
            "messages": self.messages,
            "delivered": self.delivered,
            "free": self.free,
            "billable": self.billable,
            "unpriced": self.unpriced,
            "amount": str(self.amount),
        }


@dataclass
class CostReport:
    business_id: str
    month: str
    currency: str
    lines: list[CostLine] = field(default_factory=list)
    free_reasons: dict[str, int] = field(default_factory=dict)
    undelivered: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    def as_json(self) -> dict[str, Any]:
        return {
            "business": self.business_id,
            "month": self.month,
            "currency": self.currency,
            "total": str(self.total),
            "messages": sum(line.messages for line in self.lines),
            "billable": sum(line.billable for line in self.lines),
            "free": sum(line.free for line in self.lines),
            "undelivered": self.undelivered,
            "free_reasons": dict(sorted(self.free_reasons.items())),
            "lines": [line.as_json() for line in self.lines],
            "mismatches": [
                {
                    "id": str(m.id),
                    "wamid": m.wamid,
                    "expected": dict(m.expected),
                    "reported": m.reported.as_json(),
                    "differences": list(m.differences),
                }
                for m in self.mismatches
            ],
        }


def cost_report(card: RateCard, business_id: str, month: str, sent: Sequence[SentMessage]) -> CostReport:
    """The report of one number's month from its messages (any order)."""
    report = CostReport(business_id, month, card.currency)
    lines: dict[tuple[str, str], CostLine] = {}
    service_used = 0
    for message in sorted(sent, key=lambda m: (m.at, m.id)):
        charge = price(
            card, message.kind, message.region, message.in_window, message.at, service_used, message.in_entry_point
        )
        if message.kind == "service":
            service_used += 1
        line = lines.setdefault((message.kind, message.region), CostLine(message.kind, message.region, charge.market))
        line.messages += 1
        differences = reconcile(charge, message.reported)
        if differences and message.reported is not None:
            report.mismatches.append(
                Mismatch(
                    message.id,
                    message.wamid,
                    {"billable": charge.billable, "category": charge.category},
                    message.reported,
                    differences,
                )
            )
        if not message.delivered:
            report.undelivered += 1
            continue
        line.delivered += 1
        if not charge.billable:
            line.free += 1
            report.free_reasons[charge.reason] = report.free_reasons.get(charge.reason, 0) + 1
        elif charge.amount is None:
            line.billable += 1
            line.unpriced += 1
        else:
            line.billable += 1
            line.amount += charge.amount
    report.lines = sorted(lines.values(), key=lambda line: (line.category, line.country))
    return report


def report_csv(report: CostReport) -> str:
    """The report's lines as CSV, with a total row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "month",
            "category",
            "country",
            "market",
            "messages",
            "delivered",
            "free",
            "billable",
            "unpriced",
            "amount",
            "currency",
        ]
    )
    for line in report.lines:
        writer.writerow(
            [
                report.month,
                line.category,
                line.country,
                line.market,
                line.messages,
                line.delivered,
                line.free,
                line.billable,
                line.unpriced,
                line.amount,
                report.currency,
            ]
        )
    data = report.as_json()
    writer.writerow(
        [
            report.month,
            "total",
            "",
            "",
            data["messages"],
            sum(line.delivered for line in report.lines),
            data["free"],
            data["billable"],
            sum(line.unpriced for line in report.lines),
            report.total,
            report.currency,
        ]
    )
    return out.getvalue()
