"""SIP requests as raw bytes: the few header reads the edge guard needs before any parse, and
the stateless response to a request pjsip could not parse. Pure.
"""

from __future__ import annotations

from voxpy.core.edge import TAG, outside_brackets


def raw_header(raw: bytes, name: bytes, compact: bytes) -> bytes:
    """The first value of a header, by full or compact name (lower case), from raw bytes."""
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\n")[1:]:
        key, colon, value = line.partition(b":")
        if colon and key.strip().lower() in (name, compact):
            return value.strip()
    return b""


def to_params(raw: bytes) -> bytes:
    """The To header's parameters (where its tag is), not its URI's."""
    value = raw_header(raw, b"to", b"t")
    return value.rpartition(b">")[2] if b">" in value else value


def top_branch(raw: bytes) -> bytes:
    """The branch of the top Via: with the Call-ID, what tells a retransmission."""
    via = raw_header(raw, b"via", b"v")
    _, _, rest = via.partition(b"branch=")
    return rest.split(b";", 1)[0].split(b",", 1)[0].strip()


_ECHOED = (b"via", b"v", b"from", b"f", b"to", b"t", b"call-id", b"i", b"cseq")
MAX_ECHOED_LINE = 1024


def stateless_response(raw: bytes, *, code: int, reason: str, server: str) -> bytes | None:
    """A response to a request pjsip could not parse, built from its raw lines (or ``None``).

    RFC 3261 8.2.6: copy Via, From, To (adding a tag), Call-ID and CSeq. Bytes are echoed as
    received, so a From that is not UTF-8 still matches the sender's transaction. ``None`` when
    the request lacks what a response must carry, or is an ACK or a response itself.
    """
    head = raw.partition(b"\r\n\r\n")[0]
    lines = head.split(b"\r\n")
    method = lines[0].split(b" ", 1)[0]
    if not method or method.startswith(b"SIP/") or method == b"ACK":
        return None
    kept: list[bytes] = []
    seen: set[bytes] = set()
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        key = name.strip().lower()
        if not colon or key not in _ECHOED or len(line) > MAX_ECHOED_LINE:
            continue
        full = {b"v": b"via", b"f": b"from", b"t": b"to", b"i": b"call-id"}.get(key, key)
        if full != b"via" and full in seen:
            continue
        seen.add(full)
        value = value.strip()
        if full == b"to" and not TAG.search(outside_brackets(value.decode("latin-1"))):
            value += b";tag=edge" + str(abs(hash(raw)) % 10**8).encode()
        kept.append(_CANONICAL[full] + b": " + value)
    if not {b"via", b"from", b"to", b"call-id"} <= seen:
        return None
    if b"cseq" not in seen:
        kept.append(b"CSeq: 1 " + method[:32])
    status = f"SIP/2.0 {code} {reason}".encode()
    tail = f"Server: {server}\r\nContent-Length: 0\r\n\r\n".encode()
    return b"\r\n".join([status, *kept]) + b"\r\n" + tail


_CANONICAL = {
    b"via": b"Via",
    b"from": b"From",
    b"to": b"To",
    b"call-id": b"Call-ID",
    b"cseq": b"CSeq",
}
