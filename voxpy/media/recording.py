"""Record calls to MP3 while they run, and repair recordings a crashed worker left behind.

The SIP stack's media thread hands 20 ms frames of 16-bit mono PCM (native byte order:
little-endian wherever voxpy runs) to :meth:`Mp3Recorder.feed`, which only enqueues them.
One writer thread per recorder pairs the two directions (channel 0 = what the engine sends,
LEFT; channel 1 = what the caller sends, RIGHT - VoxEngine's layout), mixes or interleaves
them, encodes with LAME and writes ``<name>.mp3.part``, renamed to ``<name>.mp3`` at close.

This module imports nothing from voxpy but :mod:`voxpy.errors`.
"""

from __future__ import annotations

import contextlib
import operator
import os
import queue
import threading
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

import lameenc
import structlog
from structlog.typing import FilteringBoundLogger

from voxpy.errors import InvalidArgumentError, MediaError

_LOG: FilteringBoundLogger = structlog.get_logger("voxpy.recording")
_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_MAX_LAG = 0.2  # seconds one direction may trail the other before it is padded with silence
_BATCH = 0.1  # seconds the writer lets frames pile up: ~10 wake-ups/s instead of 100
LAME_LATENCY = (576 + 529 + 1152) / 8000
"""Seconds of fed audio LAME may hold back at 8 kHz: encoder delay plus up to a frame being
filled (1152 samples: two MPEG-2.5 granules). Less at higher rates."""


def _mix(left: bytes, right: bytes) -> bytes:
    """Sum two equally long s16 buffers sample by sample, clipping instead of wrapping."""
    total = list(map(operator.add, array("h", left), array("h", right)))
    if total and (max(total) > 32767 or min(total) < -32768):
        total = [32767 if v > 32767 else -32768 if v < -32768 else v for v in total]
    return array("h", total).tobytes()


def _interleave(left: bytes, right: bytes) -> bytes:
    """L0 R0 L1 R1 ... from two equally long s16 buffers (byte order is preserved)."""
    out = array("h", bytes(2 * len(left)))
    out[0::2] = array("h", left)
    out[1::2] = array("h", right)
    return out.tobytes()


class Mp3Recorder:
    """Encode a call to MP3 in real time on a writer thread of its own.

    ``feed`` never blocks and never fails on I/O: the writer owns the encoder and the file,
    and keeps the first exception it meets (``error``) - ``close`` then raises
    :class:`MediaError` and leaves the ``.part`` file for :func:`repair`. Mono recorders mix
    channel 1 in once it is fed.

    What a crash loses: the writer wakes every ``_BATCH`` (0.1 s), encodes what was fed and
    hands it to the kernel at once (``flush``), so a killed worker (kill -9, OOM) loses at
    most that batch plus LAME's look-ahead (:data:`LAME_LATENCY`): about 0.3 s. Before, the
    encoded bytes sat in Python's file buffer until the next fsync, and a kill lost 1.3 s.
    ``flush_interval`` is the fsync period, which only a crash of the machine needs.
    """

    def __init__(
        self,
        path: Path,
        *,
        stereo: bool = False,
        sample_rate: int = 8000,
        bitrate: int = 32,
        flush_interval: float = 0.5,
        logger: FilteringBoundLogger | None = None,
    ) -> None:
        if sample_rate not in _RATES:
            raise InvalidArgumentError(f"sample_rate {sample_rate} is not one MP3 supports")
        self.path = Path(path)
        self.part_path = self.path.with_suffix(self.path.suffix + ".part")
        self.stereo, self.sample_rate = stereo, sample_rate
        self._flush_interval = flush_interval
        self._log = (logger or _LOG).bind(recording=str(self.path))
        self._encoder = lameenc.Encoder()
        self._encoder.set_bit_rate(bitrate)
        self._encoder.set_in_sample_rate(sample_rate)
        self._encoder.set_channels(2 if stereo else 1)
        self._encoder.set_quality(7)  # 2 = best, 7 = fast: telephony audio gains nothing more
        try:
            self._file = open(self.part_path, "wb")  # noqa: SIM115 - owned by the writer thread
        except OSError as exc:
            raise MediaError(f"cannot create recording {self.part_path}: {exc}") from exc
        self._queue: queue.SimpleQueue[tuple[int, bytes]] = queue.SimpleQueue()
        self._bufs = (bytearray(), bytearray())
        self._seen = [False, False]
        self._debt = [0, 0]  # bytes of silence padded into each channel that late audio may owe
        self._max_lag = int(_MAX_LAG * sample_rate) * 2
        self._samples, self._cpu = 0, 0.0  # written per channel; writer thread CPU seconds
        self._written = threading.Condition()  # notified each time data reached the kernel
        self._handed = 0  # samples per channel encoded and flushed to the kernel
        self._error: Exception | None = None
        self._closing = False
        self._close_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"mp3:{self.path.name}", daemon=True)
        self._thread.start()

    @property
    def duration(self) -> float:
        """Seconds of audio encoded so far (the final length once closed)."""
        return self._samples / self.sample_rate

    @property
    def error(self) -> Exception | None:
        """The exception that stopped the writer (disk full, encoder failure), if any."""
        return self._error

    def wait_written(self, seconds: float, timeout: float) -> bool:
        """Until ``seconds`` of audio per channel were encoded and handed to the kernel (what
        a killed process would leave behind, less LAME's look-ahead); False on timeout."""
        target = round(seconds * self.sample_rate)
        with self._written:
            return self._written.wait_for(lambda: self._handed >= target, timeout)

    def feed(self, channel: int, pcm: bytes) -> None:
        """Queue one frame of s16le PCM for ``channel`` (0 = left/mono, 1 = right).

        Safe on the media thread: no encoding, no I/O, no lock. Ignored once closing or
        failed. ``pcm`` must not be mutated afterwards (``bytes`` objects never are).
        """
        if channel not in (0, 1):
            raise InvalidArgumentError(f"channel must be 0 or 1, not {channel!r}")
        if not self._closing and self._error is None:
            self._queue.put((channel, bytes(pcm)))

    def close(self) -> float:
        """Drain, encode the rest, fsync, rename ``.part`` to the final name; return seconds.

        Idempotent. Raises :class:`MediaError` if the writer failed (the ``.part`` stays).
        """
        with self._close_lock:
            if not self._closing:
                self._closing = True
                self._stop.set()
                self._thread.join()
                self._log.info(
                    "recording_closed",
                    duration=round(self.duration, 3),
                    cpu=round(self._cpu, 4),
                    failed=self._error is not None,
                )
        if self._error is not None:
            raise MediaError(f"recording {self.path} failed: {self._error}") from self._error
        return self.duration

    def __enter__(self) -> Mp3Recorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        started = time.thread_time()
        next_sync = time.monotonic() + self._flush_interval
        try:
            while True:
                stopping = self._stop.wait(min(_BATCH, self._flush_interval))
                if pcm := self._take(final=stopping):
                    self._file.write(self._encoder.encode(pcm))
                    self._file.flush()  # in the kernel: survives the process being killed
                    with self._written:
                        self._handed = self._samples
                        self._written.notify_all()
                if stopping:
                    break
                if time.monotonic() >= next_sync:
                    self._sync()
                    next_sync = time.monotonic() + self._flush_interval
            if self._samples:  # LAME refuses to flush an encoder that never encoded
                self._file.write(self._encoder.flush())
            self._sync()
            self._file.close()
            os.replace(self.part_path, self.path)
        # Anything (ENOSPC, EIO, a LAME error) must reach ``error`` for close() to report: an
        # exception escaping a thread is only printed, and the call would never know.
        except Exception as exc:  # noqa: BLE001 - kept in ``error``, raised by close()
            self._error = exc
            self._log.error("recording_failed", error=repr(exc))
            with contextlib.suppress(OSError):
                self._file.close()
        finally:
            self._cpu = time.thread_time() - started

    def _sync(self) -> None:  # what fsync covers is what survives a crash of the whole machine
        self._file.flush()
        os.fsync(self._file.fileno())

    def _take(self, *, final: bool) -> bytes:
        """Move queued frames into the channel FIFOs and return the PCM ready to encode."""
        while True:
            try:
                channel, pcm = self._queue.get_nowait()
            except queue.Empty:
                break
            self._bufs[channel].extend(pcm)
            self._seen[channel] = True
        left, right = self._bufs
        single = not self.stereo and not self._seen[1]  # mono, one direction: used as is
        if not single:
            self._align(final=final)
        n = (len(left) if single else min(len(left), len(right))) & ~1
        a = bytes(left[:n])
        del left[:n]
        self._samples += n // 2
        if single or not n:
            return a
        b = bytes(right[:n])
        del right[:n]
        return _interleave(a, b) if self.stereo else _mix(a, b)

    def _align(self, *, final: bool) -> None:
        """Keep the two FIFOs within ``_MAX_LAG`` of each other so the file keeps real time.

        A trailing channel (nothing sent to the caller, a stalled stream) is padded with
        silence; if its late audio then arrives in a burst, up to as much as was padded is
        dropped instead of delaying that channel for the rest of the call. At close the
        shorter channel is padded so nothing fed is lost.
        """
        lag = len(self._bufs[0]) - len(self._bufs[1])
        if abs(lag) <= (0 if final else self._max_lag):
            return
        ahead, behind = (0, 1) if lag > 0 else (1, 0)
        excess = abs(lag) & ~1
        drop = min(self._debt[ahead], excess)  # at close too: silence already stood in
        del self._bufs[ahead][:drop]
        self._debt[ahead] -= drop
        excess -= drop
        self._bufs[behind].extend(bytes(excess))
        self._debt[behind] += excess


_BITRATES = {  # layer III, kbit/s by bitrate index (0 = free format, 15 = bad: not accepted)
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _frame_at(data: bytes, pos: int) -> tuple[int, int] | None:
    """``(version|sample rate key, length)`` of the MPEG layer III header at ``pos``, or None."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    version, layer = (data[pos + 1] >> 3) & 3, (data[pos + 1] >> 1) & 3
    br_index, sr_index = data[pos + 2] >> 4, (data[pos + 2] >> 2) & 3
    if version == 1 or layer != 1 or br_index in (0, 15) or sr_index == 3:
        return None
    bitrate = _BITRATES[1 if version == 3 else 2][br_index] * 1000
    rate = _SAMPLE_RATES[version][sr_index]
    padding = (data[pos + 2] >> 1) & 1
    return version << 2 | sr_index, (144 if version == 3 else 72) * bitrate // rate + padding


def mp3_frames(data: bytes) -> Iterator[tuple[int, int]]:
    """Yield ``(offset, length)`` of each complete MPEG-1/2/2.5 layer III frame in ``data``.

    Frames must follow one another (after an optional ID3v2 tag) with the same version and
    sample rate as the first; iteration stops at the first byte that does not start such a
    frame, or at a frame that runs past the end of ``data`` (a torn write).
    """
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:  # size: four 7-bit "syncsafe" bytes
        pos = 10 + sum((data[6 + i] & 0x7F) << (21 - 7 * i) for i in range(4))
    kind = None
    while (frame := _frame_at(data, pos)) is not None:
        key, length = frame
        if (kind is not None and key != kind) or pos + length > len(data):
            return
        kind = key
        yield pos, length
        pos += length


def repair(directory: Path, *, older_than: float = 0.0) -> list[Path]:
    """Finish the ``*.mp3.part`` recordings in ``directory`` (not recursive); return new paths.

    An unfinished MP3 is already playable: MP3 is a plain sequence of self-contained frames,
    each with its own sync word and header, with no file header whose sizes must be filled in
    at the end (unlike WAV, whose RIFF and data chunk sizes are only known when the file is
    finished). A crash can only tear the last frame - and LAME hands out frames in pieces, so
    a killed recording nearly always ends in one. ffmpeg skips it silently, stricter players
    may report it or click. Repair cuts the file after its last complete frame, fsyncs, and
    renames it to the final ``.mp3`` name, so recordings are found where expected.

    Run it at worker start-up, or pass ``older_than`` (seconds since the last write) when
    other live recorders may be writing into the same directory. A ``.part`` without one
    complete frame, or whose ``.mp3`` already exists, is left alone and logged.
    """
    repaired: list[Path] = []
    for part in sorted(Path(directory).glob("*.mp3.part")):
        final = part.with_suffix("")
        try:
            if older_than and time.time() - part.stat().st_mtime < older_than:
                continue
            data = part.read_bytes()
            end = max((off + length for off, length in mp3_frames(data)), default=0)
            if not end or final.exists():
                why = "final name exists" if end else "no complete MP3 frame"
                _LOG.warning("recording_not_repaired", path=str(part), size=len(data), why=why)
                continue
            with open(part, "r+b") as f:
                f.truncate(end)
                os.fsync(f.fileno())
            os.replace(part, final)
        except OSError as exc:
            _LOG.error("recording_repair_failed", path=str(part), error=repr(exc))
            continue
        _LOG.info("recording_repaired", path=str(final), dropped=len(data) - end)
        repaired.append(final)
    return repaired
