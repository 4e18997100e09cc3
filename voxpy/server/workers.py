"""Worker slots: each keeps one ``voxpy run --control-socket`` process alive.

A slot starts its worker, waits until the control API (a unix socket in the run directory)
answers, then waits for the process to end. A worker asked for SIP port 0 binds one the OS
picks and reports it in ``/status``; the slot keeps that port for later starts, because
Kamailio's dispatcher list names it (see :attr:`Worker.placed`). An exit it did not ask for
is logged with the exit code or signal and the last stderr lines, and the worker is started
again after a backoff that doubles with each crash in a row
(:func:`~voxpy.server.procs.backoff_delay`) and resets once a worker stayed up for
:data:`STABLE_S`. ``on_up``/``on_down`` let the supervisor steer Kamailio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from voxpy.log import get_logger
from voxpy.server.procs import LineRelay, backoff_delay, describe_exit, wait_exit

READY_TIMEOUT_S = 30.0
STABLE_S = 10.0
CONTROL_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSpec:
    """Where worker ``index`` listens and what it runs."""

    index: int
    sip_port: int
    "The SIP port asked for; 0: the one the OS gives the first start (kept for restarts)."
    control_socket: Path
    argv: tuple[str, ...]
    "The command line without ``--sip-port``, which each start adds."
    env: Mapping[str, str]
    dial_host: str
    "The address Kamailio sends to, e.g. ``127.0.0.1``."


class ControlError(Exception):
    """A worker's control API did not answer as expected (status and error text)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


CONTROL_ERRORS = (aiohttp.ClientError, TimeoutError, ControlError)
"What a control request raises when the worker is gone, busy or refuses."


class Worker:
    """One slot of the pool; :meth:`run` keeps a worker process alive until :meth:`stop`."""

    def __init__(
        self,
        spec: WorkerSpec,
        token: str,
        *,
        backoff: tuple[float, float],
        on_up: Callable[[Worker], Awaitable[None]],
        on_down: Callable[[Worker], Awaitable[None]],
    ) -> None:
        self.spec = spec
        self.index = spec.index
        self.restarts = 0
        self.ready = False
        self.draining = False
        self.pid: int | None = None
        self.last_exit: dict[str, Any] | None = None
        self.sip_port = spec.sip_port
        # Set once sip_port is the port the worker listens on (at once when it is fixed).
        self.placed = asyncio.Event()
        if spec.sip_port:
            self.placed.set()
        self._http = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=str(spec.control_socket))
        )
        # Relayed WebSockets hold their connection for as long as they live: their own pool,
        # not capped, so they never starve the control requests above (aiohttp's cap is 100).
        self._sockets = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=str(spec.control_socket), limit=0)
        )
        self._headers = {"Authorization": f"Bearer {token}"}
        self._backoff = backoff
        self._on_up, self._on_down = on_up, on_down
        self._proc: asyncio.subprocess.Process | None = None
        self._stopping = asyncio.Event()
        self._log = get_logger("voxpy.supervisor").bind(worker=spec.index)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Start the worker and restart it whenever it dies, until :meth:`stop`."""
        failures = 0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            started = loop.time()
            relay = LineRelay("worker", {"worker": self.index})
            try:
                proc = await asyncio.create_subprocess_exec(
                    *self.spec.argv,
                    "--sip-port",
                    str(self.sip_port),
                    env=dict(self.spec.env),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                    process_group=0,  # signals to our group (Ctrl-C) must not skip the drain
                )
            except OSError as exc:  # out of processes or file descriptors: try again later
                self._log.error("worker_spawn_failed", error=str(exc))
                failures += 1
                await self._pause(failures)
                continue
            self._proc, self.pid = proc, proc.pid
            assert proc.stderr is not None
            reader = asyncio.create_task(relay.run(proc.stderr))
            self._log.info(
                "worker_started",
                pid=proc.pid,
                sip_port=self.sip_port,
                control_socket=str(self.spec.control_socket),
                restarts=self.restarts,
            )
            status = await self._wait_ready(proc)
            if status is not None:
                self._place(status)
                self.ready = True
                self._log.info("worker_ready", pid=proc.pid, uri=self.sip_uri)
                await self._on_up(self)
            code = await wait_exit(proc)
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(reader, CONTROL_TIMEOUT_S)
            uptime = loop.time() - started
            was_ready, self.ready = self.ready, False
            self.last_exit = describe_exit(code)
            if self._stopping.is_set():
                self._log.info("worker_stopped", pid=proc.pid, **self.last_exit)
                break
            self._log.error(
                "worker_exited",
                pid=proc.pid,
                uptime=round(uptime, 1),
                stderr_tail=list(relay.tail)[-8:],
                **self.last_exit,
            )
            await self._on_down(self)
            failures = 1 if was_ready and uptime >= STABLE_S else failures + 1
            await self._pause(failures)
        self._proc = None

    @property
    def sip_uri(self) -> str:
        """The dispatcher destination, e.g. ``sip:127.0.0.1:5071`` (once :attr:`placed`)."""
        return f"sip:{self.spec.dial_host}:{self.sip_port}"

    def _place(self, status: dict[str, Any]) -> None:
        """Learn the SIP port a worker asked for port 0 got, the first time it is ready."""
        if self.placed.is_set():
            return
        reported = status.get("sip_port")
        if isinstance(reported, int) and 0 < reported < 65536:
            self.sip_port = reported
            self.placed.set()
        else:
            self._log.error("worker_no_sip_port", status=status)

    async def _pause(self, failures: int) -> None:
        """Wait the backoff for the ``failures``-th failure in a row (or until stopped)."""
        delay = backoff_delay(failures, *self._backoff)
        self._log.info("worker_restart_scheduled", delay=delay, restarts=self.restarts + 1)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        if not self._stopping.is_set():
            self.restarts += 1

    async def _wait_ready(self, proc: asyncio.subprocess.Process) -> dict[str, Any] | None:
        """The worker's first ``/status``, or None if it died, hung or we were stopped."""
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        while proc.returncode is None and not self._stopping.is_set():
            with contextlib.suppress(ControlError, aiohttp.ClientError, TimeoutError):
                return await self.status()
            if asyncio.get_running_loop().time() > deadline:
                self._log.error("worker_not_ready", pid=proc.pid, timeout=READY_TIMEOUT_S)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                return None
            await asyncio.sleep(0.1)
        return None

    async def stop(self, timeout: float) -> None:
        """SIGTERM the worker (it hangs up its calls and exits); SIGKILL after ``timeout``."""
        self._stopping.set()
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await wait_exit(proc, timeout)
        except TimeoutError:
            self._log.warning("worker_kill", pid=proc.pid, after=timeout)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await wait_exit(proc)

    async def close(self) -> None:
        """Release the control connection (after :meth:`stop` and the end of :meth:`run`)."""
        await self._http.close()
        await self._sockets.close()

    # -- control API -------------------------------------------------------------------------

    async def call(
        self, method: str, path: str, payload: Any = None, timeout: float = CONTROL_TIMEOUT_S
    ) -> tuple[int, str, bytes]:
        """One control request: (status, Content-Type header, body).

        Raises aiohttp.ClientError or TimeoutError when the worker does not answer."""
        url = f"http://worker{self.index}{path}"  # the host only names the Host header
        async with self._http.request(
            method,
            url,
            json=payload,
            headers=self._headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.read()
            return response.status, response.headers.get("Content-Type", ""), body

    async def websocket(
        self,
        path: str,
        headers: Mapping[str, str],
        protocols: Sequence[str],
        max_msg_size: int,
        timeout: float = CONTROL_TIMEOUT_S,
    ) -> aiohttp.ClientWebSocketResponse:
        """A WebSocket to the control API at ``path``, with the worker's token.

        Raises aiohttp.WSServerHandshakeError when the worker refuses the upgrade (its status),
        aiohttp.ClientError or TimeoutError when it does not answer."""
        url = f"http://worker{self.index}{path}"
        return await asyncio.wait_for(
            self._sockets.ws_connect(
                url,
                headers={**headers, **self._headers},
                protocols=tuple(protocols),
                max_msg_size=max_msg_size,
            ),
            timeout,
        )

    async def call_json(self, method: str, path: str, payload: Any = None) -> Any:
        """A control request whose 2xx answer is JSON; other answers raise ControlError."""
        status, _, body = await self.call(method, path, payload)
        data = _json_or_text(body)
        if status >= 300:
            message = data.get("error") if isinstance(data, dict) else data
            raise ControlError(status, str(message))
        return data

    async def status(self) -> dict[str, Any]:
        result = await self.call_json("GET", "/status")
        if not isinstance(result, dict):
            raise ControlError(502, f"unexpected status answer: {result!r}")
        return result


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except json.JSONDecodeError:
        return body.decode("utf-8", "replace")


def worker_argv(
    scenario: str, sip_host: str, control_socket: Path, extra: Sequence[str]
) -> tuple[str, ...]:
    """The command line of one worker but its ``--sip-port``: ``voxpy run`` plus the internal
    control flag."""
    return (
        sys.executable,
        "-m",
        "voxpy",
        "run",
        scenario,
        "--sip-host",
        sip_host,
        "--control-socket",
        str(control_socket),
        "--log-format",
        "json",
        *extra,
    )
