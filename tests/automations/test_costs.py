"""The monthly cost report over real HTTP, on a generated month of traffic, against totals computed by hand
from the sample rate card (connectors/whatsapp/costs/data/rate_card.csv) and the dated pricing rules."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import datetime, timezone
from typing import Any

import httpx
import sqlalchemy as sa

from connectors.whatsapp.store import messages, statuses
from tests.gateway_support import GatewayServer
from tests.support import LUCIA, MIRADOR, OLIVER

DUTCH, AUSTRIAN, FRENCH = "31612345678", "436641234567", "33612345678"
_ids = itertools.count(1)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def template(name: str, language: str) -> dict[str, Any]:
    return {"type": "template", "template": {"name": name, "language": {"code": language}}}


class Month:
    """Rows of the message log and its status webhooks, as the channel would have written them."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []

    def guest_wrote(self, wa_id: str, when: str) -> None:
        self.messages.append(self._row("inbound", wa_id, {"type": "text"}, when, wa_timestamp=int(at(when))))

    def sent(
        self, wa_id: str, body: dict[str, Any], when: str, delivered: bool = True, pricing: dict[str, Any] | None = None
    ) -> None:
        wamid = f"wamid.generated{next(_ids)}"
        self.messages.append(self._row("outbound", wa_id, body, when, wamid=wamid, state="accepted"))
        self.statuses.append(self._status(wamid, "sent", when, pricing))
        if delivered:
            self.statuses.append(self._status(wamid, "delivered", when, pricing))

    @staticmethod
    def _row(direction: str, wa_id: str, body: dict[str, Any], when: str, **extra: Any) -> dict[str, Any]:
        row = {
            "direction": direction,
            "business_id": MIRADOR,
            "wa_id": wa_id,
            "type": body["type"],
            "text": "",
            "body": json.dumps(body),
            "created_at": at(when),
            "state": "handled",
            "status_rank": 0,
            "origin": "guest" if direction == "inbound" else "bot",
            "wamid": f"wamid.in{next(_ids)}",
            "wa_timestamp": None,
        }
        row.update(extra)
        return row

    @staticmethod
    def _status(wamid: str, status: str, when: str, pricing: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "wamid": wamid,
            "status": status,
            "wa_timestamp": int(at(when)),
            "recipient_id": None,
            "pricing": json.dumps(pricing) if pricing else None,
            "received_at": at(when),
        }


def generated_traffic() -> Month:
    month = Month()
    # September 2026, under the July 2025 rules: service and utility inside the window are free.
    month.guest_wrote(LUCIA, "2026-09-29T12:00:00")
    for minute in range(5):
        month.sent(LUCIA, {"type": "text"}, f"2026-09-29T12:0{minute + 1}:00")
    month.sent(LUCIA, template("payment_request", "es"), "2026-09-29T13:00:00")  # free: utility in the window
    month.sent(LUCIA, template("winter_offer", "es"), "2026-09-30T23:59:00")  # 0.0509
    # October 2026, under the October 2026 rules.
    month.guest_wrote(LUCIA, "2026-10-05T10:00:00")
    for second in range(1002):  # 1,000 free in the tier, then 2 at Spain's utility rate: 0.0344
        month.sent(LUCIA, {"type": "text"}, f"2026-10-05T10:{second // 60 + 1:02d}:{second % 60:02d}")
    month.sent(LUCIA, template("payment_request", "es"), "2026-10-05T11:00:00")  # utility in the window: 0.0172
    month.sent(
        OLIVER,
        template("reservation_reminder", "en"),
        "2026-10-10T09:00:00",
        pricing={"billable": False, "category": "utility", "type": "free_customer_service"},
    )  # 0.0189, and WhatsApp's pricing object disagrees: a mismatch
    month.sent(OLIVER, template("reservation_reminder", "en"), "2026-10-11T09:00:00", delivered=False)  # not charged
    month.sent(LUCIA, template("winter_offer", "es"), "2026-10-12T09:00:00")  # window closed: 0.0509
    month.sent(DUTCH, template("winter_offer", "en"), "2026-10-20T09:00:00")  # 0.1373
    month.sent(AUSTRIAN, template("winter_offer", "en"), "2026-10-21T09:00:00")  # rest of W. Europe: 0.0509
    month.sent(FRENCH, template("reservation_reminder", "en"), "2026-10-22T09:00:00")  # no French row: unpriced
    return month


async def store_month(gateway: GatewayServer, month: Month) -> None:
    async with gateway.store.engine.begin() as connection:
        await connection.execute(messages.insert(), month.messages)
        await connection.execute(statuses.insert(), month.statuses)


async def test_the_cost_report_of_a_generated_month_matches_the_hand_computed_totals(
    gateway: GatewayServer, api: httpx.AsyncClient
) -> None:
    assert (await api.post("/templates/sync")).status_code == 200
    await store_month(gateway, generated_traffic())

    october = (await api.get("/reports/costs", params={"business": MIRADOR, "month": "2026-10"})).json()
    september = (await api.get("/reports/costs", params={"business": MIRADOR, "month": "2026-09"})).json()

    assert october["currency"] == "EUR"
    assert october["total"] == "0.3096"  # 0.0344 + 0.0172 + 0.0189 + 0.0509 + 0.1373 + 0.0509
    assert october["messages"] == 1002 + 7
    assert october["undelivered"] == 1
    assert october["free"] == 1000
    assert october["billable"] == 8
    assert october["free_reasons"] == {"service message within the number's monthly free tier (from 1 Oct 2026)": 1000}
    lines = {(line["category"], line["country"]): line for line in october["lines"]}
    assert lines[("service", "ES")] | {} == {
        "category": "service",
        "country": "ES",
        "market": "Spain",
        "messages": 1002,
        "delivered": 1002,
        "free": 1000,
        "billable": 2,
        "unpriced": 0,
        "amount": "0.0344",
    }
    assert lines[("utility", "GB")]["amount"] == "0.0189"
    assert lines[("utility", "GB")]["messages"] == 2
    assert lines[("marketing", "NL")]["amount"] == "0.1373"
    assert lines[("marketing", "AT")]["market"] == "Rest of Western Europe"
    assert lines[("utility", "FR")]["unpriced"] == 1
    assert lines[("utility", "FR")]["market"] == "Other"
    [mismatch] = october["mismatches"]
    assert mismatch["differences"] == ["billable: expected True, WhatsApp says False"]

    assert september["total"] == "0.0509"
    assert september["free"] == 6
    assert september["free_reasons"] == {
        "service message inside the customer service window (per-message pricing)": 5,
        "utility template inside the customer service window (per-message pricing)": 1,
    }


async def test_the_cost_report_as_csv(gateway: GatewayServer, api: httpx.AsyncClient) -> None:
    assert (await api.post("/templates/sync")).status_code == 200
    await store_month(gateway, generated_traffic())

    by_header = await api.get(
        "/reports/costs", params={"business": MIRADOR, "month": "2026-10"}, headers={"Accept": "text/csv"}
    )
    by_format = await api.get("/reports/costs", params={"business": MIRADOR, "month": "2026-10", "format": "csv"})

    assert by_header.headers["content-type"].startswith("text/csv")
    assert by_header.text == by_format.text
    rows = list(csv.DictReader(io.StringIO(by_header.text)))
    total = rows[-1]
    assert (total["category"], total["amount"], total["currency"], total["free"]) == ("total", "0.3096", "EUR", "1000")
    assert sum(int(row["messages"]) for row in rows[:-1]) == int(total["messages"]) == 1009


async def test_a_report_needs_a_hotel_and_a_month(api: httpx.AsyncClient) -> None:
    answer = await api.get("/reports/costs", params={"month": "2026-13"})

    assert answer.status_code == 422
    assert {p["field"] for p in answer.json()["error"]["problems"]} == {"business", "month"}


async def test_the_store_is_used_as_generated(gateway: GatewayServer) -> None:
    """The generator writes what the report reads: a guard against a report that passes on an empty month."""
    await store_month(gateway, generated_traffic())
    async with gateway.store.engine.connect() as connection:
        count = (await connection.execute(sa.select(sa.func.count()).select_from(messages))).scalar_one()
    assert count == 2 + 5 + 2 + 1002 + 7
