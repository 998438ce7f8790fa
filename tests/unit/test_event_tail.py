"""The event stream's tail of a table: a row that commits after one with a larger id is still sent, once."""

from __future__ import annotations

from connectors.whatsapp.agents import LOOKBACK_IDS, Tail


def rows(*ids: int) -> list[dict[str, int]]:
    return [{"id": i} for i in ids]


def test_rows_before_the_stream_started_are_never_sent() -> None:
    tail = Tail(rows(7, 8, 9))
    assert tail.fresh(rows(7, 8, 9)) == []
    assert tail.fresh(rows(8, 9, 10)) == rows(10)


def test_a_row_committed_late_with_a_smaller_id_is_sent_once() -> None:
    tail = Tail(rows(1))
    assert tail.fresh(rows(1, 3)) == rows(3)
    assert tail.fresh(rows(1, 2, 3)) == rows(2), "id 2 committed after id 3"
    assert tail.fresh(rows(1, 2, 3)) == []


def test_the_lookback_window_follows_the_cursor() -> None:
    tail = Tail([])
    tail.fresh(rows(*range(1, 2 * LOOKBACK_IDS)))
    assert tail.since == 2 * LOOKBACK_IDS - 1 - LOOKBACK_IDS
    assert tail.fresh(rows(*range(tail.since + 1, 2 * LOOKBACK_IDS + 1))) == rows(2 * LOOKBACK_IDS)
