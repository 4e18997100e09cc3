"""Run ``voxpy serve`` as a real process tree (supervisor, Kamailio, workers) for tests.

No port is chosen by bind-then-release here: the API and the workers bind port 0 and report
what they got, and Kamailio's port comes from the supervisor's ``serve_ready`` line (it picks
one and retries another if it was taken). Only ``outbound_via_front`` needs the front's port
before the start (the workers' outbound proxy), so that case alone picks one here. The JSON
log is parsed as it arrives. :meth:`close` kills
whatever is left by pid: the supervisor's process group, each worker it logged and Kamailio's
process group, so a failing test leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.logproc import JsonLogProcess
from voxpy.server.procs import free_port
from voxpy.server.rpc import KamailioRpc

TOKEN = "test-token"


class ServeProcess(JsonLogProcess):
    """``voxpy serve SCENARIO`` with ``workers`` workers; ``lines`` holds its JSON log."""

    name = "voxpy serve"

    def __init__(
        self,
        scenario: Path,
        *,
        workers: int = 2,
        env: dict[str, str] | None = None,
        outbound_via_front: bool = False,
    ):
        # Workers dial out through the front: its port must be in their environment up front.
        self.sip_port = free_port() if outbound_via_front else 0
        self.workers = workers
        argv = [
            sys.executable,
            "-m",
            "voxpy",
            "serve",
            str(scenario),
            "--workers",
            str(workers),
            "--sip-host",
            "127.0.0.1",
            "--sip-port",
            str(self.sip_port),
            "--http-port",
            "0",
            "--log-format",
            "json",
        ]
        env = {
            **os.environ,
            "VOXPY_SERVER__TOKEN": TOKEN,
            "VOXPY_SERVER__WORKER_PORT_BASE": "0",
            "VOXPY_SERVER__PROBE_INTERVAL": "1",
            "VOXPY_SERVER__RESTART_BACKOFF": "0.2",
            "VOXPY_SERVER__KAMAILIO_CHILDREN": "2",
            # Other suites on this machine use RTP from 10000: keep out of their way.
            "VOXPY_RTP__PORT": str(random.randrange(20000, 50000, 1000)),
            "VOXPY_RTP__PORT_RANGE": "200",
            **(env or {}),
        }
        if outbound_via_front:  # workers send their own INVITEs through Kamailio
            env["VOXPY_SIP__OUTBOUND_PROXY"] = f"sip:127.0.0.1:{self.sip_port};lr"
        super().__init__(argv, env)
        self.url = ""
        self._http: aiohttp.ClientSession | None = None

    @property
    def sip_uri(self) -> str:
        return f"sip:127.0.0.1:{self.sip_port}"

    def uri(self, user: str = "100") -> str:
        return f"sip:{user}@127.0.0.1:{self.sip_port}"

    async def start(self) -> ServeProcess:
        await self.spawn(start_new_session=True)
        self._http = aiohttp.ClientSession()
        # serve_ready now follows the workers' first start (their SIP ports go into Kamailio's
        # dispatcher list), so it comes later than before.
        ready = await self.wait_log(lambda line: line.get("event") == "serve_ready", timeout=40)
        self.url = str(ready["http"])
        self.sip_port = int(ready["sip_port"])
        await self.wait_healthy(self.workers)
        return self

    async def wait_healthy(self, workers: int, timeout: float = 20) -> dict[str, Any]:
        """Wait until /healthz reports ``workers`` workers up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        health: dict[str, Any] = {}
        while loop.time() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                _, health = await self.api("GET", "/healthz", token=None)
                if health.get("workers_up") == workers and health.get("kamailio"):
                    return health
            await asyncio.sleep(0.1)
        raise AssertionError(f"not healthy in {timeout}s: {health}; log tail:\n{self.tail()}")

    async def api(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: str | None = None,
        token: str | None = TOKEN,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """One API request: (status, parsed JSON or text or None)."""
        status, _, body = await self.api_raw(
            method, path, json_body=json_body, data=data, token=token, headers=headers
        )
        try:
            return status, json.loads(body) if body else None
        except json.JSONDecodeError:
            return status, body.decode()

    async def api_raw(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: str | None = None,
        token: str | None = TOKEN,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, bytes]:
        assert self._http is not None
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        async with self._http.request(
            method,
            self.url + path,
            json=json_body,
            data=data,
            headers=sent,
            timeout=aiohttp.ClientTimeout(total=15),
        ) as response:
            return response.status, response.headers.get("Content-Type", ""), await response.read()

    async def workers_info(self) -> list[dict[str, Any]]:
        status, body = await self.api("GET", "/workers")
        assert status == 200, body
        return list(body["workers"])

    async def metrics(self) -> str:
        status, body = await self.api("GET", "/metrics")
        assert status == 200, body
        return str(body)

    def rpc(self) -> KamailioRpc:
        """A JSON-RPC client for this server's Kamailio (dispatcher state and loads)."""
        run_dir = Path(str(self.find_all("serve_ready")[0]["run_dir"]))
        return KamailioRpc(run_dir / "kamailio_rpc.sock", run_dir)

    async def close(self) -> None:
        """Kill everything this server started, by pid, even if the test failed half-way."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            await self.proc.wait()
        for line in self.find_all("worker_started"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line["pid"]), signal.SIGKILL)
        for line in self.find_all("zygote_started"):  # its own group; its workers die with it
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line["pid"]), signal.SIGKILL)
        for line in self.find_all("kamailio_started"):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(line["pid"]), signal.SIGKILL)
        if self._reader is not None:
            self._reader.cancel()
        if self._http is not None:
            await self._http.close()
        for line in self.find_all("serve_ready"):  # a killed supervisor leaves its run dir
            shutil.rmtree(str(line["run_dir"]), ignore_errors=True)
