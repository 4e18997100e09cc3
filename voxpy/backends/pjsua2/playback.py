"""Opening a playback: WAV header, pjsua player, and the hand-over of end-of-file events.

The player's EOF callback runs on the media thread, so it only queues the playback's token
and wakes the owner thread; :meth:`EofQueue.take` is drained there, where the player is
destroyed and PlayEnded is emitted.

A looping player has no Python callback at all: pjmedia's WAV port rewinds by itself (no
PJMEDIA_FILE_NO_LOOP), and a plain ``pj.AudioMediaPlayer`` (no SWIG director) keeps pjsua2's
EOF hook in C++. A Python ``onEof2`` there would take the GIL on pjmedia's clock thread at
every wrap, and that thread clocks every call of the worker: measured with a Python thread
busy (switch interval 5 ms), a clock-thread callback ran up to 10 ms late (gap p99 25.4 ms,
max 29.9 ms, against 20.5 / 21.5 ms with no Python thread running).
"""

from __future__ import annotations

import itertools
import queue
import wave
from collections.abc import Callable
from dataclasses import dataclass

import pjsua2 as pj

from voxpy.backends.pjsua2.errors import reason_of
from voxpy.backends.pjsua2.ports import FilePlayer


class PlaybackError(Exception):
    """The file cannot be played; the message goes into PlayEnded.error."""


@dataclass(eq=False)
class Playback:
    """One Play command: its player and whether PlayStarted has been emitted."""

    call_id: str
    playback_id: str
    player: pj.AudioMediaPlayer
    duration: float
    token: int
    "Unique in this process: EOF events name playbacks by it."
    started: bool = False


class EofQueue:
    """Tokens of players that reached their end; fed on the media thread."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._tokens: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._wake = wake
        self._counter = itertools.count(1)

    def next_token(self) -> int:
        """A fresh token for a new player."""
        return next(self._counter)

    def put(self, token: int) -> None:
        """Media thread: record the end and wake the owner's poll (a non-blocking send).

        The token is queued before the wake: should the wake fail, the owner's next poll
        (within ``poll_ms``) still finishes the playback."""
        self._tokens.put(token)
        self._wake()

    def take(self) -> list[int]:
        """Owner thread: every token queued so far."""
        tokens: list[int] = []
        while True:
            try:
                tokens.append(self._tokens.get_nowait())
            except queue.Empty:
                return tokens


def wav_duration(path: str) -> float | None:
    """Seconds of one pass from the WAV header; None when ``wave`` cannot read the format.

    ``wave`` reads only PCM; pjsua also plays G.711 WAV, whose length then comes from the
    Play command. A missing file raises PlaybackError.
    """
    try:
        with wave.open(path, "rb") as wav:
            rate = wav.getframerate()
            return wav.getnframes() / rate if rate else None
    except FileNotFoundError:
        raise PlaybackError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise PlaybackError(f"not a file: {path}") from None
    except PermissionError as exc:
        raise PlaybackError(f"cannot read {path}: {exc.strerror}") from None
    except (wave.Error, EOFError, OSError):
        return None


def open_playback(
    call_id: str,
    playback_id: str,
    path: str,
    *,
    loop: bool,
    fallback_duration: float,
    eofs: EofQueue,
) -> Playback:
    """A player ready to transmit (nothing is connected yet); raises PlaybackError."""
    duration = wav_duration(path)
    token = eofs.next_token()
    # A loop never ends: no Python EOF callback on the clock thread (see the module doc).
    player = pj.AudioMediaPlayer() if loop else FilePlayer(token, eofs.put)
    try:
        player.createPlayer(path, 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
    except pj.Error as exc:
        raise PlaybackError(f"cannot play {path}: {reason_of(exc)}") from None
    if duration is None:
        duration = fallback_duration
    return Playback(call_id, playback_id, player, round(duration, 3), token)
