"""The ``voxpy`` command line: commands, flags and help text, and the settings each flag sets.

Kept apart from the composition root (:mod:`voxpy.cli`) so the words users read sit in one
place; nothing here starts anything.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from voxpy import __version__

_ENVIRONMENT = """\
environment:
  Settings come from config/voxpy.toml (or --config FILE), then VOXPY_<SECTION>__<FIELD>
  environment variables, then flags: VOXPY_SIP__PORT=5070, VOXPY_RTP__PORT=20000,
  VOXPY_LOG__LEVEL=debug, VOXPY_SERVER__TOKEN=secret. Every setting is listed, with its
  meaning, in config/voxpy.toml. A bad value exits 2 naming the field and where it came from.
"""

_COMMANDS = {  # name: (one line for `voxpy --help`, the paragraph of `voxpy NAME --help`)
    "run": (
        "answer inbound calls with a scenario, until Ctrl-C",
        "Listen for SIP calls and run SCENARIO once per call (a new session per INVITE). "
        "One process holds at most 4 calls. Ctrl-C or SIGTERM hangs up live calls and exits 0.",
    ),
    "call": (
        "run one outbound session (the scenario dials from AppEvents.Started), then exit",
        "Start one session with no inbound call: SCENARIO's AppEvents.Started handler places "
        "the calls (VoxEngine.call_sip), and voxpy exits 0 when the session ends. A scenario "
        "without a Started handler exits 2 at once: nothing would ever happen.",
    ),
    "serve": (
        "run N workers behind Kamailio, with an HTTP API to start and query sessions",
        "Production mode: N `voxpy run` workers (4 calls each) behind a Kamailio SIP front that "
        "spreads calls by load, restarts workers that die, drains on SIGTERM, and serves the "
        "HTTP management API (start sessions, query results, metrics). Needs Kamailio.",
    ),
    "dial": (
        "call a scenario from the terminal: see its events, hear its prompts, press keys",
        "A terminal softphone. Without --sip it runs SCENARIO in-process on the in-memory "
        "backend and shows every engine event and the text of each prompt as it happens; "
        "with --sip URI it calls a running voxpy over real SIP and shows SIP signals and the "
        "level of the audio heard. Keys: 0-9 * # A-D send DTMF, h or Ctrl-D hang up, o hold, "
        "O unhold, i send INFO. --keys runs a script instead (words: keys, 'w' waits for the "
        "prompt to end, 'wN' waits N seconds), on virtual time in memory mode. Exit status: 0 "
        "the call was answered and ended, 1 it failed or a handler raised, 2 bad arguments or "
        "scenario, 3 the call outlived --timeout after the script.",
    ),
    "recordings": (
        "maintain recording files",
        "Maintenance of the MP3 recordings under media.recordings_dir.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voxpy",
        description="voxpy: run VoxEngine-style Python call scenarios over SIP.",
        epilog=_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"voxpy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str) -> argparse.ArgumentParser:
        summary, description = _COMMANDS[name]
        return commands.add_parser(
            name,
            help=summary,
            description=textwrap.fill(description, 88),
            epilog=_ENVIRONMENT,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run, call, serve, recordings = (command(n) for n in ("run", "call", "serve", "recordings"))
    _dial_arguments(command("dial"))
    actions = recordings.add_subparsers(dest="action", required=True, metavar="ACTION")
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
    for sub in (run, call, serve):
        sub.add_argument("scenario", help="path to the scenario .py file")
        sub.add_argument(
            "--config", metavar="FILE", help="TOML config file (default: config/voxpy.toml)"
        )
        sub.add_argument("--sip-host", metavar="HOST", help="address to listen on (sip.host)")
        sub.add_argument(
            "--sip-port", type=int, metavar="PORT", help="SIP port, UDP and TCP (sip.port)"
        )
        sub.add_argument(
            "--public-address", metavar="ADDRESS", help="address to advertise in SDP/Contact"
        )
        sub.add_argument(
            "--rtp-port", type=int, metavar="PORT", help="first RTP media port (rtp.port)"
        )
        sub.add_argument(
            "--rtp-port-range",
            type=int,
            metavar="N",
            help="RTP ports above --rtp-port (rtp.port_range)",
        )
        sub.add_argument("--log-level", metavar="LEVEL", help="debug, info, warning or error")
        sub.add_argument("--log-format", metavar="FORMAT", help="auto, json or console")
    for sub in (run, call):
        sub.add_argument("--custom-data", metavar="TEXT", help="custom data for the session(s)")
    # Internal: `voxpy serve` starts its workers as `voxpy run ... --control-socket PATH`.
    run.add_argument("--control-socket", type=Path, help=argparse.SUPPRESS)
    for sub in (run, serve):
        sub.add_argument(
            "--reload",
            action="store_const",
            const=True,
            help="load SCENARIO again when it changes, for new calls (live calls keep theirs); "
            "a version that does not compile or raises at import is logged and not used "
            "(scenario.reload)",
        )
    serve.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="worker processes, 4 calls each, or auto (sized from cores and memory)",
    )
    serve.add_argument(
        "--http-host", metavar="ADDRESS", help="management API address (server.http_host)"
    )
    serve.add_argument(
        "--http-port", type=int, metavar="PORT", help="management API port (server.http_port)"
    )
    serve.add_argument(
        "--role",
        choices=("all", "front", "workers"),
        help="all: one host (default); front: Kamailio and the API, worker hosts join it; "
        "workers: this host's workers join --front (server.role)",
    )
    serve.add_argument(
        "--front", metavar="HOST:PORT", help="the front's management API (server.front)"
    )
    serve.add_argument(
        "--worker-host",
        metavar="ADDRESS",
        help="address the workers listen on, reachable by the front (server.worker_host)",
    )
    serve.add_argument(
        "--host-id", metavar="NAME", help="this worker host's name at the front (server.host_id)"
    )
    return parser


def _dial_arguments(dial: argparse.ArgumentParser) -> None:
    dial.add_argument("scenario", nargs="?", help="path to the scenario .py file (not with --sip)")
    dial.add_argument("--to", default="100", metavar="USER", help="number dialled (default 100)")
    dial.add_argument(
        "--from", dest="caller", default="+15550100", metavar="CALLERID", help="caller id"
    )
    dial.add_argument(
        "--custom-data", metavar="TEXT", help="custom data for the session (memory mode)"
    )
    dial.add_argument(
        "--sip", metavar="URI", help="call a running voxpy at URI (sip:[USER@]HOST[:PORT])"
    )
    dial.add_argument("--keys", metavar="SCRIPT", help='keys to press, e.g. "w 1 w2 #"')
    dial.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="with --keys: hang up (exit 3) if the call lasts this long after the script",
    )
    dial.add_argument(
        "--log-level", metavar="LEVEL", help="show the engine's log from LEVEL on (default: none)"
    )
    dial.add_argument("--log-format", metavar="FORMAT", help="auto, json or console")


def _workers(value: str) -> int | str:
    """``--workers``: a number (checked with the settings) or ``auto``."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of workers or auto, got {value!r}"
        ) from None


_OVERRIDES = (
    ("sip.host", "sip_host"),
    ("sip.port", "sip_port"),
    ("sip.public_address", "public_address"),
    ("rtp.port", "rtp_port"),
    ("rtp.port_range", "rtp_port_range"),
    ("log.level", "log_level"),
    ("log.format", "log_format"),
    ("scenario.custom_data", "custom_data"),  # run and check
    ("scenario.reload", "reload"),  # run and serve
    ("server.workers", "workers"),  # serve
    ("server.http_host", "http_host"),
    ("server.http_port", "http_port"),
    ("server.role", "role"),
    ("server.front", "front"),
    ("server.worker_host", "worker_host"),
    ("server.host_id", "host_id"),
)
"Setting <- command-line flag. A flag the command lacks, or one not given, is None: skipped."


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, attr, None) for key, attr in _OVERRIDES}
