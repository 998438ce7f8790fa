"""The handoff's pure rules: who may take and give back a thread, the bot's instruction, the idle release."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.whatsapp.handoff import (
    Handoff,
    InstructionError,
    holders_an_agent_may_release,
    holders_an_agent_may_replace,
    is_idle,
    parse_instruction,
)


def test_an_agent_takes_from_the_bot_or_the_queue_never_from_another_agent() -> None:
    assert set(holders_an_agent_may_replace("marta")) == {"bot", "queue", "agent:marta"}
    assert "agent:luis" not in holders_an_agent_may_replace("marta")
    assert set(holders_an_agent_may_release("marta")) == {"queue", "agent:marta"}


@pytest.mark.parametrize("reason", ["guest_asked", "bot_fallback"])
def test_the_bots_handoff_instruction_is_read(reason: str) -> None:
    assert parse_instruction({"handoff": {"reason": reason}}).reason == reason


@pytest.mark.parametrize("instruction", [None, "handoff", {"handoff": "now"}, {"handoff": {"reason": "bored"}}, {}])
def test_an_instruction_the_gateway_cannot_follow_says_what_it_expects(instruction: object) -> None:
    with pytest.raises(InstructionError, match="handoff"):
        parse_instruction(instruction)


def test_a_held_thread_is_idle_from_the_last_agent_answer() -> None:
    held = Handoff("1", "2", "agent:marta", "agent_took_over", since=1000.0, last_agent_at=1500.0)
    assert not is_idle(held, 1500.0 + 599, 600)
    assert is_idle(held, 1500.0 + 600, 600)
    assert not is_idle(held, 10**9, 0), "0 minutes means held threads stay held"
    assert not is_idle(Handoff("1", "2"), 10**9, 600), "a thread with the bot is never idle-released"


@given(since=st.integers(0, 10**9), answered=st.none() | st.integers(0, 10**9), wait=st.integers(1, 10**6))
def test_idle_never_comes_before_the_wait_since_the_later_of_hold_and_answer(
    since: int, answered: int | None, wait: int
) -> None:
    held = Handoff("1", "2", "queue", "guest_asked", since=float(since), last_agent_at=answered)
    latest = max(since, answered or 0)
    assert not is_idle(held, latest + wait - 0.5, wait)
    assert is_idle(held, latest + wait, wait)
