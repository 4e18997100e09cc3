"""Worker slots: each keeps one ``voxpy run --control-socket`` process alive.

A slot starts its worker through a launcher (forked by the zygote, or exec'd:
:mod:`voxpy.server.spawn`), waits for the line the worker writes on its ready pipe once its
control API (a unix socket in the run directory) listens, asks ``/status`` once, then waits
for the process to end; nothing polls. At most ``starts`` workers start at once. A worker
asked for SIP port 0 binds one the OS picks and reports it in ``/status``; the slot keeps
that port for later starts, because Kamailio's dispatcher list names it (see
:attr:`Worker.placed`). An exit it did not ask for is logged with the exit code or signal
and the last stderr lines, and the worker is started again after a backoff that doubles
with each crash in a row (:func:`~voxpy.server.procs.backoff_delay`) and resets once a
worker stayed up for :data:`STABLE_S`. ``on_up``/``on_down`` let the supervisor steer
Kamailio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from voxpy.log import get_logger
from voxpy.server.procs import LineRelay, backoff_delay, describe_exit
from voxpy.server.spawn import Child, Launcher

READY_TIMEOUT_S = 30.0
"""From the start of one worker (it holds a start slot) to its ready line; starts beyond the
slots wait their turn without this clock running, so a slow but progressing pool never fails."""
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
        launcher: Launcher,
        starts: asyncio.Semaphore,
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
        self._launcher, self._starts = launcher, starts
        self._child: Child | None = None
        self._ready_fd = -1
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
            async with self._starts:  # bounded: 100 at once on 2 cores is slower than in turn
                child = await self._spawn()
                if child is not None:
                    reader = asyncio.create_task(relay.run(child.stderr))
                    status = await self._wait_ready(child)
            if child is None:
                failures += 1
                await self._pause(failures)
                continue
            if status is not None:
                self._place(status)
                self.ready = True
                self._log.info("worker_ready", pid=child.pid, uri=self.sip_uri,
                               forked=self._launcher.forked)  # fmt: skip
                await self._on_up(self)
            code = await child.wait()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(reader, CONTROL_TIMEOUT_S)
            child.close()
            uptime = loop.time() - started
            was_ready, self.ready = self.ready, False
            self.last_exit = describe_exit(code)
            if self._stopping.is_set():
                self._log.info("worker_stopped", pid=child.pid, **self.last_exit)
                break
            self._log.error(
                "worker_exited",
                pid=child.pid,
                uptime=round(uptime, 1),
                stderr_tail=list(relay.tail)[-8:],
                **self.last_exit,
            )
            await self._on_down(self)
            failures = 1 if was_ready and uptime >= STABLE_S else failures + 1
            await self._pause(failures)
        self._child = None

    async def _spawn(self) -> Child | None:
        """Start one worker process with a fresh ready pipe; None if the system refused."""
        if self._stopping.is_set():
            return None
        ready_r, ready_w = os.pipe()
        try:
            child = await self._launcher.start_child(
                (*self.spec.argv, "--sip-port", str(self.sip_port)), self.spec.env, ready_w
            )
        except OSError as exc:  # out of processes or file descriptors: try again later
            os.close(ready_r)
            self._log.error("worker_spawn_failed", error=str(exc))
            return None
        finally:
            os.close(ready_w)  # the child has its copy: EOF once it is gone
        self._child, self.pid, self._ready_fd = child, child.pid, ready_r
        self._log.info(
            "worker_started",
            pid=child.pid,
            sip_port=self.sip_port,
            control_socket=str(self.spec.control_socket),
            restarts=self.restarts,
        )
        return child

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

    async def _wait_ready(self, child: Child) -> dict[str, Any] | None:
        """The worker's first ``/status`` once it wrote its ready line, or None if it died,
        hung or we were stopped. Nothing polls: the ready pipe's line (or EOF) wakes us."""
        loop = asyncio.get_running_loop()
        line: asyncio.Future[bytes] = loop.create_future()
        fd = self._ready_fd

        def readable() -> None:
            if not line.done():
                try:
                    line.set_result(os.read(fd, 64))
                except OSError:
                    line.set_result(b"")

        loop.add_reader(fd, readable)
        stopping: asyncio.Future[Any] = asyncio.ensure_future(self._stopping.wait())
        waits: list[asyncio.Future[Any]] = [line, stopping]
        try:
            done, _ = await asyncio.wait(
                waits, timeout=READY_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            loop.remove_reader(fd)
            os.close(fd)
            stopping.cancel()
        if not done:
            self._log.error("worker_not_ready", pid=child.pid, timeout=READY_TIMEOUT_S)
            child.send_signal(signal.SIGKILL)
            return None
        if line not in done or not line.result():
            return None  # stopped, or it died before it was ready (its exit is logged)
        try:
            return await self.status()
        except CONTROL_ERRORS as exc:
            self._log.error("worker_status_failed", pid=child.pid, error=str(exc))
            child.send_signal(signal.SIGKILL)
            return None

    async def stop(self, timeout: float) -> None:
        """SIGTERM the worker (it hangs up its calls and exits); SIGKILL after ``timeout``."""
        self._stopping.set()
        child = self._child
        if child is None or child.returncode is not None:
            return
        child.send_signal(signal.SIGTERM)
        try:
            await child.wait(timeout)
        except TimeoutError:
            self._log.warning("worker_kill", pid=child.pid, after=timeout)
            child.send_signal(signal.SIGKILL)
            await child.wait()

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
