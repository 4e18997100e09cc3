"""Supervisor modes on a two-party call (issue 14), as call centres use them, through a
conference of the three legs:

* ``listen``: the supervisor hears both, nobody hears the supervisor (RECEIVE);
* ``whisper``: the supervisor hears both and is heard by the agent only (coaching);
* ``barge``: the supervisor hears both and is heard by both (a three-way call).

Customer and agent keep hearing each other in every mode. The conference's rule
(:func:`~voxpy.core.units.conference_mix`) does the work: whisper is a sender heard by one
listener. ``stop()`` takes the supervisor out (the other two stay conferenced, hearing each
other); ``end()`` stops the conference (the legs then hear silence: bridge them again, or
hang up).
"""

from __future__ import annotations

from typing import Any

from voxpy.core import units as u
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime.conference import Conference, Endpoint
from voxpy.runtime.unit_base import unit_call

MODES = ("listen", "whisper", "barge")


class Supervision:
    """A supervisor on a customer-agent call; build it with ``VoxEngine.supervise``."""

    def __init__(
        self, conference: Conference, customer: Any, agent: Any, supervisor: Any, mode: str
    ) -> None:
        check(customer, agent, supervisor, mode)
        self.conference = conference
        self._customer = conference.add(customer, display_name="customer")
        try:
            self._agent = conference.add(agent, display_name="agent")
            self._supervisor: Endpoint | None = conference.add(
                supervisor, direction="RECEIVE", display_name="supervisor"
            )
        except Exception:
            conference.stop()  # nothing half-made stays behind
            raise
        self._mode = "listen"
        self.set_mode(mode)

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Switch to ``listen``, ``whisper`` or ``barge`` (the audio follows at once)."""
        _check_mode(mode)
        endpoint = self._require_supervisor()
        if mode == "listen":
            member = u.Member(direction=u.Direction.RECEIVE)
        elif mode == "whisper":
            member = u.Member(heard_by=frozenset({self._agent.call.id()}))
        else:
            member = u.Member()
        self.conference.set_member(endpoint, member)
        self._mode = mode

    def stop(self) -> None:
        """The supervisor leaves; customer and agent go on talking."""
        endpoint = self._require_supervisor()
        self._supervisor = None
        self.conference.remove(endpoint.call)

    def end(self) -> None:
        """Stop the conference of all three."""
        self._supervisor = None
        self.conference.stop()

    def _require_supervisor(self) -> Endpoint:
        endpoint = self._supervisor
        if endpoint is None or endpoint not in self.conference.participants():
            raise InvalidStateError("the supervisor has left this call")
        return endpoint


def check(customer: object, agent: object, supervisor: object, mode: object) -> None:
    """Refuse, before anything is made: a bad mode, a non-call, the same call twice, an
    ended call."""
    _check_mode(mode)
    calls = [unit_call("supervise", c) for c in (customer, agent, supervisor)]
    if len({c.id() for c in calls}) != 3:
        raise InvalidArgumentError("supervise: customer, agent and supervisor must differ")
    for call in calls:
        if not call.live:
            raise InvalidStateError(f"supervise: call {call.id()} has ended")


def _check_mode(mode: object) -> None:
    if mode not in MODES:
        raise InvalidArgumentError(f"supervise: mode must be one of {MODES}, got {mode!r}")
