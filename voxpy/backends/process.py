"""ProcessBackend: the Backend port on a pjsua2 peer running in a child process.

pjsua2 allows one endpoint per process, so a test (or a tool) that needs a second SIP agent
runs ``python -m voxpy.backends.pjsua2.peer`` and talks JSON lines to it (every command and
signal type :mod:`voxpy.core.wire` knows, transfer, INFO, hold and statistics included). This
module never imports pjsua2. Signals are delivered on the event loop that called ``start()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from voxpy.backends.peerwire import ERROR, READY, STOP_ACCEPTING, decode_line, encode_line
from voxpy.backends.pjsua2.options import MAX_CALLS_LIMIT
from voxpy.backends.refusal import refusal
from voxpy.core.commands import Command, Dial
from voxpy.core.ports import SignalSink
from voxpy.core.signals import Ended, IncomingCall, Signal
from voxpy.core.wire import from_wire, to_wire
from voxpy.errors import BackendError, InvalidStateError

READY_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
_STDERR_LINES = 200
_ERRORS_KEPT = 50


class ProcessBackend:
    """Runs the pjsua2 peer as a child process and proxies the Backend protocol to it.

    ``argv`` replaces the whole child command line; by default it is the peer module with
    ``--host``/``--port``/``--max-calls`` (and ``--measure-audio`` when ``measure_audio``, so
    that ``ReportAudio`` reports what each leg heard) plus ``extra_args``. ``env`` is added to this
    process's environment. The child's stderr is kept (last 200 lines) for error messages.
    """

    def __init__(
        self,
        argv: list[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_calls: int = MAX_CALLS_LIMIT,
        measure_audio: bool = False,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        logger: Any = None,
    ) -> None:
        self.max_calls = max_calls
        self.argv = (
            list(argv)
            if argv is not None
            else [
                sys.executable,
                "-m",
                "voxpy.backends.pjsua2.peer",
                "--host",
                host,
                "--port",
                str(port),
                "--max-calls",
                str(max_calls),
                *(["--measure-audio"] if measure_audio else []),
                *extra_args,
            ]
        )
        self._env = {**os.environ, **env} if env is not None else None
        self._logger = logger or structlog.get_logger("voxpy.process")
        self._proc: asyncio.subprocess.Process | None = None
        self._sink: SignalSink | None = None
        self._contact_uri = ""
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._errors: deque[str] = deque(maxlen=_ERRORS_KEPT)
        self._live: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def contact_uri(self) -> str:
        """The peer's SIP URI from its Ready line."""
        if not self._contact_uri:
            raise InvalidStateError("contact_uri is known only after start()")
        return self._contact_uri

    @property
    def pid(self) -> int | None:
        """The child's process id, None before start."""
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        """The child's exit status, None while it runs (or before start)."""
        return self._proc.returncode if self._proc is not None else None

    @property
    def stderr_tail(self) -> str:
        """The last lines the child wrote to stderr."""
        return "\n".join(self._stderr)

    @property
    def errors(self) -> tuple[str, ...]:
        """Messages of the ``Error`` lines the peer sent (malformed input etc.)."""
        return tuple(self._errors)

    async def start(self, sink: SignalSink) -> None:
        """Spawn the peer and wait for its Ready line; raises BackendError on failure."""
        if self._proc is not None:
            raise InvalidStateError("a ProcessBackend can be started only once")
        self._sink = sink
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._env,
            )
        except OSError as exc:
            raise BackendError(f"cannot run {self.argv[0]}: {exc}", op="start") from None
        self._tasks.append(asyncio.create_task(self._read_stderr()))
        try:
            ready = await asyncio.wait_for(self._read_ready(), READY_TIMEOUT_S)
        except (TimeoutError, BackendError) as exc:
            await self.stop()
            why = str(exc) or f"no Ready line within {READY_TIMEOUT_S:.0f} s"
            raise BackendError(
                f"SIP peer did not start: {why}\n{self.stderr_tail}", op="start"
            ) from None
        self._contact_uri = str(ready["contact_uri"])
        self._tasks.append(asyncio.create_task(self._read_stdout()))

    async def _read_ready(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = await self._proc.stdout.readline()
        if not line:
            await self._proc.wait()
            raise BackendError(f"peer exited with status {self._proc.returncode}")
        try:
            data = decode_line(line)
        except ValueError:
            raise BackendError(f"unexpected first line {line[:200]!r}") from None
        if data.get("type") != READY:
            raise BackendError(str(data.get("message") or f"unexpected first line {line[:200]!r}"))
        return data

    async def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        async for raw in self._proc.stderr:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for raw in self._proc.stdout:
            self._on_line(raw.decode("utf-8", "replace"))
        rc = await self._proc.wait()
        # Legs the peer never ended (it crashed) still end exactly once for our caller.
        for call_id in sorted(self._live):
            self._deliver(Ended(call_id=call_id, code=500, reason=f"SIP peer exited ({rc})"))
        if not self._stopping:
            log = self._logger.warning if rc == 0 else self._logger.error
            log("SIP peer exited", returncode=rc, stderr=self.stderr_tail)

    def _on_line(self, line: str) -> None:
        try:
            data = decode_line(line)
            if data.get("type") == ERROR:
                self._errors.append(str(data.get("message", "")))
                self._logger.warning("sip_peer_error", message=data.get("message"))
                return
            value = from_wire(data)
        except (ValueError, TypeError, AttributeError) as exc:
            self._logger.warning("sip_peer_unexpected_line", line=line[:500], error=str(exc))
            return
        if isinstance(value, Signal):
            self._deliver(value)

    def _deliver(self, signal: Signal) -> None:
        if isinstance(signal, IncomingCall):
            self._live.add(signal.call_id)
        elif isinstance(signal, Ended):
            self._live.discard(signal.call_id)
        if self._sink is not None:
            try:
                self._sink(signal)
            except Exception:  # keep reading the peer
                self._logger.exception("signal_sink_failed")

    def send(self, command: Command) -> None:
        """Write ``command`` as one JSON line to the peer; never blocks. Loop thread only."""
        if isinstance(command, Dial):
            self._live.add(command.call_id)
        if not self._write(to_wire(command)):
            self._deliver(refusal(command, "SIP peer is not running"))

    def send_raw(self, line: str) -> None:
        """Write an arbitrary line to the peer (tests of its error handling)."""
        self._write_bytes(line.encode() + b"\n")

    def stop_accepting(self) -> None:
        """Make the peer answer new INVITEs with 503."""
        self._write({"type": STOP_ACCEPTING})

    def _write(self, payload: dict[str, Any]) -> bool:
        return self._write_bytes(encode_line(payload))

    def _write_bytes(self, data: bytes) -> bool:
        proc = self._proc
        if (
            proc is None
            or proc.returncode is not None
            or proc.stdin is None
            or proc.stdin.is_closing()
            or self._stopping
        ):
            return False
        proc.stdin.write(data)
        return True

    async def stop(self) -> None:
        """Close the peer's stdin (it hangs up and exits), wait 5 s, then kill it."""
        proc = self._proc
        if proc is None or self._stopping:
            await self._join_tasks()
            return
        self._stopping = True
        if proc.stdin is not None and not proc.stdin.is_closing():
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            self._logger.warning("sip_peer_killed", pid=proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        await self._join_tasks()

    async def _join_tasks(self) -> None:
        tasks, self._tasks = self._tasks, []
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
