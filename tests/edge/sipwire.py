"""SIP messages as bytes for the hostile-input tests: templates, a lenient parser, what one
exchange saw. No I/O (that is :mod:`tests.edge.rawsip`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CRLF = b"\r\n"
_PLACEHOLDER = re.compile(rb"\$([A-Z_]+)")
_STATUS = re.compile(rb"^SIP/2\.0 (\d{3}) ?(.*)$")
_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
}


def crlf(text: str | bytes) -> bytes:
    """``\\n`` line ends (as written in Python source) to SIP's CRLF; bytes kept verbatim."""
    data = text.encode() if isinstance(text, str) else text
    return data.replace(b"\r\n", b"\n").replace(b"\n", CRLF)


@dataclass
class Message:
    """A parsed SIP message: start line, headers in order (names lower-cased, compact expanded)."""

    start: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    @property
    def status(self) -> int | None:
        match = _STATUS.match(self.start.encode(errors="replace"))
        return int(match.group(1)) if match else None

    @property
    def reason(self) -> str:
        return self.start.split(" ", 2)[2] if self.start.count(" ") >= 2 else ""

    @property
    def method(self) -> str:
        """The request's method, or the CSeq method of a response."""
        if self.status is None:
            return self.start.split(" ", 1)[0]
        return self.get("cseq").split()[-1] if self.get("cseq") else ""

    def get(self, name: str) -> str:
        return next((value for key, value in self.headers if key == name.lower()), "")

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    def has(self, name: str) -> bool:
        return any(key == name.lower() for key, _ in self.headers)


def parse(data: bytes) -> Message | None:
    """Parse one message (lenient: enough to read what a server answered); None if not SIP."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("utf-8", errors="replace").split("\r\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if colon:
            key = name.strip().lower()
            headers.append((_COMPACT.get(key, key), value.strip()))
    if not lines[0].startswith("SIP/2.0 ") and " SIP/2.0" not in lines[0]:
        return None
    return Message(lines[0], headers, body, data)


@dataclass
class Exchange:
    """What one :func:`send` saw."""

    request: bytes
    source: str
    "``127.0.0.1:PORT`` we sent from: the guard logs it as the refused message's source."
    final: Message | None = None
    "The first final response to our request, or None: dropped (nothing in time)."
    provisional: list[Message] = field(default_factory=list)
    others: list[Message] = field(default_factory=list)
    "Everything else that arrived: requests from the far end, answers to other transactions."
    reinvite: Message | None = None
    "The final answer to the re-INVITE sent after the ACK (``send(..., reinvite=SDP)``)."

    @property
    def outcome(self) -> int | str:
        return self.final.status or 0 if self.final is not None else DROPPED


DROPPED = "dropped"


def fill(template: bytes, values: dict[str, str]) -> bytes:
    """Replace ``$NAME`` placeholders; ``$CL`` becomes the length of the (filled) body."""

    def one(match: re.Match[bytes]) -> bytes:
        name = match.group(1).decode()
        if name == "CL":
            return b"$CL"
        if name not in values:
            return match.group(0)
        return values[name].encode()

    data = _PLACEHOLDER.sub(one, template)
    if b"$CL" in data:
        _, _, body = data.partition(b"\r\n\r\n")
        data = data.replace(b"$CL", str(len(body)).encode())
    return data
