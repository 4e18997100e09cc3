"""Sizes, counts and re-INVITEs."""

from __future__ import annotations

from tests.edge.corpus.base import ANSWERED, DROPPED, SDP, UNPARSED, Case, case, crlf, request
from tests.edge.corpus.rfc5118 import SDP6

# ---------------------------------------------------------------------------------------------
# Sizes and counts
# ---------------------------------------------------------------------------------------------


def _padded(size: int) -> bytes:
    """The base INVITE padded with an X-Pad header to ``size`` bytes once filled."""
    base = request(extra=[("X-Pad", "$PAD")])
    return base.replace(b"$PAD", b"p" * max(0, size - len(base) - 60))


def _many(name: str, count: int, value: str) -> list[tuple[str, str | bytes]]:
    return [(name, value.format(i=i)) for i in range(count)]


SPECIALS: list[Case] = [
    case(
        "oversize-udp-5000",
        _padded(5000),
        {513},
        {513},
        note="fills pjsip's 4000-byte buffer: truncated, so 513",
    ),
    case(
        "oversize-udp-3990",
        _padded(3990),
        {513, 200, 400, DROPPED},
        note="just under (or at) the buffer: any answer, the process lives",
    ),
    case(
        "oversize-tcp-5000",
        _padded(5000),
        {513, 400, DROPPED},
        transports=("tcp",),
        server_header=False,
        note="5000 bytes over TCP: more than pjsip's buffer",
    ),
    case(
        "long-c-300",
        request(body=SDP.replace("c=IN IP4 $LHOST", "c=IN IP4 " + "a" * 296 + ".com")),
        {488},
        {488},
        transports=("udp", "tcp"),
        note="c= address of 300 characters",
    ),
    case(
        "long-o-300",
        request(body=SDP.replace("o=edge 1 1 IN IP4 $LHOST", "o=edge 1 1 IN IP4 " + "b" * 300)),
        {488},
        {488},
        note="o= address of 300 characters",
    ),
    case(
        "long-c-254",
        request(body=SDP.replace("c=IN IP4 $LHOST", "c=IN IP4 " + "c" * 254)),
        {488},
        {488},
        note="c= address one past the 253-character limit",
    ),
    case(
        "via-70",
        request(
            extra=_many("Via", 69, "SIP/2.0/UDP 192.0.2.{i};branch=z9hG4bKv{i}"),
        ),
        {DROPPED, *range(200, 700)},
        note="70 Via headers; lower Vias are never contacted",
    ),
    case(
        "record-route-70",
        request(extra=_many("Record-Route", 70, "<sip:127.0.0.1:$LPORT;lr;n={i}>")),
        {DROPPED, *range(200, 700)},
        timeout=4.0,
        note="70 Record-Route headers (all pointing back at us)",
    ),
    case(
        "nonutf8-from-user-tcp",
        request(replace={"From": b'"Edge" <sip:\xff\xfe\xc3\x28@$LHOST:$LPORT>;tag=$TAG'}),
        UNPARSED,
        {400},
        transports=("tcp",),
    ),
]

REINVITE_OK = frozenset({488, 481, DROPPED})
"""A re-INVITE right after the ACK races the scenario's BYE: 488 from the guard, or 481 when the
dialog is already gone, or no answer at all if the engine tore the dialog down first. What
matters most is the worker surviving it."""
SPECIALS += [
    Case(
        "reinvite-ipv6-sdp",
        request(),
        frozenset(ANSWERED),
        reinvite=crlf(SDP6),
        reinvite_expect=REINVITE_OK,
        note="re-INVITE whose SDP is IPv6: 488",
    ),
    Case(
        "reinvite-long-c-300",
        request(),
        frozenset(ANSWERED),
        reinvite=crlf(SDP.replace("c=IN IP4 $LHOST", "c=IN IP4 " + "a" * 296 + ".com")),
        reinvite_expect=REINVITE_OK,
        note="re-INVITE with a 300-character c= address: 488",
    ),
]
