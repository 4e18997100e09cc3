"""Slot guards: the decisions that end a connected call nobody will end otherwise.

A worker holds at most 4 calls, so a caller that vanishes without a BYE must not keep a slot
forever. Pure: the runtime feeds these the clock and the counters it polled, and carries out
the hangups they ask for. Why a call ended is one of :class:`EndCause`; it becomes the
``reason`` of the leg's Disconnected event.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EndCause(StrEnum):
    """Why voxpy (or the SIP stack on its behalf) ended a call by itself."""

    RTP_TIMEOUT = "rtp_timeout"
    "No RTP arrived for ``quality.rtp_timeout_hangup`` seconds while not on hold."
    MAX_DURATION = "max_duration"
    "The call lasted ``timeouts.max_call_duration`` seconds."
    SESSION_TIMER = "session_timer"
    "RFC 4028: the far end did not refresh the session in time (pjsua sends BYE)."
    ACK_TIMEOUT = "ack_timeout"
    "The caller never ACKed our 200 OK (the stack gives up after 64*T1, 32 s)."


def rx_poll_interval(timeout: float) -> float:
    """How often to read a leg's received-packet counter for an RTP timeout of ``timeout``.

    A quarter of it, between 0.5 s and 5 s: the hangup comes at most one interval late, and
    at 5 s a worker's 4 calls cost under one counter read per second in all.
    """
    return min(5.0, max(0.5, timeout / 4))


@dataclass(slots=True)
class SilenceWatch:
    """Decides when a connected leg has received no RTP for ``timeout`` seconds.

    Fed the leg's cumulative received-packet count each poll. Hold on either side (our
    sendonly, the far end's sendonly/inactive) is not silence: the far end may rightly stop
    sending, so while held the clock is pinned, and it starts afresh at unhold. ``timeout``
    0 disables the watch.
    """

    timeout: float
    started_at: float
    "When the leg connected: a far end that never sends anything is silent from then on."
    _last_count: int = 0
    _quiet_since: float | None = None
    _read_at: float | None = None

    @property
    def enabled(self) -> bool:
        return self.timeout > 0

    def feed(self, now: float, packets_received: int, *, held: bool) -> bool:
        """Take one reading; True when the leg should be hung up (``rtp_timeout``)."""
        if not self.enabled:
            return False
        self._read_at = now
        if held or packets_received != self._last_count:
            self._last_count = packets_received
            self._quiet_since = now
            return False
        quiet_since = self.started_at if self._quiet_since is None else self._quiet_since
        return now - quiet_since >= self.timeout

    def quiet_for(self) -> float:
        """Seconds without RTP as of the last reading (0 before one, or while held)."""
        if self._read_at is None:
            return 0.0
        quiet_since = self.started_at if self._quiet_since is None else self._quiet_since
        return self._read_at - quiet_since


def max_duration_due(connected_at: float, limit: float) -> float | None:
    """When a call connected at ``connected_at`` must be hung up (None: no limit, 0)."""
    return None if limit <= 0 else connected_at + limit
