"""Conference-bridge connections as data, and a delayed grave for media objects.

The media registry states which connections *should* exist; :class:`Wiring` diffs that
against what it has made and issues only the ``startTransmit``/``stopTransmit`` calls that
differ. Owner thread only.

Two properties of this pjmedia build shape it:

* Connect, disconnect and remove are queued and applied on the bridge's next 20 ms tick. A
  ``stopTransmit`` towards a port whose removal is already queued is applied after it, with
  only one end left, and pjmedia then drops *every* connection of the surviving end. So the
  connections of a call whose media went away are forgotten, never disconnected.
* A disconnected source may still be read on the tick that applies the change.
  :class:`Graveyard` therefore keeps players and tone generators alive for a few ticks after
  they are disconnected and only then drops the last reference, which removes them from the
  bridge (and frees a player slot). Python ports never die this way (see :mod:`.portpool`).
"""

from __future__ import annotations

import time

import pjsua2 as pj

from voxpy.backends.pjsua2.errors import reason_of
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.pjtypes import BridgePort

GRAVE_S = 0.1
"Five bridge ticks: pending connection changes are applied and no frame is in flight."

Link = tuple[BridgePort, BridgePort]
"(source, sink)"


def port_id(media: BridgePort) -> int:
    """The bridge slot of an AudioMedia (call, player or custom port)."""
    return int(media.getPortId())


def link(source: BridgePort, sink: BridgePort) -> tuple[tuple[int, int], Link]:
    """A desired-connection entry keyed by the two slots."""
    return (port_id(source), port_id(sink)), (source, sink)


class Wiring:
    """The connections voxpy made in the bridge, by (source slot, sink slot)."""

    def __init__(self, logger: Logger) -> None:
        self._made: dict[tuple[int, int], Link] = {}
        self._logger = logger

    def apply(self, wanted: dict[tuple[int, int], Link]) -> None:
        """Disconnect what is no longer wanted, then connect what is missing."""
        for key in [k for k in self._made if k not in wanted]:
            source, sink = self._made.pop(key)
            try:
                source.stopTransmit(sink)
            except pj.Error as exc:
                self._logger.debug("stop_transmit_failed", slots=key, error=reason_of(exc))
        for key, (source, sink) in wanted.items():
            if key in self._made:
                continue
            try:
                source.startTransmit(sink)
            except pj.Error as exc:
                self._logger.warning("start_transmit_failed", slots=key, error=reason_of(exc))
                continue
            self._made[key] = (source, sink)

    def has_listener(self, slot: int) -> bool:
        """Whether a connection we made reads from ``slot`` (pjmedia reads no other port)."""
        return any(source == slot for source, _ in self._made)

    def forget(self, slot: int) -> None:
        """Drop the connections of a slot pjsua removed itself (a call's media went away)."""
        for key in [k for k in self._made if slot in k]:
            del self._made[key]

    def clear(self) -> None:
        """Drop every reference (shutdown: the bridge goes away with libDestroy)."""
        self._made.clear()


class Graveyard:
    """Holds disconnected media objects for :data:`GRAVE_S`, then lets them be destroyed."""

    def __init__(self) -> None:
        self._graves: list[tuple[float, object]] = []

    def __len__(self) -> int:
        return len(self._graves)

    def bury(self, *objects: object) -> None:
        """Keep ``objects`` (players, tone generators; None is skipped) alive a bit longer."""
        deadline = time.monotonic() + GRAVE_S
        self._graves.extend((deadline, obj) for obj in objects if obj is not None)

    def reap(self, now: float | None = None) -> None:
        """Drop the objects whose time is up (their destructors run here, on this thread)."""
        if not self._graves:
            return
        now = time.monotonic() if now is None else now
        if self._graves[0][0] > now:
            return
        keep = [(t, obj) for t, obj in self._graves if t > now]
        self._graves = keep

    def wait_s(self) -> float:
        """How long until every object may be dropped."""
        if not self._graves:
            return 0.0
        return max(0.0, max(t for t, _ in self._graves) - time.monotonic())

    def clear(self) -> None:
        """Drop everything now (shutdown, after :meth:`wait_s` has passed)."""
        self._graves.clear()
