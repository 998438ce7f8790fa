"""The front desk: the agents' desk (`desk`: take over, reply, send a template, give back, with the window's
rules), the agents' files sent as WhatsApp media (`attachments`), the conversation list and search
(`queries`, with the guests' edits and deletions applied by `amendments`), replies held for a reopened
window (`held_replies`), the templates an agent may send with what is known pre-filled (`offers`), the
guest's stay as agents see it (`guest_reservations`), their HTTP API (`routes`), the event stream
(`events`) and the console page (`console`, `console/`). The front desk's tools: internal notes,
assignment and resolving (`desk_log`), saved replies (`saved_replies`) with their placeholders
(`placeholders`), and their routes (`desk_routes`).

Imports the handoff, the sender, the template catalog, the store, `hotel` and `cloudapi`; its routes use
`api`.
"""

from connectors.whatsapp.agents.desk import AgentDesk
from connectors.whatsapp.agents.events import LOOKBACK_IDS, Tail
from connectors.whatsapp.agents.guest_reservations import guest_reservation, reservation_json, reservation_threads
from connectors.whatsapp.agents.held_replies import HeldReplies
from connectors.whatsapp.agents.offers import known_values, offers
from connectors.whatsapp.agents.queries import ConversationQueries

__all__ = [
    "LOOKBACK_IDS",
    "AgentDesk",
    "ConversationQueries",
    "HeldReplies",
    "Tail",
    "guest_reservation",
    "known_values",
    "offers",
    "reservation_json",
    "reservation_threads",
]
