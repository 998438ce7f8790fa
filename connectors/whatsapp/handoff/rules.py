"""Who holds a conversation, and what may change it: the rules of the handoff to human agents.

A conversation is held by `bot` (not held), `queue` (the bot handed it over and it waits for an agent) or
`agent:<token name>`. Each change has a reason. The bot hands over for `guest_asked`, `bot_fallback`,
`unanswered_question` (a question the hotel's facts do not answer) or `change_request` (a stay to change or
cancel); the others are `agent_took_over`, `agent_released` and `idle_release`. Pure: the store applies these
rules as conditional UPDATEs, so two gateway processes on one database agree on who holds a thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

BOT: Final = "bot"
QUEUE: Final = "queue"
AGENT_PREFIX: Final = "agent:"

BOT_REASONS: Final[tuple[str, ...]] = ("guest_asked", "bot_fallback", "unanswered_question", "change_request")
HolderState = Literal["bot", "queue", "agent"]


def agent_holder(name: str) -> str:
    return f"{AGENT_PREFIX}{name}"


def state_of(holder: str) -> HolderState:
    """`bot`, `queue` or `agent`: what the list filter and the console show."""
    if holder == BOT:
        return "bot"
    if holder == QUEUE:
        return "queue"
    return "agent"


def is_held(holder: str) -> bool:
    return holder != BOT


@dataclass(frozen=True)
class Handoff:
    """The handoff flag of one conversation."""

    business_id: str
    wa_id: str
    holder: str = BOT
    reason: str | None = None
    since: float | None = None
    last_agent_at: float | None = None

    @property
    def held(self) -> bool:
        return is_held(self.holder)

    @property
    def state(self) -> HolderState:
        return state_of(self.holder)

    @property
    def agent(self) -> str | None:
        return self.holder[len(AGENT_PREFIX) :] if self.holder.startswith(AGENT_PREFIX) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "state": self.state,
            "agent": self.agent,
            "reason": self.reason,
            "since": self.since,
            "last_agent_at": self.last_agent_at,
        }


@dataclass(frozen=True)
class HandoffRequest:
    """The bot's instruction `{"gateway": {"handoff": {"reason": ...}}}` (the contract with the actions)."""

    reason: str


class InstructionError(ValueError):
    """A `gateway` custom message the gateway cannot follow; the message says what it expects."""


def parse_instruction(instruction: Any) -> HandoffRequest:
    """The bot's instruction to the gateway, from the value of a custom message's `gateway` key."""
    if not isinstance(instruction, Mapping) or not isinstance(instruction.get("handoff"), Mapping):
        raise InstructionError('a gateway instruction must read {"handoff": {"reason": "guest_asked"}}')
    reason = instruction["handoff"].get("reason", "guest_asked")
    if reason not in BOT_REASONS:
        raise InstructionError(f"handoff reason must be one of {', '.join(BOT_REASONS)}, not {reason!r}")
    return HandoffRequest(str(reason))


def holders_an_agent_may_replace(agent: str) -> tuple[str, ...]:
    """An agent takes a thread from the bot, from the queue, or again from themself; never from another
    agent (that one must give it back first)."""
    return (BOT, QUEUE, agent_holder(agent))


def holders_an_agent_may_release(agent: str) -> tuple[str, ...]:
    """An agent gives back a thread they hold or one still waiting in the queue."""
    return (QUEUE, agent_holder(agent))


def idle_since(handoff: Handoff) -> float | None:
    """When a held thread last saw an agent: their last answer, or when it was held."""
    if not handoff.held:
        return None
    moments = [m for m in (handoff.since, handoff.last_agent_at) if m is not None]
    return max(moments) if moments else None


def is_idle(handoff: Handoff, now: float, idle_seconds: float) -> bool:
    """Whether a held thread goes back to the bot: no agent answer for `idle_seconds` (0 = never)."""
    last = idle_since(handoff)
    return idle_seconds > 0 and last is not None and now - last >= idle_seconds
