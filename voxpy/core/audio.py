"""Audio encodings of WebSocket media streams, and the conversions to and from voxpy's own format.

voxpy's own format ("internal PCM") is what a pjsua2 audio port hands over and takes back:
16-bit signed little-endian mono samples at the conference bridge's clock rate, 8 or 16 kHz
(:data:`INTERNAL_RATES`). The wire encodings are VoxEngine's ``WebSocketAudioEncoding`` names;
their L16 samples are little-endian too (what the port produces, sent as is), the G.711 ones
one byte a sample. Pure: no clock, no I/O; every converter keeps its state between chunks.

The codecs and the resampler are the standard library's ``audioop`` (C, well tested, used by
pydub) rather than hand-written loops. It is deprecated since Python 3.11 and gone in 3.13;
voxpy runs on 3.11 and 3.12 only (the pjsua2 wheel), and on 3.13 the ``audioop-lts`` backport
installs the same module under the same name. ``audioop`` works in native byte order: every
platform the pjsua2 wheel is built for is little-endian, which the L16 paths rely on.
"""

from __future__ import annotations

import warnings
from enum import StrEnum

from voxpy.errors import InvalidArgumentError

# Importing it warns once ("'audioop' is deprecated and slated for removal in Python 3.13").
# The warning is about a future we have a plan for (above), not something a user of voxpy can
# act on, and pytest would print it in every run: so it is silenced here, for this one import.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

SAMPLE_WIDTH = 2
"bytes per internal sample (16-bit)"
INTERNAL_RATES = (8000, 16000)
"the clock rates pjsua2's conference bridge runs at in voxpy"
FRAME_MS = 20
"one frame: what a media port moves per tick, and the chunk size VoxEngine and Twilio use"


class Encoding(StrEnum):
    """VoxEngine's WebSocketAudioEncoding (``PCM16_8KHZ`` is ``PCM8``, ``PCM16_16KHZ`` is
    ``PCM16``). OPUS is not offered: the streams carry raw 20 ms frames only."""

    PCM8 = "PCM8"
    "L16 at 8 kHz (VoxEngine's default)"
    PCM16 = "PCM16"
    "L16 at 16 kHz"
    ULAW = "ULAW"
    "G.711 mu-law at 8 kHz (Twilio's only encoding)"
    ALAW = "ALAW"
    "G.711 A-law at 8 kHz"

    @property
    def sample_rate(self) -> int:
        return 16000 if self is Encoding.PCM16 else 8000

    @property
    def bytes_per_sample(self) -> int:
        return 1 if self in (Encoding.ULAW, Encoding.ALAW) else SAMPLE_WIDTH

    def frame_bytes(self, ms: int = FRAME_MS) -> int:
        """Bytes of ``ms`` milliseconds of this encoding (160 for 20 ms of ULAW)."""
        return self.sample_rate * ms // 1000 * self.bytes_per_sample

    @classmethod
    def parse(cls, value: str) -> Encoding:
        """The encoding named ``value`` (any case, and VoxEngine's ``PCM16_8KHZ`` aliases)."""
        name = value.strip().upper()
        name = {"PCM16_8KHZ": "PCM8", "PCM16_16KHZ": "PCM16"}.get(name, name)
        try:
            return cls(name)
        except ValueError:
            known = ", ".join(e.value for e in cls)
            raise InvalidArgumentError(
                f"unknown audio encoding {value!r} (known: {known})"
            ) from None


def check_rate(rate: int) -> int:
    """``rate`` if it is an internal rate, else InvalidArgumentError."""
    if rate not in INTERNAL_RATES:
        raise InvalidArgumentError(f"internal sample rate must be 8000 or 16000, not {rate}")
    return rate


def frame_bytes(rate: int, ms: int = FRAME_MS) -> int:
    """Bytes of ``ms`` milliseconds of internal PCM at ``rate`` (640 for 20 ms at 16 kHz)."""
    return rate * ms // 1000 * SAMPLE_WIDTH


def silence(rate: int, ms: int = FRAME_MS) -> bytes:
    """``ms`` milliseconds of internal PCM silence."""
    return bytes(frame_bytes(rate, ms))


def mix(frames: list[bytes]) -> bytes:
    """The sum of equal-length s16 frames, clipped (as a conference bridge mixes); b"" for
    none. ``audioop.add`` saturates instead of wrapping around."""
    if not frames:
        return b""
    out = frames[0]
    for frame in frames[1:]:
        out = audioop.add(out, frame, SAMPLE_WIDTH)
    return out


class Resampler:
    """Converts a stream of 16-bit mono PCM from ``from_rate`` to ``to_rate``, chunk by chunk.

    ``audioop.ratecv`` interpolates linearly and keeps its phase in a state that is carried
    between chunks, so 20 ms pieces come out as one continuous signal (no click every frame).
    It does not low-pass before decimating: 16 to 8 kHz folds content above 4 kHz back into
    the band. Telephone speech has little there, and a bot that wants more asks for PCM16.
    """

    __slots__ = ("_from", "_state", "_to")

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self._from, self._to = from_rate, to_rate
        self._state: tuple[int, tuple[tuple[int, int], ...]] | None = None

    def convert(self, pcm: bytes) -> bytes:
        if self._from == self._to or not pcm:
            return pcm
        out, self._state = audioop.ratecv(pcm, SAMPLE_WIDTH, 1, self._from, self._to, self._state)
        return out


class Encoder:
    """Internal PCM at ``rate`` in, bytes of ``encoding`` out (any length in, what it gives out)."""

    __slots__ = ("_resampler", "encoding")

    def __init__(self, encoding: Encoding, rate: int) -> None:
        self.encoding = encoding
        self._resampler = Resampler(check_rate(rate), encoding.sample_rate)

    def encode(self, pcm: bytes) -> bytes:
        wire = self._resampler.convert(pcm)
        if self.encoding is Encoding.ULAW:
            return audioop.lin2ulaw(wire, SAMPLE_WIDTH)
        if self.encoding is Encoding.ALAW:
            return audioop.lin2alaw(wire, SAMPLE_WIDTH)
        return wire


class Decoder:
    """Bytes of ``encoding`` in, internal PCM at ``rate`` out.

    An L16 payload must hold whole samples; :meth:`decode` raises InvalidArgumentError for an
    odd length (the protocol turns that into a MalformedMessage).
    """

    __slots__ = ("_resampler", "encoding")

    def __init__(self, encoding: Encoding, rate: int) -> None:
        self.encoding = encoding
        self._resampler = Resampler(encoding.sample_rate, check_rate(rate))

    def decode(self, data: bytes) -> bytes:
        if self.encoding is Encoding.ULAW:
            pcm = audioop.ulaw2lin(data, SAMPLE_WIDTH)
        elif self.encoding is Encoding.ALAW:
            pcm = audioop.alaw2lin(data, SAMPLE_WIDTH)
        elif len(data) % SAMPLE_WIDTH:
            raise InvalidArgumentError(f"{self.encoding} payload of odd length {len(data)}")
        else:
            pcm = data
        return self._resampler.convert(pcm)


class FrameChunker:
    """Bytes of any length in, whole frames of ``size`` bytes out; the remainder waits.

    Media arrives in pieces that do not line up with 20 ms (a resampler's output, a bot's
    chunks): this is where they become frames.
    """

    __slots__ = ("_buf", "size")

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise InvalidArgumentError(f"frame size must be positive, not {size}")
        self.size = size
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back, fewer than one frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """The whole frames ``data`` completes, oldest first."""
        self._buf += data
        whole = len(self._buf) - len(self._buf) % self.size
        frames = [bytes(self._buf[i : i + self.size]) for i in range(0, whole, self.size)]
        del self._buf[:whole]
        return frames

    def flush(self) -> bytes:
        """The remainder (shorter than a frame), and start empty."""
        rest, self._buf = bytes(self._buf), bytearray()
        return rest
