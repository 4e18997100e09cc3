"""Media objects whose callbacks run on pjmedia's media thread: player, capture port, meter.

There is one media thread and one bridge clock for every call in the process, so these
callbacks only record a fact or hand bytes over and return: no pj call, no lock, no I/O.
A callback that blocked would stall the audio of every call (see the pjsua2 notes, section 3).
Everything else about these objects (creating, connecting, destroying) happens on the owner
thread.

The two ``AudioMediaPort`` subclasses are never destroyed while the bridge runs: it keeps
calling every registered port (heart-beat frames even when nothing is connected), and a
callback into a Python object being deallocated crashes the process (measured: SIGSEGV
within 1000 create/destroy cycles). :class:`~.portpool.PortPool` reuses them instead; their
target is switched with ``attach``/``detach``.
"""

from __future__ import annotations

import contextlib
import ctypes
import operator
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

SILENCE_RMS = 300
"RMS (of 32767) above which a frame counts as audio, not silence or comfort noise."

PortFeed = Callable[[int, bytes], None]
"Where a capture port hands its frames: ``feed(channel, pcm)``; must not block."


def vec_bytes(vector: Any) -> bytes:
    """Copy a SWIG ``std::vector<uint8_t>`` (a frame's ``buf``) into ``bytes`` in about 1 us.

    ``bytes(frame.buf)`` iterates element by element through SWIG: 140-700 us per frame.
    This reads libstdc++'s vector layout (begin, end, capacity pointers) instead.
    """
    address = int(vector.this)
    begin = ctypes.c_void_p.from_address(address).value
    end = ctypes.c_void_p.from_address(address + ctypes.sizeof(ctypes.c_void_p)).value
    if not begin or not end or end <= begin:
        return b""
    return ctypes.string_at(begin, end - begin)


def audio_format(sample_rate: int) -> Any:
    """Mono 16-bit PCM in 20 ms frames; the bridge resamples from its own clock (16 kHz)."""
    fmt = pj.MediaFormatAudio()
    fmt.init(pj.PJMEDIA_FORMAT_PCM, sample_rate, 1, 20000, 16)
    return fmt


class FilePlayer(pj.AudioMediaPlayer):  # type: ignore[misc]
    """A WAV player that reports its end once through ``on_eof(token)``.

    ``onEof2`` runs on the media thread and also fires at each wrap of a looping player,
    which never finishes: only the first end of a non-looping player is reported.
    """

    def __init__(self, token: int, loop: bool, on_eof: Callable[[int], None]) -> None:
        super().__init__()
        self.token = token
        self.loop = loop
        self._on_eof = on_eof
        self._reported = False

    def onEof2(self) -> None:  # name fixed by pjsua2; media thread
        if self.loop or self._reported:
            return
        self._reported = True
        # An exception would only be printed by SWIG, on the media thread.
        with contextlib.suppress(Exception):
            self._on_eof(self.token)


class CapturePort(pj.AudioMediaPort):  # type: ignore[misc]
    """A sink port that hands every audio frame to ``feed(channel, pcm)`` while attached.

    ``detach`` runs on the owner thread before the port is disconnected: frames still in
    flight (the bridge applies connection changes on its next tick) are then dropped.
    """

    def __init__(self, sample_rate: int) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self._feed: PortFeed | None = None
        self._channel = 0

    def attach(self, feed: PortFeed, channel: int) -> None:
        """Start handing frames to ``feed`` as ``channel``."""
        self._channel = channel
        self._feed = feed

    def detach(self) -> None:
        """Stop handing frames over (and drop the reference to the consumer)."""
        self._feed = None

    def onFrameReceived(self, frame: Any) -> None:  # name fixed by pjsua2; media thread
        feed = self._feed
        # Frames of type NONE (size 0) arrive whenever nothing transmits to the port.
        if feed is None or frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO or not frame.size:
            return
        try:
            feed(self._channel, vec_bytes(frame.buf))
        except Exception:  # noqa: BLE001 - never let a feed error reach SWIG's printer
            self._feed = None


class LevelMeter(pj.AudioMediaPort):  # type: ignore[misc]
    """Counts the seconds of non-silent audio a leg receives (``seconds``).

    Pure Python on the int16 samples, about 10 us per 20 ms frame at 8 kHz. Only the media
    thread writes ``seconds``; a float store is atomic under the GIL, so readers need no lock.
    """

    def __init__(self, sample_rate: int) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.seconds = 0.0
        self.active = False

    def attach(self) -> None:
        """Start counting from zero (the meter may have served another leg before)."""
        self.seconds = 0.0
        self.active = True

    def detach(self) -> None:
        """Stop counting."""
        self.active = False

    def onFrameReceived(self, frame: Any) -> None:  # name fixed by pjsua2; media thread
        if not self.active or frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO or not frame.size:
            return
        pcm = vec_bytes(frame.buf)
        count = len(pcm) // 2
        if not count:
            return
        samples = memoryview(pcm)[: count * 2].cast("h")
        energy = sum(map(operator.mul, samples, samples))
        if energy > SILENCE_RMS * SILENCE_RMS * count:
            self.seconds += count / self.sample_rate
