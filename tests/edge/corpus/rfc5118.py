"""RFC 5118 IPv6 torture messages."""

from __future__ import annotations

from tests.edge.corpus.base import BASE_HEADERS, DROPPED, SDP, Case, case, request

# ---------------------------------------------------------------------------------------------
# RFC 5118 IPv6 torture: this build has no IPv6 transport
# ---------------------------------------------------------------------------------------------

SDP6 = """v=0
o=assistant 971731711378798081 0 IN IP6 2001:db8::20
s=Live video feed for today's meeting
c=IN IP6 2001:db8::20
t=0 0
m=audio $RTPPORT RTP/AVP 0
a=rtpmap:0 PCMU/8000
"""
SDP_MIXED = """v=0
o=bob 280744730 28977631 IN IP4 $LHOST
s=
t=0 0
m=audio 22334 RTP/AVP 0
c=IN IP4 $LHOST
m=video 6024 RTP/AVP 102
c=IN IP6 2001:db8::1
a=rtpmap:102 H264/90000
"""
SDP_MAPPED = """v=0
o=assistant 971731711378798081 0 IN IP6 ::ffff:192.0.2.2
s=Call me soon, please!
c=IN IP6 ::ffff:192.0.2.2
t=0 0
m=audio $RTPPORT RTP/AVP 0
a=rtpmap:0 PCMU/8000
"""


def _options(ruri: str, *, extra: list[tuple[str, str | bytes]] | None = None) -> bytes:
    return request("OPTIONS", ruri=ruri, extra=extra)


RFC5118: list[Case] = [
    case(
        "ipv6-good-ruri",
        _options("sip:[2001:db8::10]"),
        {200, 404, 416, 400},
        note="4.1 a valid IPv6 reference in the Request-URI",
    ),
    case(
        "ipv6-bad-ruri",
        _options("sip:2001:db8::10"),
        {400, 404, 416, DROPPED, 200},
        note="4.2 an unbracketed IPv6 address (invalid)",
    ),
    case(
        "ipv6-port-ambiguous",
        request(
            "REGISTER",
            ruri="sip:[2001:db8::10:5070]",
            extra=[("Contact", "<sip:user@[2001:db8::10:5070]>")],
            headers=[row for row in BASE_HEADERS if row[0] != "Contact"],
        ),
        {405, 400},
        {405},
        allow_header=True,
        note="4.3 port-ambiguous IPv6 (REGISTER: refused anyway)",
    ),
    case(
        "ipv6-port-unambiguous",
        request(
            "REGISTER",
            ruri="sip:[2001:db8::10]:5070",
            extra=[("Contact", "<sip:user@[2001:db8::10]:5070>")],
            headers=[row for row in BASE_HEADERS if row[0] != "Contact"],
        ),
        {405, 400},
        {405},
        allow_header=True,
        note="4.4 port-unambiguous IPv6 (REGISTER: refused anyway)",
    ),
    case(
        "ipv6-in-via",
        _options(
            "sip:100@$HOST:$PORT",
            extra=[
                ("Via", "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111"),
                ("Via", "SIP/2.0/UDP 192.0.2.1;received=[2001:db8::9:255];branch=z9hG4bKjhe"),
            ],
        ),
        {200},
        note="4.5 IPv6 in lower Vias and received= (never contacted)",
    ),
    case(
        "ipv6-sdp",
        request(body=SDP6),
        {488},
        {488},
        note="4.6 INVITE whose SDP is IPv6 only",
    ),
    case(
        "ipv6-sdp-tcp",
        request(body=SDP6),
        {488},
        {488},
        transports=("tcp",),
        note="4.6 the same over TCP",
    ),
    case(
        "ipv6-mixed-sdp",
        request(body=SDP_MIXED),
        {488},
        {488},
        note="4.7 SDP with an IPv4 and an IPv6 c= line",
    ),
    case(
        "ipv6-mapped-sdp",
        request(body=SDP_MAPPED),
        {488},
        {488},
        note="4.8 IPv4-mapped IPv6 in SDP (IN IP6 ::ffff:192.0.2.2)",
    ),
    case(
        "ipv6-origin-only",
        request(body=SDP.replace("o=edge 1 1 IN IP4 $LHOST", "o=edge 1 1 IN IP6 2001:db8::1")),
        {488},
        {488},
        note="4.? only the o= line is IPv6",
    ),
    case(
        "ipv6-update-ood",
        request("UPDATE", body=SDP6),
        {405},
        {405},
        allow_header=True,
        note="out-of-dialog UPDATE carrying IPv6 SDP: the method is refused first",
    ),
    case(
        "ipv6-contact",
        request(replace={"Contact": "<sip:edge@[2001:db8::5]>"}),
        {200, 400, 488, 416, 500},
        note="4.? IPv6 Contact with IPv4 SDP: no IPv6 transport, so the BYE cannot be sent "
        "anywhere; the process must live",
    ),
]
