"""Wire encodings, resampling and 20 ms framing (voxpy.core.audio)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.core.tones import assert_tone, samples, sine
from voxpy.core.audio import (
    Decoder,
    Encoder,
    Encoding,
    FrameChunker,
    Resampler,
    frame_bytes,
    silence,
)
from voxpy.errors import InvalidArgumentError


def test_importing_audioop_does_not_warn() -> None:
    # The deprecation warning is silenced where audioop is imported; -W error proves it.
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", "import voxpy.core.audio"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("encoding", "rate", "frame"),
    [
        (Encoding.PCM8, 8000, 320),
        (Encoding.PCM16, 16000, 640),
        (Encoding.ULAW, 8000, 160),
        (Encoding.ALAW, 8000, 160),
    ],
)
def test_encoding_units(encoding: Encoding, rate: int, frame: int) -> None:
    assert encoding.sample_rate == rate
    assert encoding.frame_bytes() == frame


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PCM8", Encoding.PCM8),
        ("pcm16", Encoding.PCM16),
        ("PCM16_8KHZ", Encoding.PCM8),
        ("PCM16_16KHZ", Encoding.PCM16),
        (" ulaw ", Encoding.ULAW),
        ("ALAW", Encoding.ALAW),
    ],
)
def test_parse_names_and_aliases(name: str, expected: Encoding) -> None:
    assert Encoding.parse(name) is expected


def test_parse_refuses_unknown_names() -> None:
    with pytest.raises(InvalidArgumentError, match="OPUS"):
        Encoding.parse("OPUS")


def test_internal_rate_must_be_the_bridges() -> None:
    with pytest.raises(InvalidArgumentError, match="44100"):
        Encoder(Encoding.ULAW, 44100)
    assert frame_bytes(16000) == 640 == len(silence(16000))
    assert frame_bytes(8000) == 320


@pytest.mark.parametrize("encoding", list(Encoding))
@pytest.mark.parametrize("rate", [8000, 16000])
def test_440_hz_survives_the_round_trip(encoding: Encoding, rate: int) -> None:
    """Caller audio -> wire -> back, in 20 ms pieces, is still a 440 Hz tone at each rate."""
    tone = sine(440, rate, 500)
    encoder, decoder = Encoder(encoding, rate), Decoder(encoding, rate)
    step = frame_bytes(rate)
    wire = b"".join(encoder.encode(tone[i : i + step]) for i in range(0, len(tone), step))
    expected = len(tone) * encoding.sample_rate // rate * encoding.bytes_per_sample // 2
    assert abs(len(wire) - expected) <= 4 * encoding.bytes_per_sample
    assert_tone(_as_pcm(wire, encoding), encoding.sample_rate)  # right rate on the wire
    back = decoder.decode(wire)
    assert abs(len(back) - len(tone)) <= 8
    assert_tone(back, rate)


def _as_pcm(wire: bytes, encoding: Encoding) -> bytes:
    return Decoder(encoding, encoding.sample_rate).decode(wire)


@pytest.mark.parametrize("encoding", [Encoding.ULAW, Encoding.ALAW])
def test_g711_is_close_to_the_original(encoding: Encoding) -> None:
    tone = sine(440, 8000, 100)
    back = Decoder(encoding, 8000).decode(Encoder(encoding, 8000).encode(tone))
    assert len(back) == len(tone)
    worst = max(abs(a - b) for a, b in zip(samples(tone), samples(back), strict=True))
    assert worst < 8000 * 0.04  # G.711 keeps ~3 % of the amplitude


def test_l16_at_the_same_rate_is_passed_through() -> None:
    tone = sine(440, 16000, 40)
    assert Encoder(Encoding.PCM16, 16000).encode(tone) == tone
    assert Decoder(Encoding.PCM8, 8000).decode(tone) == tone


def test_the_resampler_keeps_its_state_between_chunks() -> None:
    tone = sine(440, 16000, 200)
    whole = Resampler(16000, 8000).convert(tone)
    chunked = Resampler(16000, 8000)
    pieces = b"".join(chunked.convert(tone[i : i + 222]) for i in range(0, len(tone), 222))
    assert pieces == whole


def test_l16_payload_of_odd_length_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="odd"):
        Decoder(Encoding.PCM16, 16000).decode(b"\x00\x01\x02")


class TestFrameChunker:
    def test_arbitrary_pieces_become_whole_frames(self) -> None:
        chunker = FrameChunker(160)
        data = bytes(range(256)) * 5  # 1280 bytes: 8 frames
        frames = []
        for size in (1, 159, 7, 300, 13, 800):
            frames += chunker.feed(data[:size])
            data = data[size:]
        assert [len(f) for f in frames] == [160] * 8
        assert b"".join(frames) == (bytes(range(256)) * 5)[:1280]
        assert chunker.pending == 0

    def test_the_remainder_waits_and_can_be_flushed(self) -> None:
        chunker = FrameChunker(4)
        assert chunker.feed(b"abcdef") == [b"abcd"]
        assert chunker.pending == 2
        assert chunker.feed(b"gh") == [b"efgh"]
        assert chunker.feed(b"x") == []
        assert chunker.flush() == b"x"
        assert chunker.pending == 0

    def test_size_must_be_positive(self) -> None:
        with pytest.raises(InvalidArgumentError):
            FrameChunker(0)
