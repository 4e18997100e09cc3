"""Admission control for pjlib's ioqueue keys: refuse a new call before the pool runs out.

The wheel's ioqueue has 64 keys per process and asserts (aborting the process) when a socket
is registered with none free. Every call takes 2 (RTP and RTCP sockets), the SIP transports
take one each (UDP, the TCP listener, every TCP connection), and a closed key only comes back
500 ms later (PJ_IOQUEUE_KEY_FREE_DELAY). Measured before this guard: ~33 short calls ended
within half a second aborted ``voxpy run`` (50 calls/s survived, 70 died).

pjlib has no call that says how many keys are free, so this counts an upper bound from what
the owner thread can see: live calls, calls that ended or were admitted within the last
``hold_s`` (their keys may still be closing, or their media may be about to open), and the SIP
transports. Over-counting only costs a 503 with Retry-After under a burst; under-counting
costs the process. Time is passed in (monotonic seconds): no clock is read here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

IOQUEUE_KEYS = 64
"PJ_IOQUEUE_MAX_HANDLES of the wheel."
KEYS_PER_CALL = 2
KEY_FREE_DELAY_S = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyUse:
    """One admission decision, for the log line and the tests."""

    admitted: bool
    keys: int
    "Upper bound of keys in use (or closing) if this call is admitted."


class KeyBudget:
    """Counts ioqueue keys conservatively; one per process, used on the owner thread only."""

    def __init__(
        self,
        *,
        total: int = IOQUEUE_KEYS,
        reserve: int = 6,
        hold_s: float = 2 * KEY_FREE_DELAY_S,
    ) -> None:
        # reserve: the TCP listener, the transports' re-creation and a safety margin. hold_s
        # is twice pjlib's delay: the end of a call is seen by the owner thread after the
        # fact (at its next poll), never before.
        self.total = total
        self.reserve = reserve
        self.hold_s = hold_s
        self._admitted: deque[float] = deque()
        self._ended: deque[float] = deque()
        self._calls = 0

    def observe_calls(self, now: float, calls: int) -> None:
        """Tell the budget how many calls pjsua holds now; fewer than before = calls ended."""
        if calls < self._calls:
            self._ended.extend([now] * (self._calls - calls))
        self._calls = calls

    def admit(self, now: float, *, calls: int, transports: int) -> KeyUse:
        """Decide on one new call (inbound INVITE or outbound dial) and record it if admitted."""
        self.observe_calls(now, calls)
        self._expire(now)
        recent = len(self._admitted) + len(self._ended)
        keys = transports + self.reserve + KEYS_PER_CALL * (calls + recent + 1)
        if keys > self.total:
            return KeyUse(admitted=False, keys=keys)
        self._admitted.append(now)
        return KeyUse(admitted=True, keys=keys)

    def _expire(self, now: float) -> None:
        horizon = now - self.hold_s
        for times in (self._admitted, self._ended):
            while times and times[0] <= horizon:
                times.popleft()


TCP_KEYS = 20
"Keys set aside for TCP connections (the rest go to calls): the gate closes at TCP_GATE_AT."
TCP_GATE_AT = 12
"""Live plus recently closed connections at which new ones stop being accepted. The kernel
still completes up to the listen backlog (pjsip's 5, +1) and one poll may accept several, so
the gate closes well below TCP_KEYS."""


class ConnectionCount:
    """TCP connections that hold or may still hold an ioqueue key; says when to stop accepting."""

    def __init__(self, *, gate_at: int = TCP_GATE_AT, hold_s: float = 2 * KEY_FREE_DELAY_S) -> None:
        self.gate_at = gate_at
        self.hold_s = hold_s
        self._live: set[int] = set()
        self._closed: deque[float] = deque()

    def opened(self, connection: int) -> None:
        self._live.add(connection)

    def closed(self, now: float, connection: int) -> None:
        if connection in self._live:
            self._live.discard(connection)
            self._closed.append(now)

    def keys(self, now: float) -> int:
        horizon = now - self.hold_s
        while self._closed and self._closed[0] <= horizon:
            self._closed.popleft()
        return len(self._live) + len(self._closed)

    def should_accept(self, now: float) -> bool:
        return self.keys(now) < self.gate_at
