"""The send window: a send counts from leaving until a period after its answer, never more than the limit.

Periods of a few hundredths of a second stand in for WhatsApp's one second, so the tests run in real time.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.whatsapp.automations import SendWindow

PERIOD = 0.2


async def test_a_send_in_flight_holds_its_place_until_its_answer_is_a_period_old() -> None:
    window = SendWindow(2, PERIOD)
    release = asyncio.Event()
    entered: dict[str, float] = {}

    async def send(name: str, hold: asyncio.Event | None = None) -> float:
        async with window.send():
            entered[name] = time.monotonic()
            if hold is not None:
                await hold.wait()
        return time.monotonic()

    first = asyncio.create_task(send("first", release))
    await asyncio.sleep(0)
    second_answered = await send("second")
    third = asyncio.create_task(send("third"))
    await asyncio.sleep(PERIOD / 4)
    assert list(entered) == ["first", "second"]
    assert window.counted() == 2

    third_answered = await asyncio.wait_for(third, PERIOD * 2)
    assert entered["third"] >= second_answered + PERIOD, "room came when the second's answer was a period old"

    fourth = asyncio.create_task(send("fourth"))
    await asyncio.sleep(PERIOD / 4)
    assert "fourth" not in entered, "the first is still in flight and the third was answered just now"
    release.set()
    first_answered = await first
    await asyncio.wait_for(fourth, PERIOD * 2)
    # Room came once the first was answered and the third's answer was a period old.
    assert entered["fourth"] >= max(first_answered, third_answered + PERIOD)


async def test_a_send_that_fails_still_counts() -> None:
    window = SendWindow(1, PERIOD)
    with pytest.raises(RuntimeError):
        async with window.send():
            raise RuntimeError("the network went away")
    assert window.counted() == 1
    await asyncio.sleep(PERIOD * 1.5)  # the event loop may wake a timer a little early
    assert window.counted() == 0


@settings(max_examples=30, deadline=None)
@given(limit=st.integers(1, 4), flights=st.lists(st.floats(0.0, 0.03), min_size=1, max_size=12))
def test_no_period_of_arrivals_holds_more_than_the_limit(limit: int, flights: list[float]) -> None:
    """Sends in flight for any time, arriving at any moment of their flight: at most `limit` in any period."""
    period = 0.02
    flown: list[tuple[float, float]] = []

    async def main() -> None:
        window = SendWindow(limit, period)

        async def send(flight: float) -> None:
            async with window.send():
                left = time.monotonic()
                await asyncio.sleep(flight)
                flown.append((left, time.monotonic()))

        await asyncio.gather(*(send(flight) for flight in flights))

    asyncio.run(main())
    assert len(flown) == len(flights)
    # The fullest period ends where some send left; it holds every send that had left by then and was
    # answered less than a period before.
    for left, _ in flown:
        assert sum(1 for other, answered in flown if other <= left and answered > left - period) <= limit
