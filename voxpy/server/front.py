"""``voxpy serve --role front``: Kamailio, the public API and the registry of worker hosts.

No worker runs here. Kamailio starts with an empty dispatcher list; worker hosts join by
reporting themselves to the API every second (voxpy.server.hostagent), and the front keeps the
list equal to what the live hosts report through Kamailio's RPC (``dispatcher.add``,
``dispatcher.remove``, ``dispatcher.set_state``: verified on Kamailio 5.6.3, an empty list
included). A host that stops reporting is dropped after voxpy.core.hostreg.EXPIRY_S (3 s) and
its workers leave the list at once: new INVITEs go to the other hosts, the calls they run go
on, and only the dead host's own calls are lost. Kamailio's OPTIONS probes stay on as well.

SIGTERM stops the front (API, then Kamailio): the worker hosts drain themselves on their own
SIGTERM; a front restart is re-joined by every host within one heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from voxpy.config import Settings
from voxpy.core.hostreg import Destination, HostRegistry, Step, plan
from voxpy.errors import ConfigError
from voxpy.log import get_logger
from voxpy.server.frontapi import FrontApi
from voxpy.server.kamailio import (
    Kamailio,
    check_socket_dir,
    dispatcher_attrs,
    free_sip_port,
    keep_running,
)
from voxpy.server.kamailio import start as start_kamailio
from voxpy.server.rpc import RpcError

CHECK_S = 0.5
"Longest wait between two looks at the registry (an expiry is seen this late at most)."


def check_front(settings: Settings) -> None:
    """Raise ConfigError unless these settings can run a front."""
    if not settings.server.token:
        raise ConfigError(
            "a front needs server.token: worker hosts join with it", field="server.token"
        )


class Front:
    """Runs one front; :meth:`run` returns the exit status."""

    def __init__(self, settings: Settings) -> None:
        check_front(settings)
        self.settings = settings
        self.registry = HostRegistry()
        self.kamailio: Kamailio | None = None
        self.api = FrontApi(self, settings.server)
        self._log = get_logger("voxpy.front")
        self._stop = asyncio.Event()
        self._changed = asyncio.Event()
        self.hosts_lost = 0
        self._told: dict[str, Destination] = {}
        "The dispatcher list as Kamailio was told it (by URI)."
        self._own_run_dir = not settings.server.run_dir
        self.run_dir = Path(
            settings.server.run_dir or tempfile.mkdtemp(prefix="voxpy-front-", dir="/tmp")
        )

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def hosts_changed(self) -> None:
        self._changed.set()

    def health(self) -> dict[str, Any]:
        """``/healthz``: ok when Kamailio runs and at least one worker host is joined."""
        hosts = self.registry.hosts()
        kamailio = self.kamailio is not None and self.kamailio.running
        return {
            "ok": kamailio and bool(hosts),
            "role": "front",
            "kamailio": kamailio,
            "hosts": len(hosts),
            "workers_up": sum(1 for h in hosts for w in h.workers if w.ready),
            "free": sum(h.free for h in hosts),
        }

    def metrics(self) -> str:
        """Prometheus text about the front itself (each host's API has its workers')."""
        hosts = self.registry.hosts()
        kamailio = int(self.kamailio is not None and self.kamailio.running)
        lines = [
            "# HELP voxpy_front_kamailio_up Whether the front's Kamailio runs.",
            "# TYPE voxpy_front_kamailio_up gauge",
            f"voxpy_front_kamailio_up {kamailio}",
            "# HELP voxpy_front_hosts Worker hosts joined.",
            "# TYPE voxpy_front_hosts gauge",
            f"voxpy_front_hosts {len(hosts)}",
            "# HELP voxpy_front_hosts_lost_total Hosts dropped after their reports stopped.",
            "# TYPE voxpy_front_hosts_lost_total counter",
            f"voxpy_front_hosts_lost_total {self.hosts_lost}",
            "# HELP voxpy_front_host_free_slots Free call slots of a host (its last report).",
            "# TYPE voxpy_front_host_free_slots gauge",
            *(f'voxpy_front_host_free_slots{{host="{h.host}"}} {h.free}' for h in hosts),
            "# HELP voxpy_front_host_workers_ready Ready workers of a host (its last report).",
            "# TYPE voxpy_front_host_workers_ready gauge",
            *(
                f'voxpy_front_host_workers_ready{{host="{h.host}"}} '
                f"{sum(1 for w in h.workers if w.ready)}"
                for h in hosts
            ),
        ]
        return "\n".join(lines) + "\n"

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop.set)
        tasks: list[asyncio.Task[None]] = []
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            check_socket_dir(self.run_dir)
            port = self.settings.sip.port or free_sip_port(self.settings)
            self.kamailio, port = await start_kamailio(self.settings, self.run_dir, port, [])
            await self.api.start()
            tasks = [asyncio.create_task(self._steer()), asyncio.create_task(self._watch())]
            self._log.info("serve_ready", role="front", sip_port=port,
                           sip_host=self.settings.sip.host, http=self.api.url,
                           run_dir=str(self.run_dir))  # fmt: skip
            await self._stop.wait()
        finally:
            self._stop.set()
            await self.api.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.kamailio is not None:
                await self.kamailio.stop()
            if self._own_run_dir:
                shutil.rmtree(self.run_dir, ignore_errors=True)
        self._log.info("serve_stopped")
        return 0

    async def _steer(self) -> None:
        """Expire silent hosts and bring Kamailio's list in line with the live ones."""
        while not self._stop.is_set():
            self._changed.clear()
            for host in self.registry.expire(self.now()):
                self.hosts_lost += 1
                self._log.warning("host_lost", host=host, silent_for=self.registry.expiry)
            await self._sync()
            wake = self.registry.next_expiry()
            wait = CHECK_S if wake is None else min(CHECK_S, max(0.0, wake - self.now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait)

    async def _sync(self) -> None:
        if self.kamailio is None or not self.kamailio.running:
            return
        for step in plan(self._told, self.registry.wanted()):
            try:
                await self._apply(step)
            except RpcError as exc:  # tried again on the next change or check
                self._log.warning("dispatcher_step_failed", op=step.op,
                                  uri=step.destination.uri, error=str(exc))  # fmt: skip
                return

    async def _apply(self, step: Step) -> None:
        assert self.kamailio is not None
        rpc, dest = self.kamailio.rpc, step.destination
        attrs = dispatcher_attrs(dest.duid, dest.max_calls or self.settings.sip.max_calls)
        if step.op == "remove":
            await rpc.remove_destination(dest.uri)
            self._told.pop(dest.uri, None)
        elif step.op == "add":
            await rpc.add_destination(dest.uri, attrs)
        elif step.op == "renew":
            self._told.pop(dest.uri, None)  # if the add fails, the next sync adds it
            await rpc.replace_destination(dest.uri, dest.uri, attrs)
        if step.op in ("add", "renew"):
            self._told[dest.uri] = replace(dest, state="ap")  # how dispatcher.add leaves it
        if step.op != "remove" and dest.state != self._told[dest.uri].state:
            await rpc.set_state(dest.state, dest.uri)
        if step.op != "remove":
            self._told[dest.uri] = dest
        self._log.info("dispatcher_" + step.op, uri=dest.uri, duid=dest.duid, state=dest.state)

    async def _watch(self) -> None:
        """Restart Kamailio when it dies; the new one starts empty and is told every host."""
        if self.kamailio is not None:
            await keep_running(self.kamailio, self.settings, self._stop, self._restarted, self._log)

    async def _restarted(self) -> None:
        self._told.clear()
        self._changed.set()
