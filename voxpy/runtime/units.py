"""A session's media units (issue 14): VoxEngine's ``create_conference``,
``create_tts_player``, ``create_url_player`` and ``create_recorder``, and
``send_media_between`` over calls and units, as a base class of the Session.

The session keeps its units in :class:`Units`, which tells them when a call ended (a
conference removes the participant, the others go on) and stops them when the session ends.
Every unit lives in its session's worker: a conference's participants are legs of that one
process (at most 4; conferences across workers are phase 2 of issue 14). The sessions of a
worker share a conference by name (the engine's directory): the first creates it, the
others join, the last one to end stops it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from voxpy.core.redact import mask_credentials
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.media.tts import MAX_TTS_CHARS
from voxpy.runtime import args
from voxpy.runtime.call import Call
from voxpy.runtime.conference import Conference
from voxpy.runtime.dispatch import Scope
from voxpy.runtime.player import Player
from voxpy.runtime.recorder import Recorder
from voxpy.runtime.supervision import Supervision, check
from voxpy.runtime.unit_base import UnitHost
from voxpy.runtime.unit_events import build_unit_event

MAX_RATE = 4.0


class Units:
    """The units of one session."""

    def __init__(self, host: UnitHost) -> None:
        self.host = host
        self.units: list[Conference | Player | Recorder] = []
        self.closed = False

    def add(self, unit: Conference | Player | Recorder) -> None:
        self.units.append(unit)

    def check_open(self) -> None:
        if self.closed:
            raise InvalidStateError("the session is ending: no new media unit")

    def call_ended(self, call_id: str) -> None:
        """A call of the session ended: units forget it (a conference fires EndpointRemoved)."""
        for unit in self.units:
            unit.call_ended(call_id)

    def close_all(self) -> None:
        """The session ends: it leaves its conferences (the last one out stops it), its
        players stop, its recordings are completed."""
        self.closed = True
        for unit in self.units:
            if isinstance(unit, Conference):
                unit.leave(self.host.session_id)
            else:
                unit.stop()


def unit_host(
    session: Any, host: Any, scope: Scope, observe: Callable[[Any], None]
) -> UnitHost:
    """The UnitHost of ``session`` (its logger, error hooks, tasks) on the engine ``host``;
    ``observe`` sees every event of its units (the session follows their recordings)."""
    return UnitHost(
        session_id=session.id,
        log=session.log,
        scope=scope,
        on_error=session.handler_failed,
        track=session.track,
        spawn=session.spawn,
        send=host.send,
        media=host.media,
        build_event=build_unit_event,
        observe=observe,
        register=host.route_unit,
        forget=lambda unit_id: host.route_unit(unit_id, None),
        conferences=host.conferences,
    )


class MediaUnitsApi:
    """The session's media-unit methods (a base class of the Session)."""

    _units: Units

    def create_conference(self, name: str, *, hd_audio: bool = False) -> Conference:
        """A conference in this worker (VoxEngine ``createConference``): add calls with
        ``conf.add(call, direction=..., display_name=...)``; ConferenceEvents fire. A name a
        session of this worker already created gives that same conference (joined: the
        last session to end stops it; its handlers run in the creating session)."""
        self._units.check_open()
        shared = self._units.host.conferences.get(name) if isinstance(name, str) else None
        if isinstance(shared, Conference) and not shared.stopped:
            args.flag("create_conference", "hd_audio", hd_audio)
            shared.join(self._units.host.session_id)
            self._units.add(shared)
            return shared
        conference = Conference(self._units.host, name, hd_audio)
        self._units.add(conference)
        return conference

    def create_tts_player(
        self,
        text: str,
        *,
        language: str = "en",
        voice: str | None = None,
        rate: float | None = None,
        loop: bool = False,
    ) -> Player:
        """A player of synthesized ``text`` (as ``call.say``): ``player.send_media_to(call)``
        for each call that should hear it; PlayerEvents fire."""
        args.text("create_tts_player", "text", text, empty=False)
        args.text("create_tts_player", "language", language, empty=False)
        args.optional_text("create_tts_player", "voice", voice)
        loop = args.flag("create_tts_player", "loop", loop)
        if rate is not None and not 0 < args.number("create_tts_player", "rate", rate) <= MAX_RATE:
            raise InvalidArgumentError(f"create_tts_player: rate must be in (0, {MAX_RATE:g}]")
        if len(text) > MAX_TTS_CHARS:
            raise InvalidArgumentError(
                f"create_tts_player: text is {len(text)} characters; the limit is {MAX_TTS_CHARS}"
            )
        self._units.check_open()
        library = self._units.host.media
        player = Player(self._units.host, lambda: library.speech(text, language, voice, rate),
                        loop=loop, text=text)  # fmt: skip
        self._units.add(player)
        return player

    def create_url_player(self, url: str, *, loop: bool = False) -> Player:
        """A player of a media file or URL (as ``call.start_playback``)."""
        args.text("create_url_player", "url", url, empty=False)
        loop = args.flag("create_url_player", "loop", loop)
        self._units.check_open()
        library = self._units.host.media
        player = Player(self._units.host, lambda: library.media(url), loop=loop,
                        source=mask_credentials(url))  # fmt: skip
        self._units.add(player)
        return player

    def create_recorder(
        self, *, stereo: bool = False, name_prefix: str | None = None, hd_audio: bool = False
    ) -> Recorder:
        """A recorder that mixes every call sent to it (``call.send_media_to(recorder)``) into
        one MP3 file; RecorderEvents fire."""
        self._units.check_open()
        recorder = Recorder(self._units.host, stereo=stereo, name_prefix=name_prefix,
                            hd_audio=hd_audio)  # fmt: skip
        self._units.add(recorder)
        return recorder

    def supervise(
        self, customer: Call, agent: Call, supervisor: Call, *, mode: str = "listen"
    ) -> Supervision:
        """Put ``supervisor`` on the ``customer``-``agent`` call (through a conference of the
        three): ``listen`` (hears both, heard by none), ``whisper`` (heard by the agent only)
        or ``barge`` (heard by both); ``set_mode`` switches, ``stop`` takes the supervisor
        out, ``end`` stops the conference."""
        check(customer, agent, supervisor, mode)
        conference = self.create_conference(name=f"supervise-{uuid.uuid4().hex[:12]}")
        return Supervision(conference, customer, agent, supervisor, mode)

    def send_media_between(self, a: Call | Conference, b: Call | Conference) -> None:
        """Media both ways: two calls are bridged; a call and a conference make the call a
        participant that sends and hears (as ``conf.add``)."""
        _pair("send_media_between", a, b)
        a.send_media_to(b)
        b.send_media_to(a)

    def stop_media_between(self, a: Call | Conference, b: Call | Conference) -> None:
        _pair("stop_media_between", a, b)
        a.stop_media_to(b)
        b.stop_media_to(a)


def _pair(method: str, a: object, b: object) -> None:
    """Two units that both send and receive: calls, or a call and a conference (a player
    receives nothing, a recorder sends nothing)."""
    for unit in (a, b):
        if not isinstance(unit, Call | Conference):
            raise InvalidArgumentError(f"{method}: needs a Call or a Conference, got {unit!r}")
    if not isinstance(a, Call) and not isinstance(b, Call):
        raise InvalidArgumentError(f"{method}: needs at least one Call, got {a!r} and {b!r}")
