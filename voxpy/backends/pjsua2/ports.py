"""Media objects whose callbacks run on pjmedia's media thread: player, capture port, meter.

There is one media thread and one bridge clock for every call in the process, so these
callbacks only record a fact or hand bytes over and return: no pj call, no lock, no I/O.
A callback that blocked would stall the audio of every call (see the pjsua2 notes, section 3).
Everything else about these objects (creating, connecting, destroying) happens on the owner
thread.

The ``AudioMediaPort`` subclasses are never destroyed while the bridge runs: it keeps
calling every registered port (heart-beat frames even when nothing is connected), and a
callback into a Python object being deallocated crashes the process (measured: SIGSEGV
within 1000 create/destroy cycles). :class:`~.portpool.PortPool` reuses them instead; their
target is switched with ``attach``/``detach``.
"""

from __future__ import annotations

import ctypes
import operator
from collections import deque
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from voxpy.backends.pjsua2.pjsip_abi import wheel_verified
from voxpy.backends.pjsua2.pjtypes import ByteVector, MediaFrame

SILENCE_RMS = 300
"RMS (of 32767) above which a frame counts as audio, not silence or comfort noise."

PortFeed = Callable[[int, bytes], None]
"Where a capture port hands its frames: ``feed(channel, pcm)``; must not block."


class MediaFaults:
    """Exceptions raised in media-thread callbacks, reported later by the owner thread.

    A callback may neither log (I/O on the media thread stalls every call's audio) nor raise
    (SWIG only prints it), so it records the failure here (a bounded deque: ``append`` and
    ``popleft`` are atomic under the GIL) and :meth:`~.media.Media.poll` logs what it takes.
    One per process, like the media thread.
    """

    def __init__(self) -> None:
        self._items: deque[tuple[str, str]] = deque(maxlen=64)

    def record(self, what: str, exc: BaseException) -> None:
        """Media thread: remember that ``what`` failed with ``exc``."""
        self._items.append((what, repr(exc)))

    def take(self) -> list[tuple[str, str]]:
        """Owner thread: the failures recorded so far, oldest first."""
        taken: list[tuple[str, str]] = []
        while self._items:
            taken.append(self._items.popleft())
        return taken


FAULTS = MediaFaults()


def _vec_bytes_fast(vector: ByteVector) -> bytes:
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


def _vec_bytes_safe(vector: ByteVector) -> bytes:
    """The slow, layout-free copy (element by element through SWIG)."""
    return bytes(vector)


def _frame_reader() -> Callable[[ByteVector], bytes]:
    """The fast read where the vector layout is verified, else the safe one.

    On the verified wheel the fast read is also checked against a known vector once: a
    libstdc++ with another layout would read garbage (or crash) on every frame.
    """
    if not wheel_verified():
        return _vec_bytes_safe
    probe = pj.ByteVector()
    for value in (1, 2, 3, 250):
        probe.append(value)
    return _vec_bytes_fast if _vec_bytes_fast(probe) == bytes(probe) else _vec_bytes_safe


vec_bytes = _frame_reader()
"Copy a frame's ``buf`` into ``bytes`` (chosen once, at import)."


def audio_format(sample_rate: int) -> Any:
    """Mono 16-bit PCM in 20 ms frames; the bridge resamples to its own clock (media.clock_rate)."""
    fmt = pj.MediaFormatAudio()
    fmt.init(pj.PJMEDIA_FORMAT_PCM, sample_rate, 1, 20000, 16)
    return fmt


class FilePlayer(pj.AudioMediaPlayer):  # type: ignore[misc]
    """A WAV player played once that reports its end once through ``on_eof(token)``.

    ``onEof2`` runs on the media thread (with the GIL). A looping prompt is a plain
    ``pj.AudioMediaPlayer`` instead (playback.py): pjmedia loops it without calling Python.
    """

    def __init__(self, token: int, on_eof: Callable[[int], None]) -> None:
        super().__init__()
        self.token = token
        self._on_eof = on_eof
        self._reported = False

    def onEof2(self) -> None:  # name fixed by pjsua2; media thread
        if self._reported:
            return
        self._reported = True
        try:
            self._on_eof(self.token)
        except Exception as exc:  # noqa: BLE001 - SWIG would only print it
            # A lost EOF leaves ``await say()`` waiting: make it visible (Media.poll logs it).
            FAULTS.record(f"player {self.token} end of file", exc)


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

    def onFrameReceived(self, frame: MediaFrame) -> None:  # name fixed by pjsua2; media thread
        feed = self._feed
        # Frames of type NONE (size 0) arrive whenever nothing transmits to the port.
        if feed is None or frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO or not frame.size:
            return
        try:
            feed(self._channel, vec_bytes(frame.buf))
        except Exception as exc:  # noqa: BLE001 - never let a feed error reach SWIG's printer
            self._feed = None  # the recording stops here: say so (Media.poll logs it)
            FAULTS.record(f"capture channel {self._channel}", exc)


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

    def onFrameReceived(self, frame: MediaFrame) -> None:  # name fixed by pjsua2; media thread
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


class TapBuffer:
    """Where a tap's capture port puts the frames it receives (media thread), and where the
    owner thread takes them from: a bounded deque, whose ``append``/``popleft`` are atomic
    under the GIL. When the owner falls behind by :data:`TAP_MAX_FRAMES`, the oldest go."""

    __slots__ = ("frames",)

    def __init__(self) -> None:
        self.frames: deque[bytes] = deque(maxlen=TAP_MAX_FRAMES)

    def push(self, channel: int, pcm: bytes) -> None:  # a PortFeed; media thread
        self.frames.append(pcm)

    def take(self) -> bytes:
        """Owner thread: every frame received so far, joined in order."""
        taken: list[bytes] = []
        frames = self.frames
        while frames:
            taken.append(frames.popleft())
        return b"".join(taken)


TAP_MAX_FRAMES = 250
"Five seconds of frames a tap keeps while the owner thread does not drain it."


class FeedPort(pj.AudioMediaPort):  # type: ignore[misc]
    """A source port that plays whole 20 ms frames queued by the owner thread.

    ``frames`` holds ``(pcm, real_bytes)`` pairs (``real_bytes`` < ``len(pcm)`` only for a
    last frame padded with silence). ``onFrameRequested`` pops one and adds its real bytes to
    ``played``; with nothing queued the frame stays empty (type NONE: the bridge mixes in
    silence). Only deque operations and an integer counter on the media thread; the owner
    thread reads ``played`` and swaps ``frames`` for a fresh deque on ``attach``/``detach``.
    """

    def __init__(self, sample_rate: int) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.frames: deque[tuple[bytes, int]] = deque()
        self.played = 0
        self._active = False

    def attach(self) -> None:
        """Start playing from an empty queue, counting from zero."""
        self.frames = deque()
        self.played = 0
        self._active = True

    def detach(self) -> None:
        """Stop playing (a frame popped just before still goes out)."""
        self._active = False
        self.frames = deque()

    def onFrameRequested(self, frame: MediaFrame) -> None:  # name fixed by pjsua2; media thread
        if not self._active:
            return
        try:
            pcm, real = self.frames.popleft()
        except IndexError:
            return  # an empty frame: silence
        try:
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = pj.ByteVector(pcm)
            frame.size = len(pcm)
        except Exception as exc:  # noqa: BLE001 - SWIG would only print it
            FAULTS.record("feed frame", exc)
            return
        self.played += real
