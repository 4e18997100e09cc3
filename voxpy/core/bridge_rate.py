"""The conference bridge's clock rate, from the configured codecs (pure: no pjsua2, no I/O).

pjmedia's bridge runs every port at one clock rate and resamples each port whose rate differs,
every 20 ms, in both directions. With G.711 calls (8 kHz) on a 16 kHz bridge that is two
resamplers per call; at 400 calls they were about 30 % of the CPU (issue 15: bare pjsua2 went
from ~165 % to ~120 % of the machine with an 8 kHz bridge and 8 kHz prompts). An 8 kHz bridge
would cut a wideband call (G.722) to telephone band, so ``auto`` picks 8 kHz only when no
wideband codec is enabled at all.

The rate is chosen once, when the endpoint starts: pjsua2 cannot change the bridge's clock of a
running endpoint, so what one call negotiates cannot change it. Enabling G.722 "at a lower
priority" is no way out either: pjsua answers in the offerer's codec order (pjmedia's
PJMEDIA_SDP_NEG_PREFER_REMOTE_CODEC_ORDER), so a G.722-first caller gets G.722 whatever our order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

from voxpy.errors import ConfigError

ClockRateSetting = Literal["auto", 8000, 16000, 32000, 48000]

CLOCK_RATES: Final = (8000, 16000, 32000, 48000)
"Rates the bridge may run at: pjmedia's telephony rates with a 20 ms frame of whole samples."

NARROWBAND: Final = 8000
WIDEBAND: Final = 16000

RESAMPLE_QUALITIES: Final = range(1, 11)
"""pjsua's medConfig.quality: 1-2 linear resampling, 3-4 the small filter, 5-10 the large
one (pjsua_media.c); the value is also speex's quality/complexity."""

DEFAULT_RESAMPLE_QUALITY: Final = 8
"""pjsua's own default, the large filter: transparent in band. Measured through a G.711 call
(bench/bridge_rate.py and tests/backends/test_bridge_rate_audio.py), a -10 dBFS tone from a
16 kHz prompt on a 16 kHz bridge arrives at -10.06 dBFS at 300 Hz, 1 and 3 kHz with quality 8,
but 1.0 dB low at 300 Hz and 1 kHz and 2.5 dB low at 3 kHz with quality 4 (the small filter),
for each resampling it passes: a bridged pair of G.711 calls passes two. Quality 4 saved 20-25 %
of the worker CPU in that bench; the 8 kHz bridge saves more (27-35 %) and loses nothing, so
the saving is taken there (``clock_rate``), not by dulling every 16 kHz deployment."""

# Codec names that run above 8 kHz whatever rate is written after them: G.722 is 16 kHz audio
# on an 8 kHz RTP clock (RFC 3551), so "G722/8000" still means wideband; opus is 48 kHz.
_WIDEBAND_NAMES: Final = frozenset({"g722", "g7221", "opus", "amr-wb", "silk"})
# Names that come in several rates in pjmedia: a bare name enables every one of them.
_MULTIRATE_NAMES: Final = frozenset({"speex", "l16", "ilbc", "g7221"})


def codec_rate(codec: str) -> int:
    """The audio rate a configured codec name brings to the bridge (``"PCMU/8000"`` -> 8000,
    ``"G722/16000"`` -> 16000, ``"speex"`` -> 32000: every speex is enabled). Unknown bare
    names count as narrowband; that is every other codec this wheel has (GSM, iLBC, G.711)."""
    name, _, rest = codec.strip().lower().partition("/")
    rate_text = rest.partition("/")[0]
    if name in _WIDEBAND_NAMES:
        return max(WIDEBAND, int(rate_text) if rate_text.isdigit() else WIDEBAND)
    if rate_text.isdigit():
        return int(rate_text)
    return 32000 if name in _MULTIRATE_NAMES - {"ilbc"} else NARROWBAND


def resolve_clock_rate(setting: str | int, codecs: Iterable[str]) -> int:
    """The bridge's rate for ``setting`` (``"auto"`` or one of :data:`CLOCK_RATES`).

    ``auto``: 8000 when every enabled codec is narrowband, else 16000 (not higher: nothing a
    phone call carries needs more, and a higher clock only costs). A bad setting raises
    :class:`~voxpy.errors.ConfigError` naming ``media.clock_rate``.
    """
    if setting == "auto":
        rates = [codec_rate(codec) for codec in codecs]
        return NARROWBAND if rates and max(rates) <= NARROWBAND else WIDEBAND
    if isinstance(setting, bool) or not isinstance(setting, int) or setting not in CLOCK_RATES:
        raise ConfigError(
            f"must be auto or one of {', '.join(map(str, CLOCK_RATES))}, got {setting!r}",
            field="media.clock_rate",
        )
    return setting
