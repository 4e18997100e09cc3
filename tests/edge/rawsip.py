"""A tiny raw SIP client for hostile-input tests: one request, its final answer, nothing clever.

Messages are byte templates with ``$NAME`` placeholders (see :func:`fill`), so a corpus entry can
hold any bytes at all (bare LF, NUL, invalid UTF-8) and still reach *this* sender's socket:
every template puts ``$LHOST:$LPORT`` in its top Via and Contact, so answers and in-dialog
requests come back here and nothing leaves 127.0.0.1.

:func:`send` opens a socket on an OS-chosen local port, sends the message, answers requests the
far end sends us (its BYE after a 2xx) with 200, ignores 1xx and returns the first final response
whose CSeq method is the request's, or ``None`` when none came in ``timeout`` (dropped). A 2xx to
an INVITE is ACKed and the call is ended (the far end's BYE answered, or our own BYE sent), so
the engine's call slot is freed before the next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid

from tests.edge.sipwire import Exchange, Message, fill, parse

PROCEEDING_TIMEOUT = 5.0
"Seconds a final answer may take once a 1xx said the request is being worked on."
BARRIER_GRACE = 0.15
"Seconds to still wait for our answer after the barrier OPTIONS was answered."


class _Link:
    """One UDP socket or TCP connection to the server, with a queue of parsed messages."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue()
        self.local = ("127.0.0.1", 0)
        self._udp: asyncio.DatagramTransport | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def open(self, transport: str, host: str, port: int, *, connect: bool = True) -> None:
        loop = asyncio.get_running_loop()
        if transport == "udp":
            queue = self.queue

            class Proto(asyncio.DatagramProtocol):
                def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                    message = parse(data)
                    if message is not None:
                        queue.put_nowait(message)

            udp, _ = await loop.create_datagram_endpoint(
                Proto,
                local_addr=("127.0.0.1", 0),
                remote_addr=(host, port) if connect else None,
            )
            self._udp = udp
            self.local = udp.get_extra_info("sockname")[:2]
        else:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, local_addr=("127.0.0.1", 0)), 5
            )
            self._writer = writer
            self.local = writer.get_extra_info("sockname")[:2]
            self._reader_task = asyncio.create_task(self._read_stream(reader))

    async def _read_stream(self, reader: asyncio.StreamReader) -> None:
        buffer = b""
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while chunk := await reader.read(65536):
                buffer += chunk
                while True:
                    buffer = buffer.lstrip(b"\r\n")  # keep-alives
                    head, sep, rest = buffer.partition(b"\r\n\r\n")
                    if not sep:
                        break
                    found = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
                    length = int(found.group(1)) if found else 0
                    if len(rest) < length:
                        break
                    message = parse(head + sep + rest[:length])
                    buffer = rest[length:]
                    if message is not None:
                        self.queue.put_nowait(message)

    def send(self, data: bytes) -> None:
        if self._udp is not None:
            self._udp.sendto(data)
        elif self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(self._writer.wait_closed(), 1)
        if self._reader_task is not None:
            self._reader_task.cancel()


def _reply(request: Message, code: int = 200, reason: str = "OK") -> bytes:
    """A response echoing the request's Via/From/To/Call-ID/CSeq (To gets a tag if it lacks one)."""
    lines = [f"SIP/2.0 {code} {reason}"]
    lines += [f"Via: {value}" for value in request.all("via")]
    to = request.get("to")
    if ";tag=" not in to.replace(" ", ""):
        to += ";tag=raw" + uuid.uuid4().hex[:8]
    lines += [f"From: {request.get('from')}", f"To: {to}"]
    lines += [f"Call-ID: {request.get('call-id')}", f"CSeq: {request.get('cseq')}"]
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def _in_dialog(
    method: str,
    target: str,
    request: Message,
    response: Message,
    cseq: int,
    via: str,
    body: bytes = b"",
) -> bytes:
    lines = [
        f"{method} {target} SIP/2.0",
        f"Via: {via}",
        "Max-Forwards: 70",
        f"From: {request.get('from')}",
        f"To: {response.get('to')}",
        f"Call-ID: {request.get('call-id')}",
        f"CSeq: {cseq} {method}",
    ]
    lines += [f"Route: {value}" for value in reversed(response.all("record-route"))]
    if body:
        lines += [f"Contact: {request.get('contact')}", "Content-Type: application/sdp"]
    lines += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


def _target(response: Message) -> str:
    contact = response.get("contact")
    match = re.search(r"<([^>]*)>", contact)
    return match.group(1) if match else contact.split(";", 1)[0].strip()


async def send(
    template: bytes,
    host: str,
    port: int,
    *,
    transport: str = "udp",
    timeout: float = 1.0,
    values: dict[str, str] | None = None,
    barrier: bool = True,
    reinvite: bytes | None = None,
) -> Exchange:
    """Send one filled ``template`` from a fresh socket; wait for its final answer (see module).

    ``timeout`` bounds the wait for a first answer (pjsip answers in milliseconds on loopback;
    silence means dropped); once a 1xx came, the final may take up to ``PROCEEDING_TIMEOUT``.
    With ``barrier``, an OPTIONS follows on the same socket: pjsip handles one socket's (or one
    TCP connection's) messages in order, so when the OPTIONS is answered and ours has had no
    answer at all (not even a 1xx), ours was dropped: no need to wait out ``timeout``.
    With ``reinvite`` (an SDP template), a 2xx-answered INVITE's ACK is followed at once by a
    re-INVITE with that SDP, racing the scenario's BYE; its answer is ``Exchange.reinvite``.
    """
    link = _Link()
    rtp = _Link()  # a socket of ours for the SDP's media port: RTP sent to us is just dropped
    await link.open(transport, host, port)
    await rtp.open("udp", host, port, connect=False)
    local_host, local_port = link.local
    tag = uuid.uuid4().hex[:10]
    fills = {
        "HOST": host,
        "PORT": str(port),
        "LHOST": str(local_host),
        "LPORT": str(local_port),
        "TRANSPORT": transport.upper(),
        "TPARAM": "" if transport == "udp" else f";transport={transport}",
        "BRANCH": uuid.uuid4().hex,
        "CALLID": f"edge-{uuid.uuid4().hex}",
        "TAG": tag,
        "RTPPORT": str(rtp.local[1]),
        **(values or {}),
    }
    data = fill(template, fills)
    exchange = Exchange(request=data, source=f"{local_host}:{local_port}")
    sent = parse(data)
    method = sent.method if sent is not None else data.split(b" ", 1)[0].decode(errors="replace")
    loop = asyncio.get_running_loop()
    barrier_id = f"barrier-{uuid.uuid4().hex}"
    try:
        link.send(data)
        if barrier:
            link.send(_barrier(fills, barrier_id))
        deadline = loop.time() + timeout
        while exchange.final is None and (left := deadline - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(link.queue.get(), left)
            except TimeoutError:
                break
            status = message.status
            if message.get("call-id") == barrier_id:
                if (status or 0) >= 200 and not exchange.provisional:
                    # pjsip handles one socket's messages in order: ours was dropped
                    deadline = min(deadline, loop.time() + BARRIER_GRACE)
                continue
            if status is None:  # a request from the far end: answer it
                link.send(_reply(message))
                exchange.others.append(message)
            elif status < 200 and message.method == method:
                exchange.provisional.append(message)
                # accepted: the final answer may take the engine a while (Python, media setup)
                deadline = max(deadline, loop.time() + PROCEEDING_TIMEOUT)
            elif message.method == method:
                exchange.final = message
            else:
                exchange.others.append(message)
        if (
            exchange.final is not None
            and sent is not None
            and method == "INVITE"
            and 200 <= (exchange.final.status or 0) < 300
        ):
            body = fill(reinvite, fills) if reinvite is not None else b""
            await _finish_call(link, sent, exchange, fills, body)
    finally:
        await link.close()
        await rtp.close()
    return exchange


def _barrier(fills: dict[str, str], call_id: str) -> bytes:
    lines = [
        f"OPTIONS sip:barrier@{fills['HOST']}:{fills['PORT']} SIP/2.0",
        f"Via: SIP/2.0/{fills['TRANSPORT']} {fills['LHOST']}:{fills['LPORT']};rport;"
        f"branch=z9hG4bK{uuid.uuid4().hex}",
        "Max-Forwards: 70",
        f"From: <sip:barrier@{fills['LHOST']}:{fills['LPORT']}>;tag={uuid.uuid4().hex[:8]}",
        f"To: <sip:barrier@{fills['HOST']}:{fills['PORT']}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 OPTIONS",
        "Content-Length: 0",
        "",
        "",
    ]
    return "\r\n".join(lines).encode()


async def _finish_call(
    link: _Link, request: Message, exchange: Exchange, fills: dict[str, str], reinvite: bytes
) -> None:
    """ACK the 2xx; then answer the far end's BYE, or send our own if none comes in 2 s."""
    assert exchange.final is not None
    response = exchange.final
    target = _target(response) or request.start.split(" ")[1]
    cseq = int(request.get("cseq").split()[0]) if request.get("cseq").split() else 1
    via = f"SIP/2.0/{fills['TRANSPORT']} {fills['LHOST']}:{fills['LPORT']};rport;branch=z9hG4bK"
    link.send(_in_dialog("ACK", target, request, response, cseq, via + uuid.uuid4().hex))
    first_cseq = cseq
    re_via = via + "re" + uuid.uuid4().hex
    if reinvite:
        cseq += 1
        link.send(_in_dialog("INVITE", target, request, response, cseq, re_via, reinvite))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2
    bye_seen = False
    while (left := deadline - loop.time()) > 0:
        if bye_seen and (not reinvite or exchange.reinvite is not None):
            return
        try:
            message = await asyncio.wait_for(link.queue.get(), left)
        except TimeoutError:
            break
        if (
            reinvite
            and message.method == "INVITE"
            and message.get("cseq").split()[:1] == [str(cseq)]
            and (message.status or 0) >= 200
        ):
            exchange.reinvite = message
            # a non-2xx is ACKed in its own transaction (same branch), a 2xx in a new one
            branch = re_via if (message.status or 0) >= 300 else via + uuid.uuid4().hex
            link.send(_in_dialog("ACK", target, request, response, cseq, branch))
            continue
        if message.status is None:
            link.send(_reply(message))
            exchange.others.append(message)
            bye_seen = bye_seen or message.method == "BYE"
        elif message.method == "INVITE" and (message.status or 0) < 300:
            # our ACK crossed a 2xx retransmission: ACK again
            ack = _in_dialog("ACK", target, request, response, first_cseq, via + uuid.uuid4().hex)
            link.send(ack)
    if bye_seen:
        return
    link.send(_in_dialog("BYE", target, request, response, cseq + 1, via + uuid.uuid4().hex))
    deadline = loop.time() + 2
    while (left := deadline - loop.time()) > 0:
        try:
            message = await asyncio.wait_for(link.queue.get(), left)
        except TimeoutError:
            return
        if message.method == "BYE" and (message.status or 0) >= 200:
            return
