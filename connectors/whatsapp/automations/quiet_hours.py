"""Quiet hours: when a hotel sends no scheduled or batch message, in the hotel's own timezone. Pure.

A send due inside the quiet hours moves to their end (the next morning); urgent sends ignore them. Times are
Unix seconds, so the clock stays the caller's (the gateway's injectable clock, a test's).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["in_quiet_hours", "next_allowed"]


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Whether a local time of day falls in [start, end); a span that passes midnight (22:00-08:00) wraps."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(moment: float, timezone: ZoneInfo, start: time, end: time) -> float:
    """`moment` itself when outside the quiet hours, else the end of the quiet hours it falls in."""
    local = datetime.fromtimestamp(moment, timezone)
    if not in_quiet_hours(local.time(), start, end):
        return moment
    morning = datetime.combine(local.date(), end, tzinfo=timezone)
    if morning <= local:
        morning = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=timezone)
    # Normalise through UTC so a quiet end that falls in a DST gap still gives a real instant.
    return morning.astimezone(ZoneInfo("UTC")).timestamp()
