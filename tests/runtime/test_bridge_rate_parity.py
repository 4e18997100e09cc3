"""One voice, both backends, an 8 kHz bridge (issue 15): a caller's tone bridged to another
leg is heard at the same frequency and level in memory mode and over pjsua2.

The memory network has no conference bridge, but its feeds and taps travel at the bridge's
clock (the harness passes ``Settings.bridge_rate()`` as its wire rate), so it resamples where
pjsua2 would. On a 16 kHz wire the linear resampling 8 -> 16 -> 8 kHz took 0.7 dB off this
tone (-10.69 dBFS); at 8 kHz it arrives untouched, as over two PCMU legs (-10.0 dBFS).
"""

from __future__ import annotations

from tests.backends.tonefit import analyse, tone_pcm
from tests.conftest import Harness
from tests.runtime.test_units import LAB, placed

RATE = 8000


async def test_a_bridged_tone_sounds_the_same_on_both_backends(voxpy_harness: Harness) -> None:
    config = {"sip.codecs": ["PCMU/8000", "PCMA/8000"]}  # auto: an 8 kHz bridge
    h = await voxpy_harness(LAB, config=config)
    assert h.settings.bridge_rate() == 8000
    speaker, hearer, _ = await placed(h, "legs", 3)  # the lab bridges the first two legs
    hearer.listen(RATE)
    speaker.send_audio(tone_pcm(1000.0, -10.0, RATE, seconds=3.0), RATE)
    await h.wait_until(lambda: len(hearer.heard_pcm()) >= 100 * 320, 10, "2 s", hearer)
    tone = analyse(hearer.heard_pcm(), RATE)
    assert abs(tone["hz"] - 1000) < 5, tone
    assert abs(tone["dbfs"] + 10.0) < 0.5, tone
    assert tone["thdn_db"] < -35, tone
