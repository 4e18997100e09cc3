"""The edge guard's policy: which SIP requests a worker refuses before pjsua sees them.

Pure: raw bytes in, a :class:`Refusal` (or ``None`` = pass) out. The pjsua2 backend calls
:func:`inspect_request` from a pjsip module that runs ahead of the transaction layer
(``backends/pjsua2/guard.py``), and sends the refusal as a stateless response.

Why a worker refuses anything itself: pjsua2's wheel is built with asserts on, so some inputs
abort the whole process instead of failing one call (a 254-character SDP address, IPv6 media),
and pjsua silently drops others (CSeq 2^32, a garbage Min-SE), which a front proxy reads as a
dead worker. Kamailio forwards bodies it does not parse, so a worker must protect itself.

=====================================================  ==========================================
What is checked                                        What the sender gets
=====================================================  ==========================================
request fills pjsip's 4000-byte buffer (truncated)     513 Message Too Large
bytes that are not UTF-8 in the start line or headers  400 Bad Request
CSeq missing, not a number, >= 2^31, method mismatch   400 Bad Request
Content-Length larger than the body received (UDP)     400 Bad Request
Session-Expires / Min-SE not a number or >= 2^31       400 Bad Request
Replaces without call-id, to-tag and from-tag          400 Bad Request
more than 100 header lines                             400 Bad Request
Max-Forwards: 0 (out of dialog)                        483 Too Many Hops
SUBSCRIBE (other than an in-dialog refresh of refer)   489 Bad Event
out-of-dialog REGISTER, INFO, REFER, UPDATE, MESSAGE,  405 Method Not Allowed + Allow
NOTIFY, PRACK, PUBLISH
out-of-dialog BYE                                      481 Call/Transaction Does Not Exist
unknown method                                         501 Not Implemented + Allow
in-dialog OPTIONS                                      200 OK + Allow (pjsua would answer 500)
SDP address (c=, o=, a=rtcp) over 253 characters,      488 Not Acceptable Here
IPv6 (IN IP6), or not an IPv4 literal in c=
  (a hostname means a blocking DNS lookup on the SIP thread; IPv6 media aborts this wheel)
new INVITE while the ioqueue-key budget is spent       503 Service Unavailable + Retry-After
  (see :mod:`voxpy.core.admission`)
ACK that would be refused                              dropped (an ACK has no response), logged
=====================================================  ==========================================
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

MAX_PKT_LEN = 4000
"PJSIP_MAX_PKT_LEN of the wheel: a UDP datagram is read into a buffer of this size."
MAX_HEADER_LINES = 100
MAX_SDP_ADDRESS = 253
"pj_sockaddr_in_set_str_addr asserts ``slen < 254`` (the longest DNS name is 253)."
MAX_INT31 = 2**31 - 1

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, MESSAGE, REFER, NOTIFY, UPDATE, PRACK"
KNOWN_METHODS = frozenset(
    {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "MESSAGE", "REFER", "NOTIFY"}
    | {"UPDATE", "PRACK", "SUBSCRIBE", "REGISTER", "PUBLISH"}
)
OUT_OF_DIALOG_OK = frozenset({"INVITE", "ACK", "CANCEL", "OPTIONS"})

_COMPACT = {
    "i": "call-id",
    "f": "from",
    "t": "to",
    "v": "via",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
    "o": "event",
    "u": "allow-events",
    "r": "refer-to",
    "b": "referred-by",
    "x": "session-expires",
}
TAG = re.compile(r";\s*tag\s*=", re.IGNORECASE)
_DIGITS = re.compile(r"\d{1,10}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """A stateless answer to send instead of passing the request on (``code=0``: drop)."""

    code: int
    reason: str
    "Reason phrase on the status line (RFC 3261's standard phrase)."
    why: str
    "For the log line: what exactly was wrong."
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """The parts of a request the policy looks at (header names lower-cased, compact expanded)."""

    method: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    header_lines: int = 0

    def first(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None

    @property
    def in_dialog(self) -> bool:
        to = self.first("to")
        return to is not None and TAG.search(outside_brackets(to)) is not None

    @property
    def call_id(self) -> str:
        return self.first("call-id") or ""


class Malformed(ValueError):
    """The bytes are not a SIP request the policy can read."""


def parse_request(raw: bytes) -> Request:
    """Split a request into method, headers and body; raises :class:`Malformed`."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"bytes that are not UTF-8 at offset {exc.start}") from None
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].split(" ")
    if len(start) < 3 or not start[0]:
        raise Malformed("no request line")
    headers: dict[str, list[str]] = {}
    count = 0
    current: str | None = None
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and current is not None:  # folded continuation
            headers[current][-1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        count += 1
        key = name.strip().lower()
        key = _COMPACT.get(key, key)
        current = key
        headers.setdefault(key, []).append(value.strip())
    return Request(method=start[0], headers=headers, body=body, header_lines=count)


def inspect_request(raw: bytes, *, datagram: bool, truncated: bool = False) -> Refusal | None:
    """Decide what to do with one received request: ``None`` passes it to pjsua."""
    if truncated:
        return Refusal(
            code=513,
            reason="Message Too Large",
            why=f"request fills the {MAX_PKT_LEN}-byte SIP buffer",
        )
    try:
        request = parse_request(raw)
    except Malformed as exc:
        return _bad(str(exc))
    for check in _CHECKS:
        refusal = check(request, datagram)
        if refusal is not None:
            return refusal
    return None


def _check_size(request: Request, _datagram: bool) -> Refusal | None:
    if request.header_lines > MAX_HEADER_LINES:
        return _bad(f"{request.header_lines} header lines (at most {MAX_HEADER_LINES})")
    return None


def _check_cseq(request: Request, _datagram: bool) -> Refusal | None:
    cseq = (request.first("cseq") or "").split()
    if len(cseq) != 2 or not _DIGITS.fullmatch(cseq[0]) or int(cseq[0]) > MAX_INT31:
        return _bad(f"bad CSeq {request.first('cseq')!r}")
    if cseq[1] != request.method:
        return _bad(f"CSeq method {cseq[1]!r} differs from {request.method!r}")
    return None


def _check_length(request: Request, datagram: bool) -> Refusal | None:
    length = request.first("content-length")
    if length is None:
        return None
    if not _DIGITS.fullmatch(length):
        return _bad(f"bad Content-Length {length!r}")
    if datagram and int(length) > len(request.body):
        return _bad(f"Content-Length {length} but {len(request.body)} body bytes")
    return None


def _check_numbers(request: Request, _datagram: bool) -> Refusal | None:
    for name in ("session-expires", "min-se", "max-forwards"):
        value = request.first(name)
        if value is not None:
            number = value.split(";", 1)[0].strip()
            if not _DIGITS.fullmatch(number) or int(number) > MAX_INT31:
                return _bad(f"bad {name} {value!r}")
    forwards = request.first("max-forwards")
    if (
        forwards is not None
        and int(forwards.split(";", 1)[0]) == 0
        and not request.in_dialog
        and request.method != "ACK"
    ):
        return Refusal(code=483, reason="Too Many Hops", why="Max-Forwards is 0")
    return None


def _check_replaces(request: Request, _datagram: bool) -> Refusal | None:
    replaces = request.first("replaces")
    if replaces is not None and not _valid_replaces(replaces):
        return _bad(f"bad Replaces {replaces!r}")
    return None


def _check_method(request: Request, _datagram: bool) -> Refusal | None:
    method = request.method
    if method == "SUBSCRIBE":
        event = (request.first("event") or "").split(";", 1)[0].strip().lower()
        if request.in_dialog and event == "refer":
            return None  # a refresh of a REFER subscription we serve
        return Refusal(
            code=489,
            reason="Bad Event",
            why=f"SUBSCRIBE to {event or 'no event'!r} is not served",
            headers=(("Allow-Events", "refer"),),
        )
    if method not in KNOWN_METHODS:
        return Refusal(
            code=501,
            reason="Not Implemented",
            why=f"unknown method {method[:32]!r}",
            headers=(("Allow", ALLOW),),
        )
    if request.in_dialog:
        return _IN_DIALOG.get(method)
    if method in OUT_OF_DIALOG_OK:
        return None
    return _OUT_OF_DIALOG.get(method) or Refusal(
        code=405,
        reason="Method Not Allowed",
        why=f"{method} outside a dialog",
        headers=(("Allow", ALLOW),),
    )


_IN_DIALOG = {
    # pjsua answers an in-dialog OPTIONS with 500; RFC 3261 11.2 wants 200 and capabilities.
    "OPTIONS": Refusal(code=200, reason="OK", why="in-dialog OPTIONS", headers=(("Allow", ALLOW),)),
}
_OUT_OF_DIALOG = {
    "BYE": Refusal(code=481, reason="Call/Transaction Does Not Exist", why="BYE outside a dialog"),
}


def _check_sdp(request: Request, _datagram: bool) -> Refusal | None:
    if not request.body or request.method not in ("INVITE", "UPDATE", "PRACK", "ACK"):
        return None
    ctype = (request.first("content-type") or "").lower()
    if "sdp" not in ctype and "multipart" not in ctype:
        return None
    problem = sdp_problem(request.body)
    if problem is None:
        return None
    return Refusal(code=488, reason="Not Acceptable Here", why=problem)


def sdp_problem(body: bytes) -> str | None:
    """Why pjmedia must not see this SDP (or ``None``): checks every address it would parse.

    Fields are read by position and compared case-insensitively: ``c=<nettype> <addrtype>
    <address>``, ``o=<user> <id> <version> <nettype> <addrtype> <address>``, ``a=rtcp:<port>
    <nettype> <addrtype> <address>``. A ``c=`` that cannot be read that way is refused too.
    """
    for raw_line in body.split(b"\n"):
        line = raw_line.strip()
        label = line[:2].decode("ascii", "replace")
        fields = line[2:].split()
        if label == "c=":
            connection = fields
        elif label == "o=" and len(fields) == 6:
            connection = fields[3:]
        elif line.lower().startswith(b"a=rtcp:") and len(fields) == 4:
            connection = fields[1:]
        else:
            continue
        if len(connection) != 3 or connection[0].upper() != b"IN":
            return f"SDP {label} line {line[:64]!r} is not 'IN <addrtype> <address>'"
        addrtype, address = connection[1].upper(), connection[2]
        if len(address) > MAX_SDP_ADDRESS:
            return f"SDP {label} address of {len(address)} characters"
        if addrtype == b"IP6":
            return f"SDP {label} IPv6 address (IPv6 media is not supported)"
        if label != "o=" and not _ipv4(address.split(b"/", 1)[0]):
            # a host name would be a blocking DNS lookup on the SIP thread
            return f"SDP {label} address {address[:64]!r} is not an IPv4 address"
    return None


def _ipv4(address: bytes) -> bool:
    try:
        ipaddress.IPv4Address(address.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


_CHECKS = (
    _check_size,
    _check_cseq,
    _check_length,
    _check_numbers,
    _check_replaces,
    _check_method,
    _check_sdp,
)


def _valid_replaces(value: str) -> bool:
    call_id, *params = (part.strip() for part in value.split(";"))
    names = {p.partition("=")[0].strip().lower(): p.partition("=")[2] for p in params}
    return bool(call_id) and bool(names.get("to-tag")) and bool(names.get("from-tag"))


def outside_brackets(value: str) -> str:
    """A name-addr's parameters: the part after ``>`` (a URI's own ;tag does not count)."""
    return value.rpartition(">")[2] if ">" in value else value


def _bad(why: str) -> Refusal:
    return Refusal(code=400, reason="Bad Request", why=why)
