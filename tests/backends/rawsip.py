"""Bare SIP agents on UDP sockets: a caller that misbehaves on purpose (never ACKs, never
refreshes its session), which no pjsua2 peer can be made to do, and a callee whose answer
says exactly what a test needs (several codecs) and that counts what it receives (INVITEs,
RTP). Test use only."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid


class RawUac:
    """One INVITE dialog to ``target`` (host, port), sent from a socket of its own."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))  # kept bound for the dialog's whole life
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.call_id = uuid.uuid4().hex
        self.tag = uuid.uuid4().hex[:8]
        self.cseq = 0
        self.received: list[str] = []

    def close(self) -> None:
        self.sock.close()

    def invite(
        self,
        extra: str = "",
        *,
        to: str = "",
        direction: str = "sendrecv",
        codecs: tuple[int, ...] = (0,),
    ) -> None:
        """An INVITE with a PCMU offer; ``extra``: more header lines, each ending in CRLF.
        With ``to`` (the To of the 200 OK, with its tag) it is a re-INVITE in the dialog.
        ``codecs``: the static payload types offered, in order (:data:`RTPMAP`)."""
        host, port = self.target
        self.cseq += 1
        sdp = audio_sdp(self.port + 2, codecs, self.cseq, direction)
        self._send(
            f"INVITE sip:test@{host}:{port} SIP/2.0\r\n"
            f"{self._via('z9hG4bK' + uuid.uuid4().hex[:12])}"
            "Max-Forwards: 70\r\n"
            f"From: <sip:raw@127.0.0.1:{self.port}>;tag={self.tag}\r\n"
            f"To: {to or f'<sip:test@{host}:{port}>'}\r\n"
            f"Call-ID: {self.call_id}\r\n"
            f"CSeq: {self.cseq} INVITE\r\n"
            f"Contact: <sip:raw@127.0.0.1:{self.port}>\r\n"
            f"{extra}"
            "Content-Type: application/sdp\r\n"
            f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
        )

    def ack(self, ok: str) -> None:
        """ACK the 200 OK ``ok`` (a new transaction, to the same To tag)."""
        host, port = self.target
        self._send(
            f"ACK sip:test@{host}:{port} SIP/2.0\r\n"
            f"{self._via('z9hG4bK' + uuid.uuid4().hex[:12])}"
            "Max-Forwards: 70\r\n"
            f"From: <sip:raw@127.0.0.1:{self.port}>;tag={self.tag}\r\n"
            f"To: {header(ok, 'To')}\r\n"
            f"Call-ID: {self.call_id}\r\n"
            f"CSeq: {self.cseq} ACK\r\nContent-Length: 0\r\n\r\n"
        )

    def answer_request(self, request: str, code: int = 200) -> None:
        """Answer an in-dialog request (the BYE that ends the dialog) so it is not resent."""
        lines = [f"SIP/2.0 {code} OK"]
        lines += [f"{n}: {header(request, n)}" for n in ("Via", "From", "To", "Call-ID", "CSeq")]
        self._send("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n")

    async def wait_for(self, start: str, timeout: float) -> str:
        """The first received message whose first line starts with ``start``."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {start!r} within {timeout} s; got {self.received}")
            try:
                data = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), remaining)
            except TimeoutError:
                continue
            text = data.decode(errors="replace")
            if not text.strip():
                continue  # keep-alive
            self.received.append(text)
            if text.startswith(start):
                return text

    def _via(self, branch: str) -> str:
        return f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch};rport\r\n"

    def _send(self, text: str) -> None:
        self.sock.sendto(text.encode(), self.target)


RTPMAP = {0: "PCMU/8000", 8: "PCMA/8000", 9: "G722/8000", 3: "GSM/8000"}
"Static payload types (RFC 3551); G.722's RTP clock is 8000 although it samples at 16 kHz."


def audio_sdp(
    rtp_port: int, codecs: tuple[int, ...], version: int = 1, direction: str = "sendrecv"
) -> str:
    """An IPv4 loopback audio SDP offering (or answering) ``codecs``, in that order."""
    maps = "".join(f"a=rtpmap:{pt} {RTPMAP[pt]}\r\n" for pt in codecs)
    return (
        f"v=0\r\no=- 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        f"t=0 0\r\nm=audio {rtp_port} RTP/AVP {' '.join(map(str, codecs))}\r\n{maps}"
        f"a={direction}\r\n"
    )


class RawUas:
    """A callee on its own UDP socket (``uri``), plus an RTP socket that keeps every payload
    it receives. It answers each INVITE with ``codecs`` in its SDP, counts INVITEs (initial
    and re-INVITEs alike), and answers BYE, ACKs nothing it need not."""

    def __init__(self, codecs: tuple[int, ...]) -> None:
        self.codecs = codecs
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp.setblocking(False)
        self.rtp_port = self.rtp.getsockname()[1]
        self.tag = uuid.uuid4().hex[:8]
        self.cseq = 0
        self.caller: tuple[str, int] = ("127.0.0.1", 0)
        self.invites: list[str] = []
        self.requests: list[str] = []
        self.responses: list[str] = []
        self.payloads: list[tuple[int, bytes]] = []
        "(payload type, payload) of every RTP packet received, in arrival order."

    @property
    def uri(self) -> str:
        return f"sip:uas@127.0.0.1:{self.port}"

    def close(self) -> None:
        self.sock.close()
        self.rtp.close()

    async def serve(self, until: str, timeout: float) -> str:
        """Answer requests until a message whose first line starts with ``until`` (a
        request, or a response to :meth:`request`); returns it. INVITEs get 200 OK with
        our SDP, BYE and other requests 200 OK without."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {until!r} within {timeout} s; got {self.requests}")
            try:
                data, source = await asyncio.wait_for(
                    loop.sock_recvfrom(self.sock, 65535), remaining
                )
            except TimeoutError:
                continue
            text = data.decode(errors="replace")
            if not text.strip():
                continue
            if text.startswith("SIP/2.0"):
                self.responses.append(text)
                if text.startswith(until):
                    return text
                continue
            self.requests.append(text)
            method = text.split(" ", 1)[0]
            if method == "INVITE":
                self.caller = source
                self.invites.append(text)
                sdp = audio_sdp(self.rtp_port, self.codecs, len(self.invites))
                self._reply(text, source, sdp)
            elif method != "ACK":
                self._reply(text, source, "")
            if text.startswith(until):
                return text

    def request(self, method: str, body: str = "ping") -> None:
        """A request in the dialog of the first INVITE, to the caller (e.g. MESSAGE)."""
        invite = self.invites[0]
        target = header(invite, "Contact").strip("<>")
        self.cseq += 1
        text = (
            f"{method} {target} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex[:12]}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <{self.uri}>;tag={self.tag}\r\n"
            f"To: {header(invite, 'From')}\r\n"
            f"Call-ID: {header(invite, 'Call-ID')}\r\n"
            f"CSeq: {self.cseq} {method}\r\n"
            "Content-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        )
        self.sock.sendto(text.encode(), self.caller)

    def _reply(self, request: str, source: tuple[str, int], sdp: str) -> None:
        to = header(request, "To")
        if ";tag=" not in to:
            to += f";tag={self.tag}"
        lines = ["SIP/2.0 200 OK"]
        lines += [f"Via: {v}" for v in headers(request, "Via")]
        lines += [f"From: {header(request, 'From')}", f"To: {to}"]
        lines += [f"{n}: {header(request, n)}" for n in ("Call-ID", "CSeq")]
        lines.append(f"Contact: <{self.uri}>")
        if sdp:
            lines.append("Content-Type: application/sdp")
        text = "\r\n".join(lines) + f"\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
        self.sock.sendto(text.encode(), source)

    def take_rtp(self) -> int:
        """Read every RTP packet waiting on the media socket; returns how many were new."""
        count = 0
        while True:
            try:
                packet = self.rtp.recv(2048)
            except BlockingIOError:
                return count
            if len(packet) > 12:
                self.payloads.append((packet[1] & 0x7F, packet[12:]))
                count += 1


def headers(message: str, name: str) -> list[str]:
    """Every value of header ``name``, in order."""
    head = message.split("\r\n\r\n", 1)[0]
    found = []
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            found.append(value.strip())
    return found


def header(message: str, name: str) -> str:
    """The value of the first ``name`` header (case-insensitive; "" if absent)."""
    head = message.split("\r\n\r\n", 1)[0]
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""
