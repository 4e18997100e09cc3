"""The raw-audio half of a :class:`~voxpy.runtime.call.Call`: in-process audio
(``listen``, ``audio_output``) and the socket's way in (``ws.send_media_to(call)``).

A base class of the Call with its own state (the streams part it is given), as
:mod:`~voxpy.runtime.listening` is, so that the facade module keeps under its size bound; the
work is the streams part's (:mod:`voxpy.runtime.streams`).
``call.send_media_to``/``stop_media_to`` stay on the Call: they also take another Call.
"""

from __future__ import annotations

from voxpy.runtime.audio_io import AudioListener, AudioOutput
from voxpy.runtime.streams import Streams
from voxpy.runtime.websocket import WebSocket


class CallAudio:
    """The caller's audio as PCM, and PCM played into the call (over the streams part it is
    given)."""

    def __init__(self, streams: Streams) -> None:
        self._audio = streams

    def listen(self, sample_rate: int = 16000) -> AudioListener:
        """``async for frame in call.listen():`` what the caller says, as 20 ms frames of
        16-bit mono PCM at ``sample_rate`` (8000 or 16000), from now until the call ends or
        the loop is left. A reader more than 2 s behind loses the oldest frames (one warning)."""
        return self._audio.listen(sample_rate)

    def audio_output(self, sample_rate: int = 16000) -> AudioOutput:
        """A stream into the call, its incoming source from now on (it replaces say/playback
        and is replaced by them): ``await out.write(pcm)``, ``out.clear()``, ``await
        out.drain()``. ``write`` waits while more than 2 s is unplayed."""
        return self._audio.audio_output(sample_rate)

    def receive_media_from(self, ws: WebSocket) -> None:
        """``ws.send_media_to(call)`` (engine side: call that instead)."""
        self._audio.play_from(ws)

    def stop_receiving_media_from(self, ws: WebSocket) -> None:
        """``ws.stop_media_to(call)`` (engine side: call that instead)."""
        self._audio.stop_from(ws)
