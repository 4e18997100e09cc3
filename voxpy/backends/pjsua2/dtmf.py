"""DTMF out (RFC 2833, SIP INFO, in-band fallback) and the method names of DTMF in.

Incoming digits come from ``Call.onDtmfDigit``, which fires once per digit for both RFC 2833
(at the start of the event) and SIP INFO; ``onDtmfEvent`` would repeat RFC 2833 digits every
20 ms until their end. With ``mainThreadOnly`` both are queued to the owner thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from voxpy.backends.pjsua2.errors import PJMEDIA_RTP_EREMNORFC2833, status_of
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.pjtypes import ToneGenerator
from voxpy.errors import InvalidArgumentError

DIGITS = frozenset("0123456789*#ABCD")
RFC2833 = "rfc2833"
INFO = "info"
DIGIT_MS = 160
"pjsua's default event length; in-band tones use it too, with a pause as long between them."
TONE_RATE = 8000
"DTMF tones span 697-1633 Hz: telephone bandwidth is enough; the bridge resamples."
TONE_VOLUME = 0
"0 = pjmedia's default level (about -10 dBm0 per frequency)."


def received_method(pj_method: int) -> str:
    """The voxpy name of ``OnDtmfDigitParam.method``."""
    return INFO if pj_method == pj.PJSUA_DTMF_METHOD_SIP_INFO else RFC2833


def check_digits(digits: str, method: str) -> str:
    """Upper-cased digits; raises InvalidArgumentError for other characters or methods."""
    if method not in (RFC2833, INFO):
        raise InvalidArgumentError(f"DTMF method must be {RFC2833!r} or {INFO!r}, got {method!r}")
    upper = digits.upper()
    if not upper or not set(upper) <= DIGITS:
        raise InvalidArgumentError(f"DTMF digits must be 0-9, *, #, A-D; got {digits!r}")
    return upper


def tone_generator() -> ToneGenerator:
    """A tone generator port for in-band DTMF (connected to the leg by the media registry)."""
    generator: ToneGenerator = pj.ToneGenerator()
    generator.createToneGenerator(TONE_RATE, 1)
    return generator


def play_tones(generator: ToneGenerator, digits: str) -> None:
    """Queue ``digits`` as dual tones on ``generator``."""
    queue = pj.ToneDigitVector()
    for char in digits:
        digit = pj.ToneDigit()
        digit.digit = char
        digit.on_msec = DIGIT_MS
        digit.off_msec = DIGIT_MS
        digit.volume = TONE_VOLUME
        queue.append(digit)
    generator.playDigits(queue)


def send_digits(
    call: Any,
    digits: str,
    method: str,
    in_band: Callable[[str], None],
    logger: Logger,
    call_id: str,
) -> str:
    """Send ``digits`` on ``call``; returns the method actually used.

    RFC 2833 needs telephone-event in the remote SDP; without it the digits go in-band through
    ``in_band`` (a tone generator on the leg). pj.Error propagates for other failures.
    """
    param = pj.CallSendDtmfParam()
    param.digits = digits
    param.duration = DIGIT_MS
    param.method = pj.PJSUA_DTMF_METHOD_SIP_INFO if method == INFO else pj.PJSUA_DTMF_METHOD_RFC2833
    try:
        call.sendDtmf(param)
    except pj.Error as exc:
        if method != RFC2833 or status_of(exc) != PJMEDIA_RTP_EREMNORFC2833:
            raise
        logger.info("dtmf_in_band_no_telephone_event", call_id=call_id)
        in_band(digits)
        return "inband"
    return method
