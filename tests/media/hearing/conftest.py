"""Generated audio for the hearing tests: 8 and 16 kHz, clean or through noise and G.711."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from voxpy.media.hearing import synth

Degrade = Callable[[bytes, int], bytes]


def clean(pcm: bytes, rate: int) -> bytes:
    return pcm


def phone_line(pcm: bytes, rate: int) -> bytes:
    """White noise 30 dB under a -20 dBFS talker (fixed seed), then G.711 mu-law both ways."""
    return synth.g711(synth.add_noise(pcm, 30, seed=13, ref_dbfs=-20), rate)


@pytest.fixture(params=[8000, 16000], ids=["8k", "16k"])
def rate(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture(params=[clean, phone_line], ids=["clean", "line"])
def degrade(request: pytest.FixtureRequest) -> Degrade:
    return request.param  # type: ignore[no-any-return]


GREETING = (
    "Hi, you have reached the voicemail of John Smith. I am not available right now. "
    "Please leave your name and number after the tone."
)
PROMPT = "Please enter your account number, followed by the pound key."
