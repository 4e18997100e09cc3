"""``Conference``: VoxEngine's conference unit (``VoxEngine.create_conference``) in one worker.

The mixing is the backend bridge's (it sums every source connected to a sink); this unit only
keeps who takes part and how, asks the core's rule (:func:`~voxpy.core.units.conference_mix`)
what each participant hears, and tells each call that hears the conference its mix. So a
participant hears every other participant that sends and never itself; SEND is heard and hears
nothing (its own source is left alone); RECEIVE hears and is not heard; a muted endpoint is
heard by nobody.

A call hears one stream at a time (VoxEngine's rule): a ``say``, a playback or another unit
sent into a participant replaces the conference's mix for it, and the conference stops feeding
it (it still sends, and stays a participant) until it is added again. A participant that hangs
up is removed (EndpointRemoved) and the conference goes on. ``stop()`` removes everyone, ends
a recording and fires Stopped; a stopped conference refuses everything.

The sessions of one worker share a conference by name (``host.conferences``, the engine's):
each inbound caller is a session of its own. Its events are fired in the creating session's
scope (handlers of the joining sessions included: one emitter); the last session to end
stops it, and a stopped conference's name may be created afresh.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

from voxpy.core import units as u
from voxpy.core.events import ConferenceEvents
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime import args
from voxpy.runtime.unit_base import MediaUnit, UnitCall, UnitHost, UnitRecording, unit_call

MODES = ("MIX", "FORWARD")
"VoxEngine's endpoint modes; FORWARD (one-to-one forwarding) is taken as MIX here."
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class Endpoint:
    """One participant (VoxEngine's ``Endpoint``): its call, direction and mute state."""

    def __init__(
        self,
        conference: Conference,
        call: UnitCall,
        direction: u.Direction,
        display_name: str,
        *,
        link: bool = False,
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.link = link
        "a link to this conference's piece on another worker (hidden: no events, not listed)"
        self.call = call
        self.display_name = display_name
        self._conference = conference
        self.member = u.Member(direction=direction)

    @property
    def direction(self) -> str:
        return str(self.member.direction)

    @property
    def muted(self) -> bool:
        return self.member.muted

    def mute(self) -> None:
        """Nobody hears this participant (it still hears the others)."""
        self._conference.set_member(self, replace(self.member, muted=True))

    def unmute(self) -> None:
        self._conference.set_member(self, replace(self.member, muted=False))

    def __repr__(self) -> str:
        return f"<Endpoint {self.call.id()} {self.direction}{' muted' if self.muted else ''}>"


class Conference(MediaUnit):
    """A conference in this session's worker; see the module docstring."""

    kind = "conf"

    def __init__(self, host: UnitHost, name: str, hd_audio: bool) -> None:
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise InvalidArgumentError(
                "create_conference: name must be 1-128 letters, digits, '.', '_' or '-' "
                f"(not first), got {name!r}"
            )
        self.hd_audio = args.flag("create_conference", "hd_audio", hd_audio)
        super().__init__(host, ConferenceEvents)
        self.name = name
        self._endpoints: dict[str, Endpoint] = {}
        self._stopped = False
        self._recording: UnitRecording | None = None
        self._sessions = {host.session_id}
        "the sessions using it (they share it by name); the last one out stops it"
        host.conferences[name] = self

        async def started() -> None:  # after the scenario's code added its listeners
            if not self._stopped:
                self._fire(ConferenceEvents.Started)

        host.spawn(started(), "conference_started")

    # -- VoxEngine API -----------------------------------------------------------------------

    def add(
        self,
        call: Any,
        *,
        mode: str = "MIX",
        direction: str = "BOTH",
        display_name: str | None = None,
    ) -> Endpoint:
        """Add ``call`` (connected, or with early media) as a participant; EndpointAdded fires.
        Raises InvalidStateError for a stopped conference, a call already in it or one that
        cannot carry audio, InvalidArgumentError for a bad mode or direction."""
        self._require_running("add")
        if mode not in MODES:
            raise InvalidArgumentError(f"add: mode must be one of {MODES}, got {mode!r}")
        try:
            way = u.Direction(direction)
        except ValueError:
            known = ", ".join(d.value for d in u.Direction)
            raise InvalidArgumentError(
                f"add: direction must be one of {known}, got {direction!r}"
            ) from None
        label = args.optional_text("add", "display_name", display_name) or ""
        target = unit_call("add", call)
        if target.id() in self._endpoints:
            raise InvalidStateError(f"call {target.id()} is already in conference {self.name!r}")
        if not target.live:
            raise InvalidStateError(f"cannot add call {target.id()}: it has ended")
        endpoint = Endpoint(self, target, way, label)
        if endpoint.member.hears:
            target.hear_mix(self, ())  # raises (nothing changed) when it carries no audio yet
        self._endpoints[target.id()] = endpoint
        self._remix()
        self._fire(ConferenceEvents.EndpointAdded, endpoint=endpoint)
        return endpoint

    def remove(self, call: Any) -> None:
        """Take ``call`` out; EndpointRemoved fires. InvalidStateError if it takes no part."""
        self._require_running("remove")
        target = unit_call("remove", call)
        if target.id() not in self._endpoints:
            raise InvalidStateError(f"call {target.id()} is not in conference {self.name!r}")
        self._drop(target.id())

    def participants(self) -> list[Endpoint]:
        """The endpoints of this worker, in joining order (a conference spanning workers
        lists each worker's own; the links between them are not participants)."""
        return [e for e in self._endpoints.values() if not e.link]

    def add_link(self, call: Any) -> None:
        """Add a link leg to this conference's piece on another worker (engine side): it is
        mixed like a participant (it hears all but itself) and never shown to the scenario."""
        self._require_running("add a link")
        target = unit_call("add_link", call)
        endpoint = Endpoint(self, target, u.Direction.BOTH, "", link=True)
        target.hear_mix(self, ())
        self._endpoints[target.id()] = endpoint
        self._remix()

    def get_endpoint(self, call: Any) -> Endpoint | None:
        return self._endpoints.get(unit_call("get_endpoint", call).id())

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Remove every participant (EndpointRemoved each), end a recording, fire Stopped.
        A second stop does nothing."""
        if self._stopped:
            return
        if self._host.conferences.get(self.name) is self:
            del self._host.conferences[self.name]  # the name may be created afresh
        for call_id in list(self._endpoints):
            self._drop(call_id, remix=False)  # everybody goes: nobody to tell a new mix to
        self.stop_recording()
        self._stopped = True
        self._fire(ConferenceEvents.Stopped)

    def record(self, stereo: bool = False, hd_audio: bool = False) -> None:
        """Record what the participants say, mixed, to MP3 (RecordStarted, then RecordStopped
        with the url on ``stop_recording``, ``stop`` or the session's end)."""
        self._require_running("record")
        stereo = args.flag("record", "stereo", stereo)
        hd_audio = args.flag("record", "hd_audio", hd_audio)
        if self._recording is not None:
            raise InvalidStateError(f"conference {self.name!r} is already being recorded")
        name = f"{self._host.session_id}-{self.name}-{uuid.uuid4().hex[:12]}.mp3"
        path = self._host.media.recording_path(name)
        self._recording = UnitRecording(
            self._host,
            path,
            stereo=stereo,
            hd_audio=hd_audio,
            on_started=lambda url: self._fire(ConferenceEvents.RecordStarted, url=url),
            on_stopped=self._record_stopped,
        )
        self._recording.mix(u.conference_senders(self._members()))

    def stop_recording(self) -> None:
        if self._recording is not None:
            self._recording.stop()

    # -- media unit --------------------------------------------------------------------------

    def send_media_to(self, call: Any) -> None:
        """``call`` hears the conference (a participant that receives: added if new)."""
        self._link(unit_call("send_media_to", call), hears=True)

    def stop_media_to(self, call: Any) -> None:
        self._unlink(unit_call("stop_media_to", call), hears=True)

    def receive_media_from(self, call: UnitCall) -> None:
        """``call.send_media_to(conference)``: the call is heard (added if new)."""
        self._link(call, hears=False)

    def stop_receiving_media_from(self, call: UnitCall) -> None:
        self._unlink(call, hears=False)

    def join(self, session_id: str) -> None:
        """Another session of this worker uses the conference (``create_conference`` with
        its name; engine side)."""
        self._require_running("join")
        self._sessions.add(session_id)

    def leave(self, session_id: str) -> None:
        """A session using the conference ended: the last one out stops it (engine side)."""
        self._sessions.discard(session_id)
        if not self._sessions:
            self.stop()

    def call_ended(self, call_id: str) -> None:
        """A participant hung up: it leaves, the others go on (engine side)."""
        if call_id in self._endpoints and not self._stopped:
            self._drop(call_id)

    def set_member(self, endpoint: Endpoint, member: u.Member) -> None:
        """How ``endpoint`` takes part from now on (Endpoint.mute/unmute, supervisor modes)."""
        self._require_running("change a participant")
        if self._endpoints.get(endpoint.call.id()) is not endpoint:
            raise InvalidStateError(f"{endpoint!r} has left conference {self.name!r}")
        call = endpoint.call
        if member.hears and not endpoint.member.hears:
            call.hear_mix(self, ())
        elif endpoint.member.hears and not member.hears:
            call.stop_mix(self)
        endpoint.member = member
        self._remix()

    # -- internals ---------------------------------------------------------------------------

    def _link(self, call: UnitCall, *, hears: bool) -> None:
        endpoint = self._endpoints.get(call.id())
        if endpoint is None:
            self.add(call, direction="RECEIVE" if hears else "SEND")
            return
        self._require_running("send_media_to")
        old = endpoint.member.direction
        if (old is u.Direction.SEND and hears) or (old is u.Direction.RECEIVE and not hears):
            if hears:
                call.hear_mix(self, ())
            endpoint.member = replace(endpoint.member, direction=u.Direction.BOTH)
        elif hears and call.mix_owner is not self:
            call.hear_mix(self, ())  # re-added after something else replaced the mix
        self._remix()

    def _unlink(self, call: UnitCall, *, hears: bool) -> None:
        endpoint = self._endpoints.get(call.id())
        if endpoint is None or self._stopped:
            return
        kept = {True: u.Direction.SEND, False: u.Direction.RECEIVE}[hears]
        if endpoint.member.direction is u.Direction.BOTH:
            endpoint.member = replace(endpoint.member, direction=kept)
            if hears:
                call.stop_mix(self)
            self._remix()
        elif endpoint.member.direction is not kept:
            self._drop(call.id())

    def _drop(self, call_id: str, *, remix: bool = True) -> None:
        endpoint = self._endpoints.pop(call_id)
        endpoint.call.stop_mix(self)
        if remix:
            self._remix()
        if endpoint.link:
            if endpoint.call.live:
                endpoint.call.hangup()  # its far end notices and links again
            return
        self._fire(ConferenceEvents.EndpointRemoved, endpoint=endpoint)

    def _members(self) -> dict[str, u.Member]:
        return {call_id: e.member for call_id, e in self._endpoints.items()}

    def _remix(self) -> None:
        """Tell every participant that hears the conference what it hears now."""
        for call_id, sources in u.conference_mix(self._members()).items():
            endpoint = self._endpoints[call_id]
            call = endpoint.call
            # media_ready, not live: a call being hung up is live until its BYE completes,
            # and takes no audio meanwhile (its end removes it)
            if endpoint.member.hears and call.media_ready and call.mix_owner is self:
                call.hear_mix(self, sources)
        if self._recording is not None:
            self._recording.mix(u.conference_senders(self._members()))

    def _record_stopped(self, url: str, duration: float, error: str | None) -> None:
        self._recording = None
        self._fire(ConferenceEvents.RecordStopped, url=url, duration=round(duration, 3),
                   error=error)  # fmt: skip

    def _require_running(self, what: str) -> None:
        if self._stopped:
            raise InvalidStateError(f"cannot {what}: conference {self.name!r} is stopped")

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else f"{len(self._endpoints)} participants"
        return f"<Conference {self.name} {state}>"
