"""The ``voxpy`` command: the composition root (settings -> logging -> backend -> engine).

``voxpy run SCENARIO`` serves inbound calls until SIGINT/SIGTERM; ``voxpy call SCENARIO`` runs
one session without an inbound call and exits when it terminates; ``voxpy serve SCENARIO`` runs
a pool of ``voxpy run`` workers behind Kamailio with an HTTP management API (voxpy.server).
Bad configuration or a broken scenario is reported in one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voxpy.config import Settings, load_settings
from voxpy.errors import BackendError, ConfigError, ScenarioError
from voxpy.log import configure_logging, get_logger
from voxpy.runtime.engine import Engine
from voxpy.runtime.scenario import Scenario, check

EXIT_USAGE = 2
EXIT_BACKEND = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxpy", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve inbound calls with a scenario")
    call = commands.add_parser("call", help="run one session that dials out, then exit")
    recordings = commands.add_parser("recordings", help="maintain recording files")
    actions = recordings.add_subparsers(dest="action", required=True)
    repair = actions.add_parser(
        "repair", help="finish recordings a crashed worker left as .mp3.part files"
    )
    repair.add_argument("directory", help="recordings directory (media.recordings_dir)")
    repair.add_argument(
        "--older-than",
        type=float,
        default=10.0,
        help="skip .part files written in the last N seconds (live calls)",
    )
    serve = commands.add_parser(
        "serve", help="serve with N worker processes behind Kamailio, plus an HTTP API"
    )
    for sub in (run, call, serve):
        sub.add_argument("scenario", help="path to the scenario .py file")
        sub.add_argument("--config", help="TOML config file (default: config/voxpy.toml)")
        sub.add_argument("--sip-host", help="address to listen on (sip.host)")
        sub.add_argument("--sip-port", type=int, help="SIP port, UDP and TCP (sip.port)")
        sub.add_argument("--public-address", help="address to advertise in SDP/Contact")
        sub.add_argument("--log-level", help="debug, info, warning or error")
        sub.add_argument("--log-format", help="auto, json or console")
    for sub in (run, call):
        sub.add_argument("--custom-data", help="custom data for the session(s)")
    # Internal: `voxpy serve` starts its workers as `voxpy run ... --control-socket PATH`.
    run.add_argument("--control-socket", type=Path, help=argparse.SUPPRESS)
    serve.add_argument("--workers", type=int, help="worker processes, 4 calls each")
    serve.add_argument("--http-host", help="management API address (server.http_host)")
    serve.add_argument("--http-port", type=int, help="management API port (server.http_port)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "recordings":
        return _repair(Path(args.directory), args.older_than)
    if args.command == "serve":
        return _serve_pool(args)
    try:
        settings = load_settings(args.config, overrides=_overrides(args))
        configure_logging(settings.log.level, settings.log.format)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    log = get_logger("voxpy")
    try:
        scenario = Scenario.load(args.scenario)
        check(scenario, log, settings.scenario.custom_data)
    except ScenarioError as exc:
        return _fail(f"scenario error: {exc}")
    try:
        control = getattr(args, "control_socket", None)  # `voxpy run` only
        return asyncio.run(_serve(args.command, scenario, settings, log, control))
    except BackendError as exc:
        log.error("backend_failed", error=str(exc))
        return _fail(f"cannot start: {exc}", EXIT_BACKEND)


async def _serve(
    command: str, scenario: Scenario, settings: Settings, log: Any, control_path: Path | None = None
) -> int:
    from voxpy.backends.pjsua2 import PjsuaBackend  # only the server needs pjsua2 loaded

    backend = PjsuaBackend(settings.pjsua_options(), logger=get_logger("voxpy.pjsua2"))
    timeouts = settings.timeouts.timeouts()
    from voxpy.media.library import FileMediaLibrary

    media = FileMediaLibrary.from_settings(settings, get_logger("voxpy.media"))
    engine = Engine(
        backend,
        scenario,
        timeouts=timeouts,
        media=media,
        thresholds=settings.quality.thresholds(),
        custom_data=settings.scenario.custom_data,
        log=log,
    )
    log.info("starting", command=command, **settings.summary())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await engine.start()
    control = await _start_control(engine, control_path, log) if control_path is not None else None
    if control_path is not None and control is None:
        await engine.shutdown()
        return EXIT_BACKEND
    status = 0
    waiters = [asyncio.ensure_future(stop.wait())]
    if command == "call":
        try:
            session = engine.start_session()
        except ScenarioError as exc:
            log.error("scenario_failed", error=str(exc))
            status = EXIT_USAGE
        else:
            waiters.append(asyncio.ensure_future(session.terminated.wait()))
    if status == 0:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
    if stop.is_set():
        log.info("signal_received", live_calls=engine.live_legs())
    await engine.shutdown()
    if control is not None:
        await control.stop()
    return status


async def _start_control(engine: Engine, path: Path, log: Any) -> Any:
    """The control API of a `voxpy serve` worker (a unix socket), or None if it cannot listen."""
    from voxpy.server.control import TOKEN_ENV, WorkerControl, die_with_parent

    die_with_parent()
    control = WorkerControl(engine, os.environ.get(TOKEN_ENV) or None, log)
    try:
        await control.start(path)
    except OSError as exc:
        log.error("control_failed", socket=str(path), error=str(exc))
        return None
    return control


def _serve_pool(args: argparse.Namespace) -> int:
    """`voxpy serve`: check config, Kamailio and the scenario, then run the supervisor."""
    from voxpy.server import Supervisor, kamailio_missing
    from voxpy.server.kamailio import KamailioError
    from voxpy.server.pool import WorkersNotPlaced

    try:
        settings = load_settings(args.config, overrides=_overrides(args))
        configure_logging(settings.log.level, settings.log.format)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    missing = kamailio_missing(settings.server.kamailio_bin)
    if missing is not None:
        return _fail(missing)
    log = get_logger("voxpy")
    try:
        scenario = Scenario.load(args.scenario)
        check(scenario, log, settings.scenario.custom_data)
    except ScenarioError as exc:
        return _fail(f"scenario error: {exc}")
    try:
        supervisor = Supervisor(settings, scenario.path, config_file=args.config)
        return asyncio.run(supervisor.run())
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except (KamailioError, WorkersNotPlaced, OSError) as exc:
        log.error("serve_failed", error=str(exc))
        return _fail(f"cannot start: {exc}", EXIT_BACKEND)


_OVERRIDES = (
    ("sip.host", "sip_host"),
    ("sip.port", "sip_port"),
    ("sip.public_address", "public_address"),
    ("log.level", "log_level"),
    ("log.format", "log_format"),
    ("scenario.custom_data", "custom_data"),  # run and check
    ("server.workers", "workers"),  # serve
    ("server.http_host", "http_host"),
    ("server.http_port", "http_port"),
)
"Setting <- command-line flag. A flag the command lacks, or one not given, is None: skipped."


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, attr, None) for key, attr in _OVERRIDES}


def _repair(directory: Path, older_than: float) -> int:
    from voxpy.media.recording import repair

    configure_logging("info", "auto")
    if not directory.is_dir():
        return _fail(f"not a directory: {directory}")
    for path in repair(directory, older_than=older_than):
        sys.stdout.write(f"repaired {path}\n")
    return 0


def _fail(message: str, status: int = EXIT_USAGE) -> int:
    sys.stderr.write(f"voxpy: {message}\n")
    return status
