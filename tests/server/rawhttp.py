"""Raw HTTP/1.1 for tests that must send what no well-behaved client sends (bytes that are not
UTF-8 in a header or body, a false charset), and the JSON log that proves nothing failed."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog

from voxpy.log import configure_logging

Connect = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def send(
    connect: Connect,
    method: str,
    path: str,
    *,
    headers: dict[str, bytes] | None = None,
    body: bytes = b"",
) -> RawReply:
    """One request on a new connection (``Connection: close``); the whole reply."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: test", b"Connection: close"]
    lines += [name.encode() + b": " + value for name, value in (headers or {}).items()]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    reader, writer = await connect()
    try:
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return RawReply(
        status=int(status_line.split()[1]),
        headers={k.lower(): v for k, v in fields.items()},
        body=payload,
    )


def assert_json_refusal(reply: RawReply, status: int, words: str) -> None:
    """``status`` with a JSON ``{"error": ...}`` that contains ``words``."""
    assert reply.status == status, reply
    assert reply.headers["content-type"].startswith("application/json"), reply
    message = reply.json()["error"]
    assert words in message, message


class LogCapture:
    """voxpy's logging (structlog and stdlib, aiohttp's included) into memory, as JSON."""

    def __init__(self) -> None:
        self._stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._stream.getvalue().splitlines() if line]

    def errors(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("level") in ("error", "critical")]

    @classmethod
    def installed(cls) -> Iterator[LogCapture]:
        """For a fixture: capture while it lives, then put logging back as it was."""
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        capture = cls()
        configure_logging("debug", "json", stream=capture._stream)
        try:
            yield capture
        finally:
            structlog.reset_defaults()
            root.handlers[:] = handlers
            root.setLevel(level)
