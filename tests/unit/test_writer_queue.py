"""The writer queue: one writer at a time, urgent writers before background ones, nobody lost on cancel."""

from __future__ import annotations

import asyncio

import pytest

from connectors.whatsapp.store.writer_queue import WriterQueue


async def test_urgent_writers_go_before_background_ones_but_never_before_the_one_writing() -> None:
    queue = WriterQueue()
    order: list[str] = []
    release = asyncio.Event()

    async def write(name: str, urgent: bool = False, hold: asyncio.Event | None = None) -> None:
        async with queue.turn(urgent):
            order.append(f"{name} starts")
            if hold is not None:
                await hold.wait()
            await asyncio.sleep(0)
            order.append(f"{name} ends")

    first = asyncio.create_task(write("statuses", hold=release))
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(write("answer recorded")),
        asyncio.create_task(write("outbox")),
        asyncio.create_task(write("webhook", urgent=True)),
    ]
    await asyncio.sleep(0.01)
    assert order == ["statuses starts"], "the others wait while one writes"
    release.set()
    await asyncio.gather(first, *waiting)
    assert order == [
        "statuses starts",
        "statuses ends",
        "webhook starts",
        "webhook ends",
        "answer recorded starts",
        "answer recorded ends",
        "outbox starts",
        "outbox ends",
    ]


async def test_a_writer_cancelled_while_waiting_leaves_the_queue_working() -> None:
    queue = WriterQueue()
    release = asyncio.Event()
    done: list[str] = []

    async def write(name: str, hold: asyncio.Event | None = None) -> None:
        async with queue.turn():
            if hold is not None:
                await hold.wait()
            done.append(name)

    first = asyncio.create_task(write("first", release))
    await asyncio.sleep(0)
    gives_up = asyncio.create_task(write("gives up"))
    last = asyncio.create_task(write("last"))
    await asyncio.sleep(0)
    gives_up.cancel()
    release.set()
    await asyncio.wait_for(asyncio.gather(first, last), 1)
    with pytest.raises(asyncio.CancelledError):
        await gives_up
    assert done == ["first", "last"]


async def test_a_writer_that_fails_frees_its_turn() -> None:
    queue = WriterQueue()
    with pytest.raises(RuntimeError):
        async with queue.turn():
            raise RuntimeError("disk full")

    async def next_writer() -> None:
        async with queue.turn(urgent=True):
            pass

    await asyncio.wait_for(next_writer(), 1)


async def test_a_writer_cancelled_just_as_its_turn_came_passes_the_turn_on() -> None:
    queue = WriterQueue()
    done: list[str] = []

    async def write(name: str) -> None:
        async with queue.turn():
            done.append(name)

    holding = queue.turn()
    await holding.__aenter__()
    second = asyncio.create_task(write("second"))
    third = asyncio.create_task(write("third"))
    await asyncio.sleep(0)
    await holding.__aexit__(None, None, None)  # the turn goes to the second writer...
    second.cancel()  # ...which gives up before it could use it
    await asyncio.wait_for(third, 1)
    with pytest.raises(asyncio.CancelledError):
        await second
    assert done == ["third"]
