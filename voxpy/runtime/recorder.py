"""``Recorder``: VoxEngine's recorder unit (``VoxEngine.create_recorder``).

Every call sent to it (``call.send_media_to(recorder)``) is mixed into one MP3 file: what the
call's far end says, so a bridged pair sent to one recorder gives both voices. Stereo puts the
first call on the left and the others on the right. Unlike a call, a recorder mixes every
stream sent to it (VoxEngine's rule for conferences and recorders). RecordStarted fires when
the file is open, RecordStopped (``url``, ``duration``; ``error`` if it failed) once it is
complete, after ``stop()`` or at the session's end.
"""

from __future__ import annotations

import uuid

from voxpy.core import signals as sig
from voxpy.core.events import RecorderEvents
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime import args
from voxpy.runtime.media import NAME_PREFIX
from voxpy.runtime.unit_base import MediaUnit, UnitCall, UnitHost, UnitRecording


class Recorder(MediaUnit):
    """A mixing recorder; see the module docstring."""

    kind = "recorder"

    def __init__(
        self, host: UnitHost, *, stereo: object, name_prefix: object, hd_audio: object
    ) -> None:
        stereo = args.flag("create_recorder", "stereo", stereo)
        hd_audio = args.flag("create_recorder", "hd_audio", hd_audio)
        prefix = args.optional_text("create_recorder", "name_prefix", name_prefix)
        if prefix is not None and not NAME_PREFIX.fullmatch(prefix):
            raise InvalidArgumentError(
                f"create_recorder: name_prefix may hold letters, digits, '.', '_' and '-' (not "
                f"first '.'), so the file stays in the recordings directory; got {prefix!r}"
            )
        super().__init__(host, RecorderEvents)
        name = f"{prefix or ''}{host.session_id}-{uuid.uuid4().hex[:12]}.mp3"
        path = host.media.recording_path(name)  # may refuse: nothing has started yet
        self._sources: list[str] = []
        self._recording = UnitRecording(
            host,
            path,
            stereo=stereo,
            hd_audio=hd_audio,
            on_started=lambda url: self._fire(RecorderEvents.RecordStarted, url=url),
            on_stopped=self._stopped,
        )
        self.url = path
        "where the file goes (VoxEngine's ``url``)"

    @property
    def stopped(self) -> bool:
        return self._recording.stopping

    def stop(self) -> None:
        """Finish the file; RecordStopped follows once it is complete. Again: nothing."""
        self._recording.stop()

    def receive_media_from(self, call: UnitCall) -> None:
        """``call.send_media_to(recorder)``: the call's far end is mixed in."""
        if self._recording.stopping:
            raise InvalidStateError("cannot send media to a stopped recorder")
        if not call.live:
            raise InvalidStateError(f"cannot record call {call.id()}: it has ended")
        if call.id() not in self._sources:
            self._sources.append(call.id())
            self._recording.mix(tuple(self._sources))

    def stop_receiving_media_from(self, call: UnitCall) -> None:
        if call.id() in self._sources:
            self._sources.remove(call.id())
            self._recording.mix(tuple(self._sources))

    def call_ended(self, call_id: str) -> None:
        # The backend skips an ended source by itself; forgetting it keeps the order of the
        # others (stereo: the first call stays left).
        if call_id in self._sources:
            self._sources.remove(call_id)

    def receive(self, signal: sig.Signal) -> None:
        self._recording.receive(signal)

    def _stopped(self, url: str, duration: float, error: str | None) -> None:
        self._fire(RecorderEvents.RecordStopped, url=url, duration=round(duration, 3),
                   error=error)  # fmt: skip

    def __repr__(self) -> str:
        return f"<Recorder {self.url} {'stopped' if self.stopped else 'recording'}>"
