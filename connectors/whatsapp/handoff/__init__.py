"""Who holds a conversation (the bot, the queue, an agent): the pure rules (`rules`), the flag in the store
shared by every replica (`store`), the one code path every change takes (`handoffs`), and what it needs of
the bot's tracker (`tracker`, a protocol; the Rasa side is `connectors.whatsapp.tracker_control`), and what
happens to a guest message the bot kept failing on (`bot_errors`).

Imports the store, the sender and the hotel domain (the guest's language).
"""

from connectors.whatsapp.handoff.bot_errors import BOT_ERROR, FailedTurns, apology
from connectors.whatsapp.handoff.handoffs import Handoffs
from connectors.whatsapp.handoff.rules import (
    BOT,
    Handoff,
    HolderState,
    InstructionError,
    agent_holder,
    holders_an_agent_may_release,
    holders_an_agent_may_replace,
    is_idle,
    parse_instruction,
    state_of,
)
from connectors.whatsapp.handoff.store import HandoffChange, HandoffStore, handoffs
from connectors.whatsapp.handoff.tracker import NoTracker, TrackerControl

__all__ = [
    "BOT",
    "BOT_ERROR",
    "FailedTurns",
    "Handoff",
    "HandoffChange",
    "HandoffStore",
    "Handoffs",
    "HolderState",
    "InstructionError",
    "NoTracker",
    "TrackerControl",
    "agent_holder",
    "apology",
    "handoffs",
    "holders_an_agent_may_release",
    "holders_an_agent_may_replace",
    "is_idle",
    "parse_instruction",
    "state_of",
]
