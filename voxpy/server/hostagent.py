"""``voxpy serve --role workers``: a worker host's agent, which joins the host to its front.

The host runs today's pool and management API (voxpy.server.supervisor) but no Kamailio. Every
HEARTBEAT_S the agent reports to the front's API (``POST /hosts``, bearer = server.token): the
host id, the API address the front passes sessions to, each worker's SIP URI, dispatcher id
and state, the free call slots and sip.max_calls (each worker's dispatcher maxload). The front
keeps its Kamailio list in line with these reports and drops a host that stops sending them
(voxpy.core.hostreg). On its way out the agent says goodbye (``DELETE /hosts/{id}``) so the
front forgets the host at once.

A worker's dispatcher id is ``<host>-w<index>`` and gains ``.<restarts>`` when it restarts:
the front then renews the destination, and the calls Kamailio counted for the dead worker are
forgotten, as on a single host (voxpy.server.kamailio.duid).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any, Protocol

import aiohttp

from voxpy.config import Settings
from voxpy.core.hostreg import HEARTBEAT_S, HOST_ID
from voxpy.errors import ConfigError
from voxpy.log import get_logger
from voxpy.server.api import PublicApi
from voxpy.server.kamailio import duid
from voxpy.server.pool import Pool
from voxpy.server.workers import CONTROL_ERRORS

_UNSPECIFIED = frozenset({"0.0.0.0", "::", "127.0.0.1", "localhost", "::1"})
_FRONT = re.compile(r"^[A-Za-z0-9.-]{1,253}:\d{1,5}$")
GOODBYE_TIMEOUT_S = 2.0
STATUS_BOUND_S = HEARTBEAT_S / 2
"How long a heartbeat waits for a worker's status (then it counts no free slot)."


def check_workers_role(settings: Settings) -> None:
    """Raise ConfigError unless these settings can run a worker host."""
    server = settings.server
    if not server.front or not _FRONT.fullmatch(server.front):
        raise ConfigError(
            "a worker host needs its front's API as HOST:PORT (--front)", field="server.front"
        )
    if not server.token:
        raise ConfigError("a worker host joins its front with server.token", field="server.token")
    if server.worker_host in _UNSPECIFIED:
        raise ConfigError(
            "a worker host's workers must listen on an address the front reaches "
            f"(--worker-host), not {server.worker_host}",
            field="server.worker_host",
        )


def host_id(settings: Settings) -> str:
    """server.host_id, else the workers' address with its dots as dashes."""
    chosen = settings.server.host_id or re.sub(r"[^A-Za-z0-9_-]", "-", settings.server.worker_host)
    return chosen if HOST_ID.fullmatch(chosen) else chosen[:32]


class AgentHost(Protocol):
    """What the agent reads from the supervisor."""

    @property
    def api(self) -> PublicApi: ...
    @property
    def pool(self) -> Pool | None: ...
    @property
    def draining(self) -> bool: ...


async def join_front(host: AgentHost, settings: Settings) -> asyncio.Task[None]:
    """Start the host's API and the agent that reports the host to its front (the worker
    host's counterpart of starting Kamailio); the agent runs until its task is cancelled."""
    await host.api.start()
    return asyncio.create_task(HostAgent(host, settings, host.api.port).run())


class HostAgent:
    """Reports a worker host to its front until cancelled."""

    def __init__(self, host: AgentHost, settings: Settings, api_port: int) -> None:
        server = settings.server
        self._host = host
        self.id = host_id(settings)
        self.front = f"http://{server.front}"
        self.api = f"http://{server.worker_host}:{api_port}"
        self._headers = {"Authorization": f"Bearer {server.token}"}
        self._max_calls = settings.sip.max_calls
        self._log = get_logger("voxpy.hostagent")
        self.joined = False
        self._problem: str | None = None

    async def report(self) -> dict[str, Any]:
        """This host as the front's ``POST /hosts`` wants it.

        Readiness is the supervisor's own; the free slots ask each ready worker, but a worker
        that does not answer within STATUS_BOUND_S counts none: one hung worker must not hold
        the heartbeat back past the front's expiry (the whole host would be dropped)."""
        pool = self._host.pool
        workers = pool.workers if pool else []
        free = await pool.free_slots(STATUS_BOUND_S) if pool else 0
        listed = [
            {
                "uri": w.sip_uri,
                "duid": duid(w.index, w.restarts, prefix=f"{self.id}-"),
                "ready": w.ready,
                "draining": w.draining,
            }
            for w in workers
        ]
        return {
            "host": self.id,
            "api": self.api,
            "workers": listed,
            "free": free,
            "max_calls": self._max_calls,
            "draining": self._host.draining,
        }

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=HEARTBEAT_S * 2)
        async with aiohttp.ClientSession(timeout=timeout, headers=self._headers) as http:
            try:
                while True:
                    await self._beat(http)
                    await asyncio.sleep(HEARTBEAT_S)
            finally:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    await asyncio.shield(self._goodbye(http))

    async def _beat(self, http: aiohttp.ClientSession) -> None:
        try:
            body = await self.report()
            async with http.post(f"{self.front}/hosts", json=body) as response:
                if response.status != 200:  # refused (a token or host id problem): say why
                    raise aiohttp.ClientResponseError(
                        response.request_info, (), status=response.status,
                        message=(await response.text())[:200],
                    )  # fmt: skip
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError, *CONTROL_ERRORS) as exc:
            problem = str(exc) or repr(exc)
            if problem != self._problem:  # once per new problem, not every second
                self._log.warning("front_not_reached", front=self.front, error=problem)
            self._problem, self.joined = problem, False
            return
        if not self.joined:
            self._log.info("host_joined_front", front=self.front, host=self.id, api=self.api)
        self._problem, self.joined = None, True

    async def _goodbye(self, http: aiohttp.ClientSession) -> None:
        url = f"{self.front}/hosts/{self.id}"
        async with http.delete(url, timeout=aiohttp.ClientTimeout(total=GOODBYE_TIMEOUT_S)):
            pass
