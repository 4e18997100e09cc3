"""A token bucket for log lines: a flood of refusals must not fill the disk.

Pure: the caller passes monotonic time in. Lines over the budget are counted, and the next
line that gets through carries how many were suppressed.
"""

from __future__ import annotations


class LogBudget:
    """``rate`` lines a second on average, bursts of up to ``burst``."""

    def __init__(self, *, rate: float = 20.0, burst: int = 40) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last: float | None = None
        self.suppressed = 0

    def take(self, now: float) -> int | None:
        """``None``: stay quiet. Otherwise log, reporting the returned number of lines skipped."""
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1.0:
            self.suppressed += 1
            return None
        self._tokens -= 1.0
        skipped, self.suppressed = self.suppressed, 0
        return skipped
