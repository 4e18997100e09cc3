"""The Kamailio front: render its config from ``config/kamailio.cfg.tmpl``, check it, run it.

Kamailio runs in the foreground (``-DD``) logging to stderr (``-E``) as a child of the
supervisor, in its own process group so that a Ctrl-C in the terminal reaches only the
supervisor, which then drains in order. Its dispatcher list starts with every worker inactive
and probed: a worker takes calls once it answers OPTIONS or the supervisor marks it active.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from structlog.typing import FilteringBoundLogger

from voxpy.config import Settings
from voxpy.core.edge import ALLOW, MAX_PKT_LEN
from voxpy.core.edge import KNOWN_METHODS as EDGE_METHODS
from voxpy.core.sizing import kamailio_shm_mb
from voxpy.errors import ConfigError, VoxpyError
from voxpy.log import get_logger
from voxpy.server.procs import LineRelay, backoff_delay, describe_exit, free_port, wait_exit
from voxpy.server.rpc import SOCKET_PATH_MAX, KamailioRpc, RpcError

TEMPLATE_NAME = Path("config") / "kamailio.cfg.tmpl"
SOURCE_TEMPLATE = Path(__file__).resolve().parent.parent.parent / TEMPLATE_NAME
SCANNER_USER_AGENTS = "friendly-scanner|sipvicious|sipcli|VaxSIPUserAgent|pplsip|sundayddr"
HASH_EXPIRE_S = 3600
"A call without BYE stops counting towards its worker's load after this long."
DS_INACTIVE_PROBING = 9
"Dispatcher list flags: 1 inactive + 8 probing."
MAX_MESSAGE_BYTES = MAX_PKT_LEN - 512
"""Requests over this size get 513: the workers' pjsip buffer is 4000 bytes, and Kamailio adds
its Via and Record-Route (about 200 bytes) before relaying."""
KNOWN_METHODS = "|".join(sorted(EDGE_METHODS))
"The methods the front knows (a regex alternation): the workers' edge guard's list."
"Methods answered 405 out of dialog rather than 501 Not Implemented."
REMOTE_WORKERS = 'ds_is_from_list("1", "2")'
"""A front's workers run on other hosts and join at run time: a source is a worker when it is
one of the dispatcher's destinations (address and port; any transport, mode 2)."""
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
PORT_TRIES = 5
"Starts with a new free port after a bind conflict on one we picked (sip.port = 0)."
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_log = get_logger("voxpy.kamailio")


class KamailioError(VoxpyError):
    """Kamailio is missing, refused its config, or did not start."""


@dataclass(frozen=True, slots=True)
class Destination:
    """One worker as Kamailio sees it."""

    uri: str
    duid: str
    port: int


def render(template: str, values: Mapping[str, object]) -> str:
    """Replace every ``{{name}}``; an unknown name is an error, not an empty string."""

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in values:
            raise KamailioError(f"kamailio template: no value for {{{{{name}}}}}")
        return str(values[name])

    return _PLACEHOLDER.sub(value, template)


def config_values(
    settings: Settings, run_dir: Path, sip_port: int, destinations: Sequence[Destination]
) -> dict[str, object]:
    """Template values for this server: listen address, workers, timers, paths."""
    server, sip = settings.server, settings.sip
    worker_ip = "127.0.0.1" if server.worker_host == "0.0.0.0" else server.worker_host
    listen = [f"listen=udp:{sip.host}:{sip_port}"]
    if sip.tcp:
        listen.append(f"listen=tcp:{sip.host}:{sip_port}")
    ports = " || ".join(f"$sp == {d.port}" for d in destinations) or "0"
    level = {"debug": 3, "info": 1, "warning": 0, "error": -1}[settings.log.level]
    return {
        "log_level": level,
        "user_agent": cfg_string(sip.user_agent),
        "log_prefix": "",
        "children": server.kamailio_children,
        "run_dir": run_dir,
        "listen": "\n".join(listen),
        "rpc_socket": run_dir / "kamailio_rpc.sock",
        "ctl_socket": run_dir / "kamailio_ctl.sock",
        "fr_timer_ms": 2000,
        "fr_inv_timer_ms": int((settings.timeouts.no_answer + 10) * 1000),
        "ban_seconds": 300,
        "pike_density": server.pike_density,
        "pike_loopback": 1 if server.pike_loopback else 0,
        "invite_rate": server.invite_rate,
        "max_message_bytes": MAX_MESSAGE_BYTES,
        "allow": ALLOW,
        "known_methods": KNOWN_METHODS,
        "dispatcher_list": run_dir / "dispatcher.list",
        "ping_interval": server.probe_interval,
        "hash_initexpire": int(settings.timeouts.no_answer + 30),
        "hash_expire": HASH_EXPIRE_S,
        "from_worker": (
            REMOTE_WORKERS if server.role == "front" else f'$si == "{worker_ip}" && ({ports})'
        ),
        "scanner_user_agents": SCANNER_USER_AGENTS,
        "retry_after": server.retry_after,
    }


def cfg_string(value: str) -> str:
    """``value`` made safe inside a double-quoted Kamailio string (and a SIP header)."""
    printable = "".join(c for c in value if c.isprintable())
    return printable.replace("\\", "\\\\").replace('"', '\\"')


def duid(index: int, incarnation: int, prefix: str = "") -> str:
    """The dispatcher id of worker ``index`` after ``incarnation`` restarts: ``w0``, ``w0.1``
    (a worker host's, behind a front, starts with its host id: ``h1-w0``).

    Kamailio counts a worker's calls under its duid and cannot forget them (no RPC resets a
    load; ``dispatcher.reload`` would zero every worker's load, live calls included). A
    restarted worker therefore comes back as a new destination: the calls its predecessor
    held die with it and no longer count, and their late BYEs cannot lower the new load.
    """
    return f"{prefix}w{index}" if incarnation == 0 else f"{prefix}w{index}.{incarnation}"


def dispatcher_attrs(duid_: str, max_calls: int) -> str:
    return f"duid={duid_};maxload={max_calls}"


def dispatcher_list(destinations: Sequence[Destination], max_calls: int) -> str:
    """Group 1, one line per worker: ``1 sip:h:p 9 0 duid=w0;maxload=4``."""
    lines = ["# generated by voxpy serve: setid uri flags priority attrs"]
    lines += [
        f"1 {d.uri} {DS_INACTIVE_PROBING} 0 {dispatcher_attrs(d.duid, max_calls)}"
        for d in destinations
    ]
    return "\n".join(lines) + "\n"


def find_template() -> Path:
    """``config/kamailio.cfg.tmpl`` under the current directory (like ``config/voxpy.toml``;
    the container's WORKDIR has it), else the one of the source checkout voxpy runs from."""
    local = Path.cwd() / TEMPLATE_NAME
    return local if local.is_file() else SOURCE_TEMPLATE


def check_socket_dir(run_dir: Path) -> None:
    """Raise ConfigError if the longest unix socket path in ``run_dir`` would not fit."""
    if len(str(run_dir / "kamailio_rpc.sock")) > SOCKET_PATH_MAX:
        raise ConfigError(
            f"{run_dir} is too long for unix socket paths; use a shorter directory",
            field="server.run_dir",
        )


def write_config(
    settings: Settings,
    run_dir: Path,
    sip_port: int,
    destinations: Sequence[Destination],
    template: Path | None = None,
) -> Path:
    """Write ``kamailio.cfg`` and ``dispatcher.list`` into ``run_dir``; return the cfg path."""
    template = template or find_template()
    check_socket_dir(run_dir)
    try:
        text = template.read_text(encoding="utf-8")
    except OSError as exc:
        raise KamailioError(f"cannot read the Kamailio template {template}: {exc}") from None
    values = config_values(settings, run_dir, sip_port, destinations)
    (run_dir / "dispatcher.list").write_text(
        dispatcher_list(destinations, settings.sip.max_calls), encoding="utf-8"
    )
    cfg = run_dir / "kamailio.cfg"
    cfg.write_text(render(text, values), encoding="utf-8")
    return cfg


async def check_config(binary: str, cfg: Path) -> None:
    """``kamailio -c -f cfg``; raises KamailioError with Kamailio's complaint."""
    proc = await asyncio.create_subprocess_exec(
        binary,
        "-c",
        "-f",
        str(cfg),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        lines = out.decode("utf-8", "replace").splitlines()
        errors = [line for line in lines if "ERROR" in line or "CRITICAL" in line]
        raise KamailioError(f"{cfg} is not valid: {' | '.join(errors[-3:] or lines[-3:])}")


def which(binary: str) -> str | None:
    """The full path of ``binary``, or None when it is not installed."""
    return shutil.which(binary)


async def start(
    settings: Settings, run_dir: Path, sip_port: int, destinations: Sequence[Destination]
) -> tuple[Kamailio, int]:
    """Write the config for ``sip_port`` and ``destinations``, check it, start Kamailio; return
    it and the port it listens on. Raises KamailioError (ConfigError for a bad run_dir).

    Kamailio cannot bind port 0 and report the port it got, so with ``sip.port = 0`` its port
    was picked by bind-then-release and another process may have taken it since: a bind
    conflict then means another free port and another try, not a failed start.
    """
    server, taken = settings.server, {d.port for d in destinations}
    if settings.sip.port == 0 and sip_port in taken:
        # Picked before the workers bound theirs, and the OS gave one of them the same port.
        sip_port = free_sip_port(settings, exclude=taken)
    for attempt in range(1, PORT_TRIES + 1):
        cfg = write_config(settings, run_dir, sip_port, destinations)
        await check_config(server.kamailio_bin, cfg)
        shm = kamailio_shm_mb(server.kamailio_shm_mb, len(destinations))
        kamailio = Kamailio(server.kamailio_bin, cfg, run_dir, shm)
        try:
            await kamailio.start()
            return kamailio, sip_port
        except KamailioError:
            chosen = settings.sip.port == 0
            if not chosen or not kamailio.bind_conflict() or attempt == PORT_TRIES:
                raise
        taken.add(sip_port)
        retry = free_sip_port(settings, exclude=taken)
        _log.warning("kamailio_port_taken", port=sip_port, retry_port=retry, attempt=attempt)
        sip_port = retry
    raise AssertionError("unreachable")  # the last attempt returned or raised


def free_sip_port(settings: Settings, exclude: set[int] | None = None) -> int:
    """A free port for Kamailio's SIP listener on ``sip.host`` (bind-then-release, see
    :func:`~voxpy.server.procs.free_port`: :func:`start` retries when it was taken)."""
    host = "127.0.0.1" if settings.sip.host == "0.0.0.0" else settings.sip.host
    return free_port(host, exclude=exclude)


class Kamailio:
    """The running Kamailio process and its RPC client."""

    def __init__(self, binary: str, cfg: Path, run_dir: Path, shm_mb: int) -> None:
        self.argv = [binary, "-DD", "-E", "-f", str(cfg), "-m", str(shm_mb), "-M", "8"]
        self.rpc = KamailioRpc(run_dir / "kamailio_rpc.sock", run_dir)
        self.proc: asyncio.subprocess.Process | None = None
        self._relay = LineRelay("kamailio", {})
        self._reader: asyncio.Task[None] | None = None
        self._log = get_logger("voxpy.kamailio")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        """Start Kamailio and wait until its RPC answers; raises KamailioError."""
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            process_group=0,
        )
        assert self.proc.stderr is not None
        self._reader = asyncio.create_task(self._relay.run(self.proc.stderr))
        self._relay.quiet = False
        self._log.info("kamailio_started", pid=self.proc.pid, argv=self.argv)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT_S
        while True:
            if self.proc.returncode is not None:
                await self.wait()  # its children may hold stderr open: kill them, bounded
                tail = " | ".join(list(self._relay.tail)[-3:])
                raise KamailioError(f"kamailio exited at start ({self.proc.returncode}): {tail}")
            try:
                await self.rpc.call("core.version")
                return
            except RpcError:
                if loop.time() > deadline:
                    await self.stop()
                    raise KamailioError(
                        f"kamailio RPC did not answer in {READY_TIMEOUT_S:.0f} s"
                    ) from None
                await asyncio.sleep(0.1)

    async def wait(self) -> dict[str, Any]:
        """Wait for Kamailio to exit; return how (``exit_code`` or ``signal``).

        A main process that was killed leaves its children running (still bound to the SIP
        port and holding our stderr pipe): they are killed with their process group.
        """
        assert self.proc is not None
        code = await wait_exit(self.proc)
        self._kill_group()
        if self._reader is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, STOP_TIMEOUT_S)
        return describe_exit(code)

    def _kill_group(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def tail(self) -> list[str]:
        return list(self._relay.tail)

    def bind_conflict(self) -> bool:
        """Whether Kamailio's last lines say its SIP port was taken (EADDRINUSE)."""
        return any("Address already in use" in line for line in self._relay.tail)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s; safe to call when not running."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        # Its processes report each other's closing sockets as CRITICAL while they stop.
        self._relay.quiet = True
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await wait_exit(proc, STOP_TIMEOUT_S)
        except TimeoutError:
            self._log.warning("kamailio_kill", pid=proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await wait_exit(proc)
        self._kill_group()  # normally empty by now: the main process stops its children
        self._log.info("kamailio_stopped", **describe_exit(proc.returncode or 0))


async def keep_running(
    kamailio: Kamailio,
    settings: Settings,
    stop: asyncio.Event,
    on_restart: Callable[[], Awaitable[None]],
    log: FilteringBoundLogger,
) -> None:
    """Restart ``kamailio`` whenever it dies (backing off as server.restart_backoff says)
    until ``stop`` is set; after each restart, ``on_restart`` tells the new one what the
    old one had been told since it read its files."""
    server, failures = settings.server, 0
    while not stop.is_set():
        how = await kamailio.wait()
        if stop.is_set():  # stopped on purpose
            return
        failures += 1
        delay = backoff_delay(failures, server.restart_backoff, server.restart_backoff_max)
        log.error("kamailio_exited", stderr_tail=kamailio.tail()[-8:], restart_in=delay, **how)
        await asyncio.sleep(delay)
        try:
            await kamailio.start()
        except KamailioError as exc:
            log.error("kamailio_restart_failed", error=str(exc))
            continue
        await on_restart()
