"""Outbound messages from the hotel's automations: their HTTP API (`routes`) and how requests are read
(`requests`), what may be sent and when (`decisions`: window, consent, quiet hours, templates, budget), the
queue in the store (`outbox`), its workers (`dispatcher`), the number's and the guest's rate limits shared
by every process (`pacing`) and one process's share of a second (`send_window`), consent words
(`consent`), quiet hours (`quiet_hours`), and their parts built together in one process (`runtime`).

Imports the costs, the template catalog, the sender, the store, `hotel` and `cloudapi`; its routes use
`api`.
"""

from connectors.whatsapp.automations.consent import confirmation, is_opt_out
from connectors.whatsapp.automations.outbox import Outbox, outbox
from connectors.whatsapp.automations.outbox_records import LANE_MARKETING, LANE_REPLY, LANE_TRANSACTIONAL, NewMessage
from connectors.whatsapp.automations.pacing import DatabasePacer, Pacer, RedisPacer
from connectors.whatsapp.automations.quiet_hours import in_quiet_hours, next_allowed
from connectors.whatsapp.automations.requests import MessageRequest, read_batch, read_message
from connectors.whatsapp.automations.runtime import AutomationRuntime
from connectors.whatsapp.automations.send_window import SendWindow

__all__ = [
    "LANE_MARKETING",
    "LANE_REPLY",
    "LANE_TRANSACTIONAL",
    "AutomationRuntime",
    "DatabasePacer",
    "MessageRequest",
    "NewMessage",
    "Outbox",
    "Pacer",
    "RedisPacer",
    "SendWindow",
    "confirmation",
    "in_quiet_hours",
    "is_opt_out",
    "next_allowed",
    "outbox",
    "read_batch",
    "read_message",
]
