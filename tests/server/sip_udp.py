"""Raw SIP over a loopback UDP socket: hand-made (and malformed) requests for the Kamailio
front, and the responses they get."""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
from dataclasses import dataclass, field

_counter = itertools.count(1)


@dataclass
class Response:
    code: int
    reason: str
    headers: dict[str, str]
    text: str


def parse_response(data: bytes) -> Response | None:
    text = data.decode("utf-8", "replace")
    match = re.match(r"SIP/2\.0 (\d{3}) ([^\r\n]*)\r\n", text)
    if match is None:
        return None
    head = text.split("\r\n\r\n", 1)[0]
    headers: dict[str, str] = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    return Response(int(match[1]), match[2], headers, text)


def sdp(address: str = "127.0.0.1", *, ip: str = "IP4", origin: str | None = None) -> str:
    return (
        "v=0\r\n"
        f"o=raw 1 1 IN {ip} {origin or address}\r\n"
        "s=-\r\n"
        f"c=IN {ip} {address}\r\n"
        "t=0 0\r\n"
        "m=audio 40000 RTP/AVP 0\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
    )


@dataclass
class SipUdp(asyncio.DatagramProtocol):
    """One loopback UDP socket that sends requests to ``port`` and queues what comes back."""

    port: int
    local_port: int = 0
    received: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    transport: asyncio.DatagramTransport | None = None
    finals: dict[str, Response] = field(default_factory=dict)
    "Final responses read while waiting for another Call-ID's."

    @classmethod
    async def open(cls, port: int) -> SipUdp:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_datagram_endpoint(
            lambda: cls(port), local_addr=("127.0.0.1", 0)
        )
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.local_port = int(transport.get_extra_info("sockname")[1])

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def request(
        self,
        method: str = "INVITE",
        *,
        body: str = "",
        cseq: str | None = None,
        user_agent: str = "raw-test",
        call_id: str | None = None,
        extra: str = "",
        user: str = "100",
    ) -> str:
        """A request to the front; returns its Call-ID."""
        call_id = call_id or f"{secrets.token_hex(8)}@raw"
        branch = f"z9hG4bK{secrets.token_hex(6)}"
        content_type = "Content-Type: application/sdp\r\n" if body else ""
        text = (
            f"{method} sip:{user}@127.0.0.1:{self.port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.local_port};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:raw@127.0.0.1:{self.local_port}>;tag={next(_counter)}\r\n"
            f"To: <sip:{user}@127.0.0.1:{self.port}>\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: {cseq or '1'} {method}\r\n"
            f"Contact: <sip:raw@127.0.0.1:{self.local_port}>\r\n"
            f"User-Agent: {user_agent}\r\n"
            f"{extra}{content_type}"
            f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
        )
        self.send(text)
        return call_id

    def send(self, text: str) -> None:
        assert self.transport is not None
        self.transport.sendto(text.encode(), ("127.0.0.1", self.port))

    async def final(self, call_id: str, timeout: float = 10) -> Response:
        """The first final response for ``call_id`` (provisional ones are skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while call_id not in self.finals:
            data = await asyncio.wait_for(self.received.get(), max(deadline - loop.time(), 0.01))
            response = parse_response(data)
            if response and response.code >= 200:
                self.finals.setdefault(response.headers.get("call-id", ""), response)
        return self.finals[call_id]
