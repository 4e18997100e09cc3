"""Feeds and the checks of tap/feed commands, shared by the pjsua2 and the in-memory backend.

A :class:`Feed` is the owner-side half of StartFeed: FeedAudio is cut into whole 20 ms frames
here and queued on a :class:`FrameQueue` (the pjsua2 ``FeedPort``, whose media-thread callback
pops them, or the memory network's clocked stand-in); a remainder shorter than a frame waits
for more and is padded with silence once everything before it has played. The queue is
bounded at :data:`~voxpy.core.commands.FEED_BUFFER_S`: beyond it the oldest frames are dropped.
Each queued item is ``(pcm, real_bytes)`` and is taken by exactly one side (a ``deque``'s
``append``/``popleft`` are atomic under the GIL), so the counters never disagree.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Generic, Protocol, TypeVar

from voxpy.core import signals as sig
from voxpy.core.audio import FRAME_MS, INTERNAL_RATES, SAMPLE_WIDTH, frame_bytes
from voxpy.core.commands import FEED_BUFFER_S
from voxpy.errors import InvalidArgumentError

REPORT_EVERY_S = 0.1
"FeedPlayed at most this often while the counts change (and at once when the buffer empties)."


class FrameQueue(Protocol):
    """Where a feed's frames wait to be played: its consumer pops them and counts ``played``."""

    sample_rate: int
    frames: deque[tuple[bytes, int]]
    played: int


Q = TypeVar("Q", bound=FrameQueue)


def check_stream_rate(sample_rate: object) -> int:
    """``sample_rate`` if it is one a tap or feed can run at; InvalidArgumentError otherwise."""
    if type(sample_rate) is not int or sample_rate not in INTERNAL_RATES:
        rates = " or ".join(str(r) for r in INTERNAL_RATES)
        raise InvalidArgumentError(f"sample_rate must be {rates}, got {sample_rate!r}")
    return sample_rate


def check_stream_id(command: object) -> None:
    """InvalidArgumentError unless the command's ``tap_id``/``feed_id`` is a non-empty string
    (the wire does not check field types)."""
    for name in ("tap_id", "feed_id"):
        value = getattr(command, name, "-")
        if not isinstance(value, str) or not value:
            raise InvalidArgumentError(f"{name} must be a non-empty string, got {value!r}")


def check_pcm(pcm: object) -> bytes:
    """``pcm`` as bytes if it is whole 16-bit samples; InvalidArgumentError otherwise."""
    if not isinstance(pcm, bytes | bytearray | memoryview):
        raise InvalidArgumentError(f"pcm must be bytes, got {type(pcm).__name__}")
    data = bytes(pcm)
    if len(data) % SAMPLE_WIDTH:
        raise InvalidArgumentError(
            f"pcm must be whole 16-bit samples (an even number of bytes), got {len(data)} bytes"
        )
    return data


class Feed(Generic[Q]):
    """One StartFeed: its port, the remainder of the last FeedAudio, and the counters."""

    def __init__(self, call_id: str, feed_id: str, port: Q) -> None:
        self.call_id = call_id
        self.feed_id = feed_id
        self.port = port
        self.frame = frame_bytes(port.sample_rate)
        self.max_frames = round(FEED_BUFFER_S * 1000 / FRAME_MS)
        self.pending = b""
        self.fed = 0
        self.dropped = 0
        self.cleared = 0
        self._reported: tuple[int, int, int] = (0, 0, 0)
        self._reported_at = 0.0

    @property
    def buffered(self) -> int:
        """Bytes fed and not yet played, dropped or cleared (never below 0)."""
        return max(0, self.fed - self.port.played - self.dropped - self.cleared)

    def add(self, pcm: bytes) -> None:
        """Queue ``pcm`` (whole samples) as whole frames; drop the oldest beyond the bound."""
        self.fed += len(pcm)
        data = self.pending + pcm if self.pending else pcm
        size = self.frame
        whole = len(data) - len(data) % size
        frames = self.port.frames
        first = max(0, whole - self.max_frames * size)  # what would only be dropped again
        self.dropped += first
        for start in range(first, whole, size):
            frames.append((data[start : start + size], size))
        self.pending = data[whole:]
        while len(frames) > self.max_frames:
            try:
                _, real = frames.popleft()
            except IndexError:  # the media thread took the last one meanwhile
                break
            self.dropped += real

    def clear(self) -> None:
        """Drop everything queued now (each frame is taken by exactly one thread)."""
        frames = self.port.frames
        while True:
            try:
                _, real = frames.popleft()
            except IndexError:
                break
            self.cleared += real
        self.cleared += len(self.pending)
        self.pending = b""

    def flush(self) -> None:
        """Owner poll: once the queue ran dry, play the remainder padded with silence."""
        if self.pending and not self.port.frames:
            pcm, self.pending = self.pending, b""
            self.port.frames.append((pcm + bytes(self.frame - len(pcm)), len(pcm)))

    def report(self, now: float | None = None, force: bool = False) -> sig.FeedPlayed | None:
        """A FeedPlayed if the counts changed and one is due (or ``force``), else None."""
        now = time.monotonic() if now is None else now
        counts = (self.port.played, self.buffered, self.dropped)
        if counts == self._reported and not force:
            return None
        emptied = counts[1] == 0 and self._reported[1] != 0
        if not (force or emptied or now - self._reported_at >= REPORT_EVERY_S):
            return None
        self._reported, self._reported_at = counts, now
        return sig.FeedPlayed(
            call_id=self.call_id,
            feed_id=self.feed_id,
            played_bytes=counts[0],
            buffered_bytes=counts[1],
            dropped_bytes=counts[2],
        )
