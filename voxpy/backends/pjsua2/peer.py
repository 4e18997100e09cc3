"""A standalone SIP peer speaking JSON lines: the project's own far end for tests.

``python -m voxpy.backends.pjsua2.peer [--host H] [--port P] [--max-calls N] [--user U]
[--sip-log-level L] [--rtp-port R] [--measure-audio] [--no-telephone-event]``

stdout: first ``{"type": "Ready", "contact_uri": "sip:..."}`` (or ``{"type": "Error", ...}``
and exit 1 when it cannot start), then one :func:`voxpy.core.wire.to_wire` line per signal.
stdin: one command per line in the same format, plus ``{"type": "StopAccepting"}``. A bad line
is answered with ``{"type": "Error", "message": ...}``. EOF or SIGTERM stops the backend and
exits 0. ``--measure-audio`` makes ``ReportAudio`` answer with the seconds of non-silent
audio each leg received (tests use it to check what was heard). Every command and signal of
:mod:`voxpy.core` crosses as is: transfers (both ends), INFO, MESSAGE, hold, mute, stream
statistics and ``SetRtpLoss``, the fault injection tests use to make this peer drop RTP.
Logs go to stderr. It is a separate process because pjsua2 allows one endpoint per process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
from typing import Any

import structlog

from voxpy.backends.peerwire import ERROR, READY, STOP_ACCEPTING, decode_line, encode_line
from voxpy.backends.pjsua2.backend import PjsuaBackend
from voxpy.backends.pjsua2.options import PjsuaOptions
from voxpy.core.commands import Command
from voxpy.core.signals import Signal
from voxpy.core.wire import from_wire, to_wire
from voxpy.errors import VoxpyError


def write_line(payload: dict[str, Any]) -> None:
    """One JSON object per line on stdout, flushed: stdout is the protocol channel."""
    sys.stdout.write(encode_line(payload).decode())
    sys.stdout.flush()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m voxpy.backends.pjsua2.peer", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral (default)")
    parser.add_argument("--max-calls", type=int, default=4)
    parser.add_argument("--user", default="voxpy")
    parser.add_argument("--sip-log-level", type=int, default=0)
    parser.add_argument("--rtp-port", type=int, default=10000)
    parser.add_argument("--idle-poll-ms", type=int, default=1000, help="PjsuaOptions.idle_poll_ms")
    parser.add_argument("--clock-priority", type=int, default=0, help="PjsuaOptions.clock_priority")
    parser.add_argument(
        "--measure-audio", action="store_true", help="measure received audio for ReportAudio"
    )
    parser.add_argument(
        "--no-telephone-event",
        action="store_true",
        help="leave RFC 2833 out of SDP (tests of the in-band fallback)",
    )
    return parser.parse_args(argv)


def _read_stdin(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    # A thread, not connect_read_pipe, so any stdin works (pipe, file, tty). Raw os.read, not
    # sys.stdin: a daemon thread parked inside BufferedReader aborts interpreter shutdown.
    pending = b""
    try:
        while chunk := os.read(0, 65536):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                loop.call_soon_threadsafe(lines.put_nowait, raw.decode("utf-8", "replace"))
    except OSError as exc:
        # Treated as EOF (the peer shuts down), but an unreadable stdin is not a clean end:
        # the test driving the peer should see why its commands stopped arriving.
        structlog.get_logger("voxpy.peer").error("stdin_failed", error=str(exc))
    finally:
        # RuntimeError: the loop is already closed, we are exiting anyway.
        with contextlib.suppress(RuntimeError):
            if pending.strip():
                loop.call_soon_threadsafe(lines.put_nowait, pending.decode("utf-8", "replace"))
            loop.call_soon_threadsafe(lines.put_nowait, None)


def parse_command(line: str) -> Command | str:
    """A Command, the StopAccepting control word, or raise ValueError with a message."""
    data = decode_line(line)
    if data.get("type") == STOP_ACCEPTING:
        return STOP_ACCEPTING
    try:
        value = from_wire(data)
    except (TypeError, VoxpyError) as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(value, Command):
        raise ValueError(f"{data.get('type')} is a signal, not a command")
    return value


async def run(args: argparse.Namespace) -> int:
    """Serve until stdin closes or SIGTERM; returns the exit status."""
    loop = asyncio.get_running_loop()
    logger = structlog.get_logger("voxpy.peer")
    try:
        options = PjsuaOptions(
            host=args.host,
            port=args.port,
            max_calls=args.max_calls,
            user=args.user,
            sip_log_level=args.sip_log_level,
            rtp_port=args.rtp_port,
            idle_poll_ms=args.idle_poll_ms,
            clock_priority=args.clock_priority,
            measure_rx_audio=args.measure_audio,
            telephone_event=not args.no_telephone_event,
        )
    except VoxpyError as exc:
        write_line({"type": ERROR, "message": str(exc)})
        return 2
    backend = PjsuaBackend(options, logger)
    signals: asyncio.Queue[Signal] = asyncio.Queue()

    def sink(sig: Signal) -> None:  # owner thread: hand over, never block it on stdout
        loop.call_soon_threadsafe(signals.put_nowait, sig)

    async def pump() -> None:
        while True:
            write_line(to_wire(await signals.get()))

    try:
        await backend.start(sink)
    except VoxpyError as exc:
        write_line({"type": ERROR, "message": str(exc)})
        await backend.stop()
        return 1
    write_line({"type": READY, "contact_uri": backend.contact_uri})
    writer = asyncio.create_task(pump())
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lines.put_nowait, None)
    threading.Thread(target=_read_stdin, args=(loop, lines), name="peer-stdin", daemon=True).start()
    try:
        while (line := await lines.get()) is not None:
            if not line.strip():
                continue
            try:
                item = parse_command(line)
            except ValueError as exc:
                write_line({"type": ERROR, "message": str(exc)})
                continue
            if item == STOP_ACCEPTING:
                backend.stop_accepting()
            elif isinstance(item, Command):
                backend.send(item)
    finally:
        await backend.stop()
        await asyncio.sleep(0)  # let the last call_soon_threadsafe hand-overs run
        while not signals.empty():
            write_line(to_wire(signals.get_nowait()))
        writer.cancel()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; logs go to stderr so stdout carries only the protocol."""
    args = parse_args(argv)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    try:
        return asyncio.run(run(args))
    except BrokenPipeError:
        return 0  # whoever read our stdout is gone


if __name__ == "__main__":
    sys.exit(main())
