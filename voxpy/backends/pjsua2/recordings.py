"""A call recording: two capture ports feeding an MP3 encoder, and its off-thread close.

The RX port listens to the call (what the far end sends, channel 1 = right); the TX port
listens to whatever is the leg's current source (what the engine sends, channel 0 = left).
Both are 8 kHz (or the asked rate) mono ports: the bridge resamples from its 16 kHz clock.
The ports come from, and go back to, the :class:`~.portpool.PortPool`.
Closing the encoder drains and joins its writer thread, so it runs on a short-lived thread
of its own, never on the owner thread; the result is emitted from there (the signal sink is
thread-safe by contract).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pjsua2 as pj

from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.portpool import PortPool
from voxpy.backends.pjsua2.ports import CapturePort
from voxpy.core.commands import StartRecording
from voxpy.core.signals import RecordingFailed, RecordingStopped, Signal
from voxpy.errors import VoxpyError
from voxpy.media.recording import Mp3Recorder

SENT = 0
"Channel of what the engine sends to the leg (left)."
RECEIVED = 1
"Channel of what the far end sends (right)."
CLOSE_TIMEOUT_S = 5.0


class Recording:
    """One StartRecording: the encoder and its two ports. Owner thread, except ``close``."""

    def __init__(self, command: StartRecording, pool: PortPool) -> None:
        self.call_id = command.call_id
        self.recording_id = command.recording_id
        self.path = command.path
        # Raises MediaError/InvalidArgumentError (bad rate, unwritable path): no ports yet.
        self.recorder = Mp3Recorder(
            Path(command.path),
            stereo=command.stereo,
            sample_rate=command.sample_rate,
            bitrate=command.bitrate,
        )
        self.rx: CapturePort | None = None
        self.tx: CapturePort | None = None
        try:
            rate = command.sample_rate
            self.rx = pool.capture(rate, self.recorder.feed, RECEIVED)
            self.tx = pool.capture(rate, self.recorder.feed, SENT)
        except Exception:
            pool.give(*self.detach())  # no frame may reach a closed file
            threading.Thread(target=self._close_quietly, daemon=True).start()
            raise

    def detach(self) -> list[CapturePort]:
        """Stop feeding the encoder now; returns the ports for the pool."""
        ports = [port for port in (self.rx, self.tx) if port is not None]
        for port in ports:
            port.detach()
        self.rx = self.tx = None
        return ports

    def close(self, emit: Callable[[Signal], None], logger: Logger) -> None:
        """Finish the MP3 and emit RecordingStopped or RecordingFailed (blocking)."""
        started = time.monotonic()
        try:
            duration = self.recorder.close()
        except VoxpyError as exc:  # MediaError: the writer failed (disk full, encoder)
            logger.warning("recording_failed", recording_id=self.recording_id, error=str(exc))
            self._failed(emit, str(exc))
            return
        except Exception as exc:  # the runtime must hear an outcome whatever happened
            logger.exception("recording_close_failed", recording_id=self.recording_id)
            self._failed(emit, f"recording failed: {exc}")
            return
        logger.debug(
            "recording_closed",
            recording_id=self.recording_id,
            duration=round(duration, 3),
            close_s=round(time.monotonic() - started, 3),
        )
        emit(
            RecordingStopped(
                call_id=self.call_id,
                recording_id=self.recording_id,
                path=self.path,
                duration=round(duration, 3),
            )
        )

    def _failed(self, emit: Callable[[Signal], None], error: str) -> None:
        emit(RecordingFailed(call_id=self.call_id, recording_id=self.recording_id, error=error))

    def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):  # the start already failed and was reported
            self.recorder.close()


def start_recording(
    command: StartRecording, pool: PortPool, emit: Callable[[Signal], None], logger: Logger
) -> Recording | None:
    """A Recording for ``command``, or None after emitting RecordingFailed."""
    try:
        return Recording(command, pool)
    except (VoxpyError, pj.Error) as exc:  # bad rate, unwritable path, no bridge slot
        logger.warning(
            "recording_start_failed",
            call_id=command.call_id,
            recording_id=command.recording_id,
            error=str(exc),
        )
        emit(
            RecordingFailed(
                call_id=command.call_id, recording_id=command.recording_id, error=str(exc)
            )
        )
        return None


class Closers:
    """The threads closing recordings; joined (bounded) before the backend stops."""

    def __init__(self, emit: Callable[[Signal], None], logger: Logger) -> None:
        self._emit = emit
        self._logger = logger
        self._threads: list[threading.Thread] = []

    def close(self, recording: Recording) -> None:
        """Close ``recording`` on a thread of its own; its signal follows from there."""
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(
            target=recording.close,
            args=(self._emit, self._logger),
            name=f"rec-close-{recording.recording_id}",
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()

    def join(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Wait for every close to finish, at most ``timeout`` seconds in total."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        late = [t.name for t in self._threads if t.is_alive()]
        if late:
            self._logger.warning("recordings_still_closing", threads=late)
        self._threads.clear()
