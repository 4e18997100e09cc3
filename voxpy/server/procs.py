"""Child-process plumbing shared by the Kamailio runner and the worker slots.

Free ports, a readable exit status, and the relay that turns a child's stderr lines into this
process's structured log (so ``voxpy serve`` writes one uniform stream, JSON or console).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

from voxpy.log import get_logger

TAIL_LINES = 20
"How many stderr lines of a child are kept to explain why it died."

_KAMAILIO_LEVEL = re.compile(r"\b(ALERT|BUG|CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG):")
_KAMAILIO_LEVELS = {
    "ALERT": "error",
    "BUG": "error",
    "CRITICAL": "error",
    "ERROR": "error",
    "WARNING": "warning",
    "NOTICE": "info",
    "INFO": "info",
    "DEBUG": "debug",
}


def free_port(host: str = "127.0.0.1", *, exclude: set[int] | None = None) -> int:
    """A port that is free for both UDP and TCP on ``host`` right now (SIP uses both).

    Bind-then-release: another process may take it before ours binds it. Only for a child
    that cannot report a port the OS chose (Kamailio), and whose bind failure is retried.
    """
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
            if exclude and port in exclude:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
            return port
    raise OSError(f"no port free for both UDP and TCP on {host}")


def backoff_delay(failures: int, first: float, most: float) -> float:
    """Seconds before the next start after ``failures`` failures in a row (1, 2, ...):
    ``first``, doubled per failure, at most ``most`` (``server.restart_backoff[_max]``)."""
    return min(first * 2.0 ** (failures - 1), most)


async def wait_exit(proc: asyncio.subprocess.Process, timeout: float | None = None) -> int:
    """The child's exit status once it exited; raises TimeoutError after ``timeout``.

    Not ``proc.wait()``: on Python 3.11 that also waits until the child's pipes close, which
    never happens while a grandchild it left behind still holds them (Kamailio's processes).
    Waits on a pidfd (readable once the process ended), so nothing polls while it runs: the
    supervisor's idle CPU no longer grows with its children (it polled every 50 ms, ~0.03 %
    of a core per child). The child watcher reaps in its own time: a few ticks after the exit.
    """
    if proc.returncode is None:
        await wait_pid(proc.pid, timeout)
    while proc.returncode is None:  # exited: only the watcher's reaping is left
        await asyncio.sleep(0.005)
    return proc.returncode


async def wait_pid(pid: int, timeout: float | None = None) -> None:
    """Return once process ``pid`` ended (any process, not only our children); raises
    TimeoutError after ``timeout``. A pid that is already gone returns at once."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        await wait_pidfd(pidfd, timeout)
    finally:
        os.close(pidfd)


async def wait_pidfd(pidfd: int, timeout: float | None = None) -> None:
    """Return once the process behind ``pidfd`` ended; raises TimeoutError after ``timeout``."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def exited() -> None:
        if not done.done():
            done.set_result(None)

    loop.add_reader(pidfd, exited)
    try:
        await asyncio.wait_for(done, timeout)
    finally:
        loop.remove_reader(pidfd)


READY_FD_ENV = "VOXPY_READY_FD"
"The pipe a `voxpy serve` worker writes one line to once its control API listens."


def notify_ready() -> None:
    """Tell the supervisor this worker is ready (its control API answers), without it polling.

    Nothing happens when the worker was not given a ready pipe (``voxpy run`` by hand)."""
    value = os.environ.pop(READY_FD_ENV, "")
    if not value.isdigit():
        return
    with contextlib.suppress(OSError):
        os.write(int(value), b"ready\n")
    with contextlib.suppress(OSError):
        os.close(int(value))


def describe_exit(returncode: int) -> dict[str, Any]:
    """``{"exit_code": 3}`` or ``{"signal": "SIGKILL"}`` for a child's return code."""
    if returncode < 0:
        try:
            return {"signal": signal.Signals(-returncode).name}
        except ValueError:
            return {"signal": str(-returncode)}
    return {"exit_code": returncode}


class LineRelay:
    """Reads a child's stderr, keeps the last lines and re-logs each one.

    JSON lines (voxpy workers) are re-emitted with their own event name and fields plus
    ``extra``; other lines (Kamailio, native libraries) become ``{"event": source, "line": ...}``
    at the level Kamailio wrote in them. ``on_line`` sees every parsed JSON object.
    """

    def __init__(
        self,
        source: str,
        extra: dict[str, Any],
        on_line: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.source = source
        self.extra = extra
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.quiet = False
        "Log plain lines at info at most (set while the child is being stopped on purpose)."
        self._on_line = on_line
        self._log = get_logger(f"voxpy.{source}")

    async def run(self, stream: asyncio.StreamReader) -> None:
        """Relay until EOF (the child closed stderr or died)."""
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line over the reader's limit: skip the rest of it
                with contextlib.suppress(asyncio.LimitOverrunError, ValueError):
                    await stream.read(1 << 16)
                continue
            if not raw:
                return
            self.relay(raw.decode("utf-8", "replace").rstrip())

    def relay(self, text: str) -> None:
        if not text:
            return
        self.tail.append(text)
        data = _json_object(text)
        if data is None:
            match = _KAMAILIO_LEVEL.search(text)
            level = _KAMAILIO_LEVELS[match[1]] if match else "info"
            if self.quiet and level in ("warning", "error"):
                level = "info"
            getattr(self._log, level)(self.source, line=text, **self.extra)
            return
        if self._on_line is not None:
            self._on_line(data)
        event = str(data.pop("event", self.source))
        level = str(data.pop("level", "info"))
        data.pop("timestamp", None)
        name = data.pop("logger", None)
        log = get_logger(str(name)) if name else self._log
        method = getattr(log, level if level in _LEVEL_METHODS else "info")
        method(event, **{**data, **self.extra})


_LEVEL_METHODS = frozenset({"debug", "info", "warning", "error", "critical"})


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None
