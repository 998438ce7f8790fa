"""The 24-hour customer service window, at and around its boundary."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudapi.outbound import addressed, template_message, text_messages
from cloudapi.window import (
    ENTRY_POINT_REPLY,
    ENTRY_POINT_SOURCES,
    ENTRY_POINT_WINDOW,
    WINDOW,
    EntryPoints,
    WindowState,
    first_replies,
    in_entry_point,
    is_template,
    window_state,
)

LAST = 1_751_371_200
DAY = 24 * 60 * 60


def test_window_is_24_hours() -> None:
    assert WINDOW.total_seconds() == DAY


def test_never_written_is_closed() -> None:
    assert window_state(None, LAST) == WindowState(open=False, expires_at=None, remaining_seconds=0.0)


def test_just_after_the_guest_wrote() -> None:
    state = window_state(LAST, LAST + 60)
    assert state.open
    assert state.expires_at == LAST + DAY
    assert state.remaining_seconds == DAY - 60


@pytest.mark.parametrize(
    ("elapsed", "is_open"),
    [(DAY - 1, True), (DAY - 0.001, True), (DAY, True), (DAY + 0.001, False), (DAY + 1, False), (7 * DAY, False)],
)
def test_boundary(elapsed: float, is_open: bool) -> None:
    state = window_state(LAST, LAST + elapsed)
    assert state.open is is_open
    assert state.expires_at == LAST + DAY
    assert state.remaining_seconds == pytest.approx(max(DAY - elapsed, 0.0), abs=1e-3)


def test_closed_window_has_no_time_left() -> None:
    assert window_state(LAST, LAST + DAY + 1).remaining_seconds == 0.0


def test_guest_clock_ahead_still_open() -> None:
    """WhatsApp's timestamp may be a little ahead of the gateway's clock."""
    state = window_state(LAST + 5, LAST)
    assert state.open
    assert state.remaining_seconds == DAY + 5


@given(last=st.integers(min_value=0, max_value=2**40), elapsed=st.floats(min_value=-1e6, max_value=1e7))
def test_open_exactly_when_within_24_hours(last: int, elapsed: float) -> None:
    state = window_state(last, last + elapsed)
    assert state.open is (last + elapsed <= last + DAY)
    assert state.remaining_seconds >= 0.0


def test_is_template() -> None:
    assert is_template(template_message("booking_reminder", "es_ES", ["Lucía"]))
    assert is_template(addressed(template_message("booking_reminder", "es_ES"), "34612345678"))
    assert not is_template(text_messages("Hola")[0])
    assert not is_template({})


HOUR = 60 * 60
REFERRED = LAST


def test_a_reply_within_24_hours_opens_72_free_hours() -> None:
    reply = REFERRED + 2 * HOUR
    points = EntryPoints((REFERRED,), (reply,))
    assert points.open_at(reply)
    assert points.open_at(reply + 72 * HOUR)
    assert not points.open_at(reply + 72 * HOUR + 1)
    assert not points.open_at(REFERRED - 1), "before the guest came from the ad, nothing is free"


def test_the_first_reply_is_itself_inside_the_entry_point() -> None:
    """With no reply yet, the message being priced is the reply: free if it goes within 24 hours."""
    waiting = EntryPoints((REFERRED,), (None,))
    assert waiting.open_at(REFERRED + DAY)
    assert not waiting.open_at(REFERRED + DAY + 1)


def test_a_late_first_reply_opens_nothing() -> None:
    late = EntryPoints((REFERRED,), (REFERRED + DAY + 60,))
    assert not late.open_at(REFERRED + DAY + 60)
    assert not late.open_at(REFERRED + 2 * DAY)


def test_no_referral_no_entry_point() -> None:
    assert not EntryPoints().open_at(LAST)


def test_first_replies_are_the_first_sends_at_or_after_each_referral() -> None:
    sends = [REFERRED - 10.0, REFERRED + 5.0, REFERRED + 50.0, REFERRED + 5 * DAY]
    assert first_replies([REFERRED, REFERRED + 6, REFERRED + 6 * DAY], sends) == (
        REFERRED + 5.0,
        REFERRED + 50.0,
        None,
    )


@given(
    reply_after=st.floats(min_value=0, max_value=4 * DAY),
    sent_after=st.floats(min_value=-DAY, max_value=8 * DAY),
)
def test_free_exactly_between_a_timely_reply_and_72_hours_later(reply_after: float, sent_after: float) -> None:
    """A message before the recorded first reply would itself be the first reply."""
    reply = REFERRED + reply_after
    moment = reply + sent_after
    opener = min(reply, moment)
    expected = REFERRED <= opener <= REFERRED + DAY and moment <= opener + 3 * DAY
    assert in_entry_point([REFERRED], [reply], moment) is expected


def test_entry_points_come_from_ads_and_page_buttons() -> None:
    assert {"ad", "post"} == ENTRY_POINT_SOURCES
    assert (ENTRY_POINT_REPLY.total_seconds(), ENTRY_POINT_WINDOW.total_seconds()) == (DAY, 3 * DAY)
