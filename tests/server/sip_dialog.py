"""A raw UDP SIP caller with dialogs: INVITE, ACK and BYE through a front at any address.

Just enough of RFC 3261 for the multi-host tests: the route set from the 200's Record-Route,
the remote target from its Contact (which tells which host answered), in-dialog requests
sent to the front. Responses are matched by Call-ID and CSeq.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
from dataclasses import dataclass, field

from tests.server.sip_udp import Response, parse_response, sdp

_tags = itertools.count(1)


@dataclass
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    target: str
    "The remote Contact URI: the worker that answered."
    routes: list[str]
    cseq: int = 1

    @property
    def host(self) -> str:
        match = re.match(r"sip:(?:[^@]*@)?([^:;>]+)", self.target)
        assert match, self.target
        return match[1]


@dataclass
class Caller(asyncio.DatagramProtocol):
    """One UDP socket on ``local_ip`` that talks to the front at ``front``."""

    local_ip: str
    front: tuple[str, int]
    local_port: int = 0
    transport: asyncio.DatagramTransport | None = None
    finals: dict[tuple[str, str], Response] = field(default_factory=dict)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def open(cls, local_ip: str, front: tuple[str, int]) -> Caller:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_datagram_endpoint(
            lambda: cls(local_ip, front), local_addr=(local_ip, 0)
        )
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.local_port = int(transport.get_extra_info("sockname")[1])

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        response = parse_response(data)
        if response is not None and response.code >= 200:
            key = (response.headers.get("call-id", ""), response.headers.get("cseq", ""))
            self.finals.setdefault(key, response)
            self._arrived.set()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def _final(self, call_id: str, cseq: str, timeout: float) -> Response:
        async def wait() -> Response:
            while (call_id, cseq) not in self.finals:
                self._arrived.clear()
                await self._arrived.wait()
            return self.finals[(call_id, cseq)]

        return await asyncio.wait_for(wait(), timeout)

    def _send(self, text: str) -> None:
        assert self.transport is not None
        self.transport.sendto(text.encode(), self.front)

    def _head(self, method: str, uri: str, call_id: str, cseq: int, from_tag: str) -> str:
        me = f"{self.local_ip}:{self.local_port}"
        return (
            f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {me};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:raw@{me}>;tag={from_tag}\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: {cseq} {method}\r\n"
        )

    async def invite(
        self, user: str = "100", timeout: float = 10, headers: dict[str, str] | None = None
    ) -> Dialog | Response:
        """A call (with ``headers`` added to its INVITE): the dialog once answered (and
        ACKed), else the final response."""
        host, port = self.front
        call_id, tag = f"{secrets.token_hex(8)}@raw", str(next(_tags))
        body = sdp(self.local_ip)
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._send(
            self._head("INVITE", f"sip:{user}@{host}:{port}", call_id, 1, tag)
            + f"To: <sip:{user}@{host}:{port}>\r\n"
            f"Contact: <sip:raw@{self.local_ip}:{self.local_port}>\r\n{extra}"
            "Content-Type: application/sdp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        )
        response = await self._final(call_id, "1 INVITE", timeout)
        if response.code != 200:
            return response
        head = response.text.split("\r\n\r\n", 1)[0]
        routes = [
            value.strip()
            for line in head.split("\r\n")[1:]
            if line.lower().startswith(("record-route:", "rr:"))
            for value in line.partition(":")[2].split(",")
        ]
        contact = re.search(r"<([^>]+)>", response.headers.get("contact", ""))
        remote_tag = re.search(r"tag=([^;\s]+)", response.headers.get("to", ""))
        assert contact and remote_tag, response.text
        dialog = Dialog(call_id, tag, remote_tag[1], contact[1], list(reversed(routes)))
        self._in_dialog(dialog, "ACK", cseq=1)
        return dialog

    def _in_dialog(self, dialog: Dialog, method: str, *, cseq: int) -> None:
        host, port = self.front
        route = "".join(f"Route: {r}\r\n" for r in dialog.routes)
        self._send(
            self._head(method, dialog.target, dialog.call_id, cseq, dialog.local_tag)
            + f"To: <sip:100@{host}:{port}>;tag={dialog.remote_tag}\r\n"
            f"{route}Content-Length: 0\r\n\r\n"
        )

    async def bye(self, dialog: Dialog, timeout: float = 10) -> Response:
        dialog.cseq += 1
        self._in_dialog(dialog, "BYE", cseq=dialog.cseq)
        return await self._final(dialog.call_id, f"{dialog.cseq} BYE", timeout)
