"""Shared pieces of the corpus: the Case record, request templates, outcome sets."""

from __future__ import annotations

from dataclasses import dataclass

from tests.edge.sipwire import DROPPED, crlf

Outcome = int | str


@dataclass(frozen=True)
class Case:
    name: str
    template: bytes
    expect: frozenset[Outcome]
    guard: frozenset[int] = frozenset()
    transports: tuple[str, ...] = ("udp",)
    timeout: float = 1.0
    note: str = ""
    allow_header: bool = False
    "The answer must carry an Allow header (405, in-dialog OPTIONS)."
    server_header: bool = True
    "Check Server: present and no Warning: (not for pjsip's own parser answers)."
    reinvite: bytes | None = None
    "SDP of a re-INVITE sent right after the ACK of a 200 (racing hello_hangup's BYE)."
    reinvite_expect: frozenset[Outcome] = frozenset()
    "Acceptable answers to that re-INVITE (481: the BYE won the race; guard codes: 488)."

    @property
    def id(self) -> str:
        return self.name


def case(
    name: str,
    template: str | bytes,
    expect: set[Outcome],
    guard: set[int] | None = None,
    **kwargs: object,
) -> Case:
    return Case(
        name,
        crlf(template),
        frozenset(expect),
        frozenset(guard if guard is not None else set()),
        **kwargs,  # type: ignore[arg-type]
    )


VIA = "Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bK$BRANCH"
CONTACT = "Contact: <sip:edge@$LHOST:$LPORT$TPARAM>"
SDP = """v=0
o=edge 1 1 IN IP4 $LHOST
s=-
c=IN IP4 $LHOST
t=0 0
m=audio $RTPPORT RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
"""
BASE_HEADERS = [
    ("Via", "SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bK$BRANCH"),
    ("Max-Forwards", "70"),
    ("From", '"Edge" <sip:edge@$LHOST:$LPORT>;tag=$TAG'),
    ("To", "<sip:100@$HOST:$PORT>"),
    ("Call-ID", "$CALLID"),
    ("CSeq", "1 INVITE"),
    ("Contact", "<sip:edge@$LHOST:$LPORT$TPARAM>"),
    ("Content-Type", "application/sdp"),
]


def request(
    method: str = "INVITE",
    *,
    ruri: str | bytes = "sip:100@$HOST:$PORT",
    headers: list[tuple[str, str | bytes]] | None = None,
    replace: dict[str, str | bytes] | None = None,
    extra: list[tuple[str, str | bytes]] | None = None,
    body: str | bytes | None = None,
    to_tag: bool = False,
) -> bytes:
    """A well-formed request (the base INVITE by default) with headers replaced or added."""
    rows: list[tuple[str, str | bytes]] = list(headers if headers is not None else BASE_HEADERS)
    if body is None:
        body = SDP if method == "INVITE" else ""
    if not body:
        rows = [(k, v) for k, v in rows if k != "Content-Type"]
    rows = [(k, f"1 {method}" if k == "CSeq" else v) for k, v in rows]
    if to_tag:
        rows = [(k, f"{v};tag=far{method.lower()}" if k == "To" else v) for k, v in rows]
    for name, value in (replace or {}).items():
        rows = [(k, value if k == name else v) for k, v in rows]
    rows += extra or []
    uri = ruri if isinstance(ruri, bytes) else ruri.encode()
    out = method.encode() + b" " + uri + b" SIP/2.0\r\n"
    for name, value in rows:
        raw = value if isinstance(value, bytes) else value.encode()
        out += name.encode() + b": " + raw + b"\r\n"
    out += b"Content-Length: $CL\r\n\r\n" + crlf(body)
    return out


ANSWERED = {200}
PARSER = {400, DROPPED}
"What pjsip's own parser does with a message it cannot parse."
UNPARSED = {400, DROPPED}
"""A policy row pjsip's parser already rejects (today it drops the packet, with a debug log):
the guard may answer 400 (then it must log it) or let pjsip drop it."""
