"""The ``voxpy`` command: the composition root (settings -> logging -> backend -> engine).

``voxpy run SCENARIO`` serves inbound calls until SIGINT/SIGTERM; ``voxpy call SCENARIO`` runs
one session without an inbound call and exits when it terminates; ``voxpy serve SCENARIO`` runs
a pool of ``voxpy run`` workers behind Kamailio with an HTTP management API (voxpy.server).
Bad configuration or a broken scenario is reported in one line on stderr with exit status 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from structlog.typing import FilteringBoundLogger

from voxpy.cli.common import EXIT_USAGE, load_scenario
from voxpy.cli.common import fail as _fail
from voxpy.cli.parser import build_parser, overrides
from voxpy.config import Settings, load_settings
from voxpy.core.events import AppEvents
from voxpy.errors import BackendError, ConfigError, ScenarioError
from voxpy.log import configure_logging, get_logger, renders_console
from voxpy.runtime.engine import Engine
from voxpy.runtime.journal import Journals
from voxpy.runtime.scenario import Scenario

EXIT_BACKEND = 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "recordings":
        return _repair(Path(args.directory), args.older_than)
    standalone = {"serve": _serve_pool, "dial": _dial, "flow": _flow}  # their own settings
    if args.command in standalone:
        return standalone[args.command](args)
    try:
        settings = load_settings(args.config, overrides=overrides(args))
        configure_logging(settings.log.level, settings.log.format)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    log = get_logger("voxpy")
    scenario = load_scenario(args.scenario, log, settings.scenario.custom_data)
    if isinstance(scenario, int):
        return scenario
    try:
        control = getattr(args, "control_socket", None)  # `voxpy run` only
        reload = settings.scenario.reload and args.command == "run"
        status = asyncio.run(_serve(args.command, scenario, settings, log, control, reload))
    except BackendError as exc:
        log.error("backend_failed", error=str(exc))
        return _fail(f"cannot start: {exc}", EXIT_BACKEND)
    if args.command == "run":
        _exit_now(status)
    return status


def _exit_now(status: int) -> NoReturn:
    """Exit without the interpreter's teardown once the engine has stopped.

    By then every call is hung up, the endpoint destroyed (libDestroy) and recordings closed;
    what is left is freeing the heap object by object and joining nothing. That teardown was
    0.15 s of the 0.25 s of CPU a stopping worker spends: 40 workers given SIGTERM at once on
    2 cores took 8 s to exit, each waiting for the others' CPU (bench/idle.py).
    """
    logging.shutdown()  # flush the stdlib handlers the log setup installed
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


async def _serve(
    command: str,
    scenario: Scenario,
    settings: Settings,
    log: FilteringBoundLogger,
    control_path: Path | None = None,
    reload: bool = False,
) -> int:
    from voxpy.backends.pjsua2 import PjsuaBackend  # only the server needs pjsua2 loaded

    # `voxpy run` lives and dies with its endpoint (it ends by os._exit): freeze its boot heap.
    options = settings.pjsua_options(freeze_heap=command == "run")
    backend = PjsuaBackend(options, logger=get_logger("voxpy.pjsua2"))
    timeouts = settings.timeouts.timeouts()
    from voxpy.media.library import FileMediaLibrary

    media = FileMediaLibrary.from_settings(settings, get_logger("voxpy.media"))
    directory = _directory() if control_path is not None else None
    engine = Engine(
        backend,
        scenario,
        timeouts=timeouts,
        media=media,
        thresholds=settings.quality.thresholds(),
        custom_data=settings.scenario.custom_data,
        log=log,
        directory=directory,
        link_secret=directory.secret if directory is not None else None,
        journals=_journals(settings),
    )
    # A terminal gets one readable line once the address is known (below); the full settings
    # dump stays an info line for JSON logs (machines read it) and is debug on a terminal.
    console = renders_console(settings.log.format)
    (log.debug if console else log.info)("starting", command=command, **settings.summary())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # Watching starts before the engine says it started: a log reader that saw engine_started
    # has seen scenario_watching too, or there is none.
    reloader = await _start_reloader(engine, settings, log) if reload else None
    await engine.start()
    if console:
        sys.stderr.write(_startup_line(command, scenario, settings, engine) + "\n")
    control = (
        await _start_control(engine, control_path, settings, log)
        if control_path is not None
        else None
    )
    if control_path is not None and control is None:
        await _stop_all(reloader)
        await engine.shutdown()
        return EXIT_BACKEND
    status = 0
    waiters = [asyncio.ensure_future(stop.wait())]
    if command == "call":
        idle = _watch_for_idle_start(engine)
        try:
            session = engine.start_session()
        except ScenarioError as exc:
            log.error("scenario_failed", error=str(exc))
            status = EXIT_USAGE
        else:
            waiters.append(asyncio.ensure_future(session.terminated.wait()))
        if idle:
            log.error("no_started_handler", scenario=str(scenario.path))
            status = _fail(f"scenario error: {scenario.path}: {NO_STARTED_HANDLER}")
    if status == 0:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
    if stop.is_set():
        log.info("signal_received", live_calls=engine.live_legs())
    await engine.shutdown()
    await _stop_all(reloader, control)
    if directory is not None:
        await directory.close()
    return status


NO_STARTED_HANDLER = (
    "no AppEvents.Started handler: `voxpy call` starts a session without an inbound call, so "
    "the scenario must place its calls from VoxEngine.add_event_listener(AppEvents.Started, "
    "...); `voxpy run` serves scenarios that wait for inbound calls"
)


def _watch_for_idle_start(engine: Engine) -> list[str]:
    """Fill the returned list with the id of a session that starts with no Started handler
    and no call placed at top level: nothing could ever happen in it, and `voxpy call` would
    only sit out ``timeouts.session_grace`` (60 s) before exiting 0.

    An engine observer runs before the event's handlers, so a handler registered with
    ``once`` is still listed; only public ``Engine.observers`` and ``Session.listeners`` are
    read, nothing in the runtime changes for it.
    """
    idle: list[str] = []

    def watch(session: Any, event: Any) -> None:
        if getattr(event, "name", None) != AppEvents.Started:
            return
        if not session.listeners(str(AppEvents.Started)) and not session.live_calls():
            idle.append(session.id)

    engine.observers.append(watch)
    return idle


def _startup_line(command: str, scenario: Scenario, settings: Settings, engine: Engine) -> str:
    """What a person at a terminal needs: where it listens, what runs, how many calls fit."""
    transports = "UDP and TCP" if settings.sip.tcp else "UDP"
    rtp = settings.rtp
    media = f"RTP {rtp.port}-{rtp.port + rtp.port_range}" if rtp.port_range else f"RTP {rtp.port}+"
    what = "running one session of" if command == "call" else "answering calls with"
    return (
        f"voxpy {command}: {what} {scenario.path} on {engine.backend.contact_uri} "
        f"({transports}, {media}), at most {engine.backend.max_calls} calls at once; "
        "Ctrl-C stops"
    )


def _journals(settings: Settings) -> Journals | None:
    """Where sessions' journals go (journal.*): memory, and files when journal.dir is set."""
    journal = settings.journal
    if not journal.enabled:
        return None
    directory = Path(journal.dir) if journal.dir else None
    return Journals(
        limits=journal.limits(),
        directory=directory,
        keep=journal.keep,
        keep_bytes=journal.keep_bytes,
    )


async def _stop_all(*services: Any) -> None:
    for service in services:
        if service is not None:
            await service.stop()


async def _start_reloader(engine: Engine, settings: Settings, log: FilteringBoundLogger) -> Any:
    """`voxpy run --reload`: watch the scenario file (voxpy.runtime.reload)."""
    from voxpy.runtime.reload import ScenarioReloader

    reloader = ScenarioReloader(engine, log, settings.scenario.custom_data)
    await reloader.start()
    return reloader


def _directory() -> Any:
    """A `voxpy serve` worker's client of the conference directory (conferences span the
    workers), or None when the supervisor gave it none."""
    from voxpy.server.conferences import DirectoryClient

    return DirectoryClient.from_env()


async def _start_control(
    engine: Engine, path: Path, settings: Settings, log: FilteringBoundLogger
) -> Any:
    """The control API of a `voxpy serve` worker (a unix socket), or None if it cannot listen."""
    from voxpy.server.control import TOKEN_ENV, WorkerControl, die_with_parent
    from voxpy.server.procs import notify_ready
    from voxpy.server.results import ResultLimits

    die_with_parent()
    limits = ResultLimits(
        ttl=settings.server.session_results_ttl,
        max_sessions=settings.server.session_results_max,
    )
    control = WorkerControl(engine, os.environ.get(TOKEN_ENV) or None, log, limits)
    try:
        await control.start(path)
    except OSError as exc:
        log.error("control_failed", socket=str(path), error=str(exc))
        return None
    notify_ready()  # the supervisor waits for this line instead of polling /status
    return control


def _serve_pool(args: Any) -> int:
    """`voxpy serve`: check config, Kamailio and the scenario, then run the supervisor."""
    from voxpy.server import kamailio_missing
    from voxpy.server.kamailio import KamailioError
    from voxpy.server.pool import WorkersNotPlaced

    try:
        settings = load_settings(args.config, overrides=overrides(args))
        configure_logging(settings.log.level, settings.log.format)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    missing = kamailio_missing(settings.server.kamailio_bin)
    if missing is not None and settings.server.role != "workers":  # a worker host has none
        return _fail(missing)
    log = get_logger("voxpy")
    scenario = load_scenario(args.scenario, log, settings.scenario.custom_data)
    if isinstance(scenario, int):
        return scenario
    try:
        return asyncio.run(_serve_role(settings, scenario.path, args.config))
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except (KamailioError, WorkersNotPlaced, OSError) as exc:
        log.error("serve_failed", error=str(exc))
        return _fail(f"cannot start: {exc}", EXIT_BACKEND)


async def _serve_role(settings: Settings, scenario: Path, config_file: str | None) -> int:
    """Run ``voxpy serve`` in its server.role: one host, a front, or a worker host."""
    from voxpy.server import Supervisor
    from voxpy.server.front import Front
    from voxpy.server.hostagent import check_workers_role

    if settings.server.role == "front":
        return await Front(settings).run()
    if settings.server.role == "workers":
        check_workers_role(settings)
    return await Supervisor(settings, scenario, config_file=config_file).run()


def _flow(args: Any) -> int:
    from voxpy.cli.flow import flow_command  # reads files, starts nothing

    return flow_command(args)


def _dial(args: Any) -> int:
    from voxpy.cli.dial_tty import dial_command  # a terminal tool: loaded only when asked

    return dial_command(args)


def _repair(directory: Path, older_than: float) -> int:
    from voxpy.media.recording import repair

    configure_logging("info", "auto")
    if not directory.is_dir():
        return _fail(f"not a directory: {directory}")
    for path in repair(directory, older_than=older_than):
        sys.stdout.write(f"repaired {path}\n")
    return 0
