"""PROTOS-style single-field mutations of the base INVITE."""

from __future__ import annotations

from tests.edge.corpus.base import DROPPED, UNPARSED, Case, Outcome, request

# ---------------------------------------------------------------------------------------------
# PROTOS-style single-field mutations of the base INVITE
# ---------------------------------------------------------------------------------------------

VALUES: dict[str, bytes] = {
    "empty": b"",
    "overlong": b"A" * 1500,
    "fmt": b"%s%n%x%p" * 16,
    "nonutf8": b"\xff\xfe\xc3\x28\xed\xa0\x80",
    "huge": b"99999999999999999999",
    "ctrl": b"\x01\x1b[31m\x7f",
}
# field -> where the value goes, its shape ({v} the value), and whether pjsip's own parser
# rejects non-UTF-8 there (then the packet may be dropped before the guard sees it; measured
# against pjsua2 2.15.1: it tolerates it in display names, Call-ID, Supported, Replaces, Accept
# and unknown headers, so there the guard itself must answer 400).
FIELDS: dict[str, tuple[str, bytes, bool]] = {
    "ruri-user": ("@ruri", b"sip:{v}@$HOST:$PORT", True),
    "from-user": ("From", b'"Edge" <sip:{v}@$LHOST:$LPORT>;tag=$TAG', True),
    "from-display": ("From", b'"{v}" <sip:edge@$LHOST:$LPORT>;tag=$TAG', False),
    "from-tag": ("From", b'"Edge" <sip:edge@$LHOST:$LPORT>;tag={v}', True),
    "to-user": ("To", b"<sip:{v}@$HOST:$PORT>", True),
    "call-id": ("Call-ID", b"{v}", False),
    "cseq-number": ("CSeq", b"{v} INVITE", True),
    "max-forwards": ("Max-Forwards", b"{v}", True),
    "via-branch": ("Via", b"SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bK{v}", True),
    "contact-user": ("Contact", b"<sip:{v}@$LHOST:$LPORT>", True),
    "content-type": ("Content-Type", b"{v}", True),
    "user-agent": ("+User-Agent", b"{v}", False),
    "subject": ("+Subject", b"{v}", False),
    "x-header": ("+X-Tenant", b"{v}", False),
    "supported": ("+Supported", b"{v}", False),
    "session-expires": ("+Session-Expires", b"{v}", True),
    "min-se": ("+Min-SE", b"{v}", True),
    "replaces": ("+Replaces", b"{v}", False),
    "accept": ("+Accept", b"{v}", False),
    "expires": ("+Expires", b"{v}", True),
}


def _mutation(field_name: str, value_name: str) -> Case:
    where, shape, parsed = FIELDS[field_name]
    raw = shape.replace(b"{v}", VALUES[value_name])
    if where == "@ruri":
        template = request().replace(b"sip:100@$HOST:$PORT SIP/2.0", raw + b" SIP/2.0", 1)
    elif where.startswith("+"):
        template = request(extra=[(where[1:], raw)])
    else:
        template = request(replace={where: raw})
    expect: set[Outcome]
    guard: set[int] = set()
    if value_name == "nonutf8":  # policy: 400, from the guard unless pjsip's parser got there
        expect, guard = (UNPARSED if parsed else {400}), {400}
    elif field_name in ("session-expires", "min-se", "replaces") and value_name != "huge":
        expect, guard = UNPARSED, {400}  # policy: not a number / malformed Replaces: 400
    elif field_name == "replaces":
        expect, guard = UNPARSED | {481}, {400}
    elif field_name == "cseq-number" and value_name == "huge":
        expect = {400, DROPPED}
    else:  # no policy: any answer, or a drop, as long as the process lives
        expect = {DROPPED, *range(200, 700)}
    return Case(
        f"{field_name}-{value_name}",
        template,
        frozenset(expect),
        frozenset(guard),
        server_header=False,
        note="single-field mutation",
    )


MUTATIONS: list[Case] = [_mutation(f, v) for f in FIELDS for v in VALUES]
