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
from collections.abc import Hashable
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
    calls: int = 0
    pending: int = 0
    closing: int = 0

    def __str__(self) -> str:
        return (
            f"{self.keys} keys: {self.calls} calls, {self.pending} INVITEs unanswered, "
            f"{self.closing} closing"
        )


class KeyBudget:
    """Counts ioqueue keys conservatively; one per process, used on the owner thread only.

    An admitted INVITE is *pending* (its media may be open) until its final response goes
    out: a 2xx makes it one of pjsua's calls (counted live until the backend reports the call
    ended, :meth:`call_ended`), any other final closes its media then. Counted twice while
    both pending and live: only during call set-up, and over-counting is the safe side.
    """

    def __init__(
        self,
        *,
        total: int = IOQUEUE_KEYS,
        reserve: int = 6,
        hold_s: float = 1.5 * KEY_FREE_DELAY_S,
        pending_s: float = 32.0,
    ) -> None:
        # reserve: the TCP listener, the transports' re-creation and a safety margin. hold_s
        # is pjlib's delay and half again: the backend reports a call's end from the same
        # pjsua callback that closes its media, never before it. pending_s: an INVITE server
        # transaction
        # has a final response by then (Timer H), so a lost one stops counting.
        self.total = total
        self.reserve = reserve
        self.hold_s = hold_s
        self.pending_s = pending_s
        self._pending: dict[Hashable, float] = {}
        self._ended: deque[float] = deque()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._pending

    def call_ended(self, now: float) -> None:
        """One of pjsua's calls (inbound or outbound) ended: its keys close now."""
        self._ended.append(now)

    def admit(
        self, now: float, *, calls: int, transports: int, key: Hashable | None = None
    ) -> KeyUse:
        """Decide on one new call and, for an inbound INVITE (``key``), hold it as pending.

        An outbound leg (no key) is one of pjsua's calls as soon as it is dialled.
        """
        self._expire(now)
        held = calls + len(self._pending) + len(self._ended)
        keys = transports + self.reserve + KEYS_PER_CALL * (held + 1)
        use = KeyUse(
            admitted=keys <= self.total,
            keys=keys,
            calls=calls,
            pending=len(self._pending),
            closing=len(self._ended),
        )
        if use.admitted and key is not None:
            self._pending[key] = now
        return use

    def settle(self, now: float, key: Hashable, *, answered: bool) -> None:
        """The final response to a pending INVITE went out (``answered``: a 2xx)."""
        if self._pending.pop(key, None) is not None and not answered:
            self._ended.append(now)

    def _expire(self, now: float) -> None:
        horizon = now - self.hold_s
        while self._ended and self._ended[0] <= horizon:
            self._ended.popleft()
        stale = [key for key, at in self._pending.items() if at <= now - self.pending_s]
        for key in stale:
            self.settle(now, key, answered=False)


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
