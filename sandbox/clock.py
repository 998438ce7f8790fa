"""The sandbox's clock: wall time plus an offset that tests move forward.

Every rule that depends on time (the 24-hour window, rate limits, webhook timestamps) reads this clock,
so a test can jump a day ahead over HTTP without waiting.
"""

from __future__ import annotations

import time


class Clock:
    """Wall-clock seconds shifted by an adjustable offset."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> float:
        """Move time forward (or back, with a negative value) and return the new now."""
        self.offset += seconds
        return self.now()

    def set(self, timestamp: float) -> float:
        """Jump to an absolute Unix time and return it."""
        self.offset = timestamp - time.time()
        return self.now()
