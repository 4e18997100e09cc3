"""Taps: the far end's audio to the runtime as PCM frames. Owner thread only.

A :class:`Tap` is a pooled :class:`~.ports.CapturePort` that listens to the leg (what the far
end sends, resampled by the bridge to the tap's rate) and feeds a :class:`~.ports.TapBuffer`
on the media thread; :meth:`Tap.take` drains it on every owner poll into one AudioFrames.
Feeds (the runtime's PCM into the leg) are :class:`voxpy.backends.streams.Feed` objects on a
pooled :class:`~.ports.FeedPort`, the leg's source in the routing (:mod:`.routing`).
"""

from __future__ import annotations

from voxpy.backends.pjsua2.ports import CapturePort, TapBuffer
from voxpy.core import signals as sig


class Tap:
    """One StartTap: a capture port listening to the leg and its frame buffer."""

    def __init__(self, call_id: str, tap_id: str, port: CapturePort, buffer: TapBuffer) -> None:
        self.call_id = call_id
        self.tap_id = tap_id
        self.port = port
        self.buffer = buffer

    def take(self) -> sig.AudioFrames | None:
        """The frames captured since the last take, as one signal (None if there are none)."""
        pcm = self.buffer.take()
        if not pcm:
            return None
        return sig.AudioFrames(call_id=self.call_id, tap_id=self.tap_id, pcm=pcm)
