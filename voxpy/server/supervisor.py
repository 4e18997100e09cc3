"""The supervisor of ``voxpy serve``: Kamailio, N workers, the HTTP API, and the drain.

Start: start the workers and wait until each reported the SIP port it bound (the OS picks
it when ``worker_port_base`` is 0: no port is chosen by bind-then-release for them), render
and check the Kamailio config with those ports, start Kamailio (every worker listed inactive),
mark the workers that answer their control API active, start the API. A worker that comes up
later is marked active when its control API answers. A worker that dies is marked inactive
at once (no waiting for the OPTIONS probes) and restarted with backoff; the restart re-joins
the dispatcher under a new duid, so the calls Kamailio still counted for the dead one are
forgotten. A Kamailio that dies is restarted the same way.

SIGTERM (or SIGINT) drains: every worker is disabled in the dispatcher (so Kamailio answers
new INVITEs with 503 once all are), told to refuse new INVITEs and sessions, and given
``server.drain_timeout`` seconds for its live calls to end; then the workers get SIGTERM (they
hang up what is left and exit 0), then Kamailio; the supervisor exits 0. A second signal cuts
the wait short.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

from voxpy.backends.pjsua2.clockthread import clock_refusal
from voxpy.config import Settings
from voxpy.errors import ConfigError
from voxpy.log import get_logger
from voxpy.server.api import PublicApi
from voxpy.server.conferences import SOCKET_ENV as CONFERENCES_SOCKET_ENV
from voxpy.server.conferences import WORKER_ENV as WORKER_ID_ENV
from voxpy.server.conferences import ConferenceService
from voxpy.server.control import SUPERVISOR_PID_ENV, TOKEN_ENV
from voxpy.server.hostagent import join_front
from voxpy.server.kamailio import (
    Destination,
    Kamailio,
    check_socket_dir,
    dispatcher_attrs,
    duid,
    keep_running,
    which,
)
from voxpy.server.kamailio import start as start_front
from voxpy.server.metrics import WorkerSample, exposition
from voxpy.server.pool import Pool, WorkersNotPlaced, plan_ports, resolve_workers, wait_placed
from voxpy.server.rpc import RpcError
from voxpy.server.spawn import ExecLauncher, Launcher, launcher, start_slots
from voxpy.server.workers import CONTROL_ERRORS, ControlError, Worker, WorkerSpec, worker_argv

DRAIN_POLL_S = 0.25
DRAIN_REPORT_S = 5.0
INSTALL_HINT = "apt-get install kamailio"
PLACE_TIMEOUT_S = 60.0
"""Start-up fails when no worker came up for this long (each try has READY_TIMEOUT_S); a big
pool that keeps coming up takes as long as it needs."""


def kamailio_missing(binary: str) -> str | None:
    """The one-line complaint when ``binary`` is not installed, else None."""
    if which(binary) is not None:
        return None
    return f"{binary} is not installed (voxpy serve needs it); install it with: {INSTALL_HINT}"


class Supervisor:
    """Runs one ``voxpy serve``; :meth:`run` returns the exit status."""

    def __init__(
        self, settings: Settings, scenario: Path, *, config_file: str | None = None
    ) -> None:
        self.settings = settings
        self.scenario = scenario.resolve()
        self.scenario_name = scenario.stem
        self.config_file = config_file
        self.draining = False
        self._log = get_logger("voxpy.supervisor")
        self._token = secrets.token_urlsafe(24)
        self._stop = asyncio.Event()
        self._hurry = asyncio.Event()
        # May raise ConfigError (too many workers for the ports or descriptors): before the
        # temp dir exists.
        self.workers, self._sizing = resolve_workers(settings)
        self.ports = plan_ports(settings, self.workers)
        self._own_run_dir = not settings.server.run_dir
        self.run_dir = Path(
            settings.server.run_dir or tempfile.mkdtemp(prefix="voxpy-serve-", dir="/tmp")
        )
        self.kamailio: Kamailio | None = None
        self.pool: Pool | None = None
        self.launcher: Launcher = ExecLauncher()
        recordings = Path(settings.media.recordings_dir).expanduser().resolve()
        self.api = PublicApi(self, settings.server, recordings_dir=recordings)
        self.conferences = ConferenceService(self._token, self._worker_sip_uri, self._log)
        "Where each named conference's pieces run (workers ask over a unix socket)."
        self._tasks: list[asyncio.Task[None]] = []
        self._duids: dict[int, str] = {}
        "The duid Kamailio knows each worker by, when not the initial ``w<index>``."
        self._dispatcher_lock = asyncio.Lock()

    # -- running -----------------------------------------------------------------------------

    async def run(self) -> int:
        """Serve until SIGTERM/SIGINT, then drain; raises KamailioError/ConfigError at start."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)
        server = self.settings.server
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            check_socket_dir(self.run_dir)  # before any worker binds its control socket there
            await self.conferences.start(self.run_dir / "conferences.sock")
            self._log.info("workers_sized", workers=self.workers, spawn=server.spawn,
                           **self._sizing)  # fmt: skip
            self.launcher = launcher(server.spawn, self.run_dir / "zygote.sock")
            starts = asyncio.Semaphore(start_slots())
            self.pool = Pool(
                [
                    Worker(
                        spec,
                        self._token,
                        backoff=(server.restart_backoff, server.restart_backoff_max),
                        on_up=self._worker_up,
                        on_down=self._worker_down,
                        launcher=self.launcher,
                        starts=starts,
                    )
                    for spec in self._specs()
                ]
            )
            self._tasks = [asyncio.create_task(w.run()) for w in self.pool.workers]
            if not await wait_placed(self.pool.workers, self._stop, PLACE_TIMEOUT_S):
                return 0  # a signal during start: nothing to drain
            if server.role == "workers":  # no Kamailio here: the host agent joins the front
                self._tasks.append(await join_front(self, self.settings))
            else:
                destinations = [
                    Destination(w.sip_uri, f"w{w.index}", w.sip_port) for w in self.pool.workers
                ]
                self.kamailio, sip_port = await start_front(
                    self.settings, self.run_dir, self.ports.sip, destinations
                )
                self.ports = dataclasses.replace(self.ports, sip=sip_port)
                for worker in self.pool.workers:  # those that came up before Kamailio ran
                    if worker.ready:
                        await self._worker_up(worker)
                await self.api.start()
                self._tasks.append(asyncio.create_task(self._watch_kamailio()))
            self._log.info(
                "serve_ready",
                scenario=str(self.scenario),
                sip_port=self.ports.sip,
                sip_host=self.settings.sip.host,
                http=self.api.url,
                workers=len(self.pool.workers),
                run_dir=str(self.run_dir),
            )
            await self._stop.wait()
            await self._drain()
        finally:
            await self._shutdown()
        self._log.info("serve_stopped")
        return 0

    def _specs(self) -> list[WorkerSpec]:
        server, settings = self.settings.server, self.settings
        extra = ["--log-level", settings.log.level]
        if self.config_file:
            extra += ["--config", str(Path(self.config_file).resolve())]
        if settings.sip.public_address:
            extra += ["--public-address", settings.sip.public_address]
        if settings.journal.dir:  # absolute: a worker's cwd need not be ours
            extra += ["--journal-dir", str(Path(settings.journal.dir).resolve())]
        if settings.scenario.reload:
            extra += ["--reload"]
        dial_host = "127.0.0.1" if server.worker_host == "0.0.0.0" else server.worker_host
        if refused := clock_refusal(settings.media.clock_priority):
            self._log.warning("clock_priority_refused", workers="normal scheduling", **refused)
        clock_env = {"VOXPY_MEDIA__CLOCK_PRIORITY": "0"} if refused else {}
        specs = []
        for i, (sip_port, rtp_port, rtp_range) in enumerate(self.ports.workers):
            env = {
                **os.environ,
                TOKEN_ENV: self._token,
                SUPERVISOR_PID_ENV: str(os.getpid()),
                CONFERENCES_SOCKET_ENV: str(self.run_dir / "conferences.sock"),
                WORKER_ID_ENV: f"w{i}",
                "VOXPY_RTP__PORT": str(rtp_port),
                "VOXPY_RTP__PORT_RANGE": str(rtp_range),
                **clock_env,
            }
            control = self.run_dir / f"worker{i}.sock"
            argv = worker_argv(str(self.scenario), server.worker_host, control, extra)
            specs.append(
                WorkerSpec(
                    index=i,
                    sip_port=sip_port,
                    control_socket=control,
                    argv=argv,
                    env=env,
                    dial_host=dial_host,
                )
            )
        return specs

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self._stop.is_set():
            self._log.warning("signal_again_hurrying", signal=name)
            self._hurry.set()
            return
        self._log.info("signal_received", signal=name)
        self._stop.set()

    # -- Kamailio steering -------------------------------------------------------------------

    async def _set_state(self, worker: Worker, state: str) -> None:
        if self.kamailio is None or not self.kamailio.running:
            return
        try:
            await self.kamailio.rpc.set_state(state, worker.sip_uri)
        except RpcError as exc:
            self._log.warning(
                "dispatcher_state_failed", worker=worker.index, state=state, error=str(exc)
            )

    async def _renew_destination(self, worker: Worker) -> None:
        """A restarted worker becomes a new dispatcher destination (duid ``w<i>.<restarts>``)
        with no call load: Kamailio still counts the calls its dead predecessor held."""
        wanted = duid(worker.index, worker.restarts)
        if self._duids.get(worker.index, duid(worker.index, 0)) == wanted:
            return
        if self.kamailio is None or not self.kamailio.running:
            return
        uri, attrs = worker.sip_uri, dispatcher_attrs(wanted, self.settings.sip.max_calls)
        async with self._dispatcher_lock:
            try:
                await self.kamailio.rpc.replace_destination(uri, uri, attrs)
            except RpcError as exc:
                self._log.warning("dispatcher_renew_failed", worker=worker.index, error=str(exc))
                return
        self._duids[worker.index] = wanted
        self._log.info("dispatcher_renewed", worker=worker.index, duid=wanted)

    async def _worker_up(self, worker: Worker) -> None:
        await self._renew_destination(worker)
        if self.draining:
            await self._drain_worker(worker)
        else:
            await self._set_state(worker, "ap")

    async def _worker_down(self, worker: Worker) -> None:
        # Probes would notice in ds_probing_threshold * probe_interval seconds; until then new
        # calls would wait fr_timer for a dead worker before failing over.
        touched = self.conferences.worker_gone(f"w{worker.index}")  # before anything awaits
        if touched:  # in the background: the dead worker's restart must not wait for it
            task = asyncio.create_task(self._refresh_conferences(touched, f"w{worker.index}"))
            self._tasks.append(task)
        await self._set_state(worker, "ip")

    async def _refresh_conferences(self, touched: dict[str, list[str]], gone: str) -> None:
        """Tell each worker with a piece of a conference the dead one was in: its link to the
        dead worker will not end by itself (no BYE comes; RTP silence takes a minute)."""
        workers = self.pool.workers if self.pool else []

        async def tell(name: str, holder: str) -> None:
            try:
                await workers[int(holder[1:])].call_json(
                    "POST", f"/conferences/{name}/refresh", {"gone": gone}
                )
            except (*CONTROL_ERRORS, ControlError) as exc:
                self._log.warning("conference_refresh_failed", conference=name, worker=holder,
                                  error=str(exc))  # fmt: skip

        await asyncio.gather(*(tell(n, h) for n, holders in touched.items() for h in holders))

    def conference_pieces(self) -> dict[str, dict[str, str | None]]:
        directory = self.conferences.directory
        return {name: directory.pieces(name) for name in directory.names()}

    def _worker_sip_uri(self, worker_id: str) -> str | None:
        """``w<index>`` -> the SIP URI its conference links dial (None: not up)."""
        index = worker_id[1:]
        workers = self.pool.workers if self.pool else []
        if worker_id[:1] != "w" or not index.isdigit() or int(index) >= len(workers):
            return None
        worker = workers[int(index)]
        return worker.sip_uri if worker.ready else None

    async def _watch_kamailio(self) -> None:
        if self.kamailio is not None:
            await keep_running(
                self.kamailio, self.settings, self._stop, self._kamailio_restarted, self._log
            )

    async def _kamailio_restarted(self) -> None:
        self._duids.clear()  # a new Kamailio read the list file: w<index>, no load
        for worker in self.pool.workers if self.pool else []:
            if worker.ready:
                await self._worker_up(worker)

    # -- drain and stop ----------------------------------------------------------------------

    async def _drain_worker(self, worker: Worker) -> None:
        worker.draining = True
        await self._set_state(worker, "d")
        if worker.ready:
            with contextlib.suppress(*CONTROL_ERRORS):
                await worker.call_json("POST", "/drain")

    async def _drain(self) -> None:
        self.draining = True
        assert self.pool is not None
        timeout = self.settings.server.drain_timeout
        self._log.info("drain_started", timeout=timeout)
        await asyncio.gather(*(self._drain_worker(w) for w in self.pool.workers))
        loop = asyncio.get_running_loop()
        deadline, report = loop.time() + timeout, loop.time() + DRAIN_REPORT_S
        while True:
            live = await self.pool.live_calls()
            if live == 0:
                self._log.info("drain_done")
                return
            if loop.time() >= deadline or self._hurry.is_set():
                self._log.warning("drain_timeout", live_calls=live)
                return
            if loop.time() >= report:
                self._log.info("draining", live_calls=live)
                report = loop.time() + DRAIN_REPORT_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hurry.wait(), DRAIN_POLL_S)

    async def _shutdown(self) -> None:
        self._stop.set()
        if self.pool is not None:
            wait = self.settings.timeouts.shutdown + 5
            await asyncio.gather(*(w.stop(wait) for w in self.pool.workers))
        await self.launcher.close()
        if self.kamailio is not None:
            await self.kamailio.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.api.stop()
        await self.conferences.stop()
        for worker in self.pool.workers if self.pool else []:
            await worker.close()
        if self._own_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    # -- what the API asks -------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``/healthz``: ok when Kamailio runs and at least one worker answers."""
        workers = self.pool.workers if self.pool else []
        up = sum(1 for w in workers if w.ready)
        kamailio = self.kamailio is not None and self.kamailio.running
        return {
            "ok": (kamailio or self.settings.server.role == "workers") and up > 0,
            "kamailio": kamailio,
            "workers_up": up,
            "workers": len(workers),
            "draining": self.draining,
        }

    async def metrics(self) -> str:
        """Prometheus text from every worker's counters."""
        workers = self.pool.workers if self.pool else []
        statuses = await asyncio.gather(*(_status_or_none(w) for w in workers))
        samples = [
            WorkerSample(w.index, st is not None, w.restarts, st)
            for w, st in zip(workers, statuses, strict=True)
        ]
        return exposition(samples, self.health()["kamailio"])


async def _status_or_none(worker: Worker) -> dict[str, Any] | None:
    if not worker.ready:
        return None
    try:
        return await worker.status()
    except CONTROL_ERRORS:
        return None  # a worker that does not answer is reported as down, not as a failed scrape


__all__ = ["ConfigError", "Supervisor", "WorkersNotPlaced", "kamailio_missing"]
