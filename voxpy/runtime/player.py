"""``Player``: VoxEngine's player unit (``create_tts_player``, ``create_url_player``).

One playback that several calls hear at once, in step: the backend has one player port
transmitting to every call the player is sent to (a call's mix names the player). The media is
prepared as ``call.say``/``start_playback`` prepare theirs (TTS cache, file or URL, through the
session's media library); Started fires when it starts playing, Finished at its end (never
while looping) or with ``error`` when it could not be prepared or played. The player keeps
time whether or not anyone hears it (a call sent to it later joins mid-way).

A call hears one stream at a time: sending the player to a call replaces what the call heard
(a playback ends silently), and anything sent to the call later replaces the player.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from voxpy.core import signals as sig
from voxpy.core import units as u
from voxpy.core.events import PlayerEvents
from voxpy.core.ports import PreparedMedia
from voxpy.core.redact import mask_credentials
from voxpy.errors import InvalidArgumentError, InvalidStateError, VoxpyError
from voxpy.runtime.unit_base import MediaUnit, UnitCall, UnitHost, unit_call


class Player(MediaUnit):
    """A playback of its own; see the module docstring. Build it with the session's
    ``create_tts_player``/``create_url_player``."""

    kind = "player"

    def __init__(
        self,
        host: UnitHost,
        prepare: Callable[[], Awaitable[PreparedMedia]],
        *,
        loop: bool,
        text: str | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(host, PlayerEvents)
        self.text, self.source, self.loop = text, source, loop
        self._calls: dict[str, UnitCall] = {}
        self._state = "preparing"  # -> playing -> finished | stopped
        host.register(self._id, self.receive)
        host.spawn(self._prepare_and_play(prepare), "player")

    @property
    def state(self) -> str:
        """preparing, playing, finished or stopped."""
        return self._state

    def send_media_to(self, call: Any) -> None:
        """``call`` hears this player (replacing what it heard). InvalidStateError when the
        player is over or the call cannot carry audio."""
        target = unit_call("send_media_to", call)
        if self._state in ("finished", "stopped"):
            raise InvalidStateError(f"cannot send_media_to: the player is {self._state}")
        target.hear_mix(self, (self._id,))
        self._calls[target.id()] = target

    def stop_media_to(self, call: Any) -> None:
        target = unit_call("stop_media_to", call)
        if self._calls.pop(target.id(), None) is not None:
            target.stop_mix(self)

    def stop(self) -> None:
        """Stop playing (no Finished); the calls it played to hear silence."""
        if self._state in ("finished", "stopped"):
            return
        was_playing, self._state = self._state == "playing", "stopped"
        if was_playing:
            self._host.send(u.StopPlayer(call_id=self._id))
        self._host.forget(self._id)
        self._silence()

    def receive_media_from(self, call: UnitCall) -> None:
        raise InvalidArgumentError("a player plays; it receives no media")

    def stop_receiving_media_from(self, call: UnitCall) -> None:
        raise InvalidArgumentError("a player plays; it receives no media")

    def receive(self, signal: sig.Signal) -> None:
        if isinstance(signal, sig.PlayStarted) and self._state == "playing":
            self._fire(PlayerEvents.Started, duration=signal.duration)
        elif isinstance(signal, sig.PlayEnded) and self._state == "playing":
            self._end(signal.error)

    def call_ended(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    async def _prepare_and_play(self, prepare: Callable[[], Awaitable[PreparedMedia]]) -> None:
        try:
            media = await prepare()
        except Exception as exc:  # any failure ends the player: it must never hang
            error = mask_credentials(
                str(exc) if isinstance(exc, VoxpyError) else f"{type(exc).__name__}: {exc}"
            )
            if self._state == "preparing":
                trace = None if isinstance(exc, VoxpyError) else exc
                self.log.warning("player_failed", error=error, exc_info=trace)
                self._end(error)
            return
        if self._state != "preparing":
            return  # stopped while preparing
        self._state = "playing"
        self._host.send(u.StartPlayer(call_id=self._id, path=media.path, loop=self.loop,
                                      duration=media.duration))  # fmt: skip

    def _end(self, error: str | None) -> None:
        self._state = "finished"
        self._host.forget(self._id)
        self._silence()
        self._fire(PlayerEvents.Finished, error=error)

    def _silence(self) -> None:
        calls, self._calls = list(self._calls.values()), {}
        for call in calls:
            if call.live:
                call.stop_mix(self)

    def __repr__(self) -> str:
        return f"<Player {self.text or self.source} {self._state}>"
