"""What the hotel's messages cost: the rate card and dated pricing rules (`pricing`, data in `data/`), free
entry points from ads (`entry_points`), a month's messages read from the store (`source`) and the report
with its reconciliation against Meta's pricing objects (`reports`).

Imports the store, the template catalog's category history and `cloudapi`.
"""

from connectors.whatsapp.costs.entry_points import entry_points_of
from connectors.whatsapp.costs.pricing import Charge, RateCard, load_rate_card, month_bounds, price
from connectors.whatsapp.costs.reports import SentMessage, cost_report, reconcile, report_csv
from connectors.whatsapp.costs.source import month_messages

__all__ = [
    "Charge",
    "RateCard",
    "SentMessage",
    "cost_report",
    "entry_points_of",
    "load_rate_card",
    "month_bounds",
    "month_messages",
    "price",
    "reconcile",
    "report_csv",
]
