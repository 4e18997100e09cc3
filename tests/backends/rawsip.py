"""A bare SIP UAC on a UDP socket: a caller that misbehaves on purpose (never ACKs, never
refreshes its session), which no pjsua2 peer can be made to do. Test use only."""

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

    def invite(self, extra: str = "", *, to: str = "", direction: str = "sendrecv") -> None:
        """An INVITE with a PCMU offer; ``extra``: more header lines, each ending in CRLF.
        With ``to`` (the To of the 200 OK, with its tag) it is a re-INVITE in the dialog."""
        host, port = self.target
        self.cseq += 1
        sdp = (
            f"v=0\r\no=- 1 {self.cseq} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
            f"t=0 0\r\nm=audio {self.port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            f"a={direction}\r\n"
        )
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


def header(message: str, name: str) -> str:
    """The value of the first ``name`` header (case-insensitive; "" if absent)."""
    head = message.split("\r\n\r\n", 1)[0]
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""
