"""`voxpy dial`'s front: arguments checked, the terminal in cbreak mode, lines to stdout.

Thin on purpose: what keys mean, what lines say and how a call is driven live in
:mod:`voxpy.cli.dial_keys`, :mod:`voxpy.cli.dial_view` and :mod:`voxpy.cli.dial`. Cbreak
(not raw) mode: each key arrives as typed and unechoed, Ctrl-C still interrupts, Ctrl-D
arrives as the key ``\\x04`` (hang up). A closed stdin hangs up too.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import sys
import termios
import tty
from collections.abc import Iterator
from typing import Any

from voxpy.cli import dial
from voxpy.cli.common import fail, load_scenario, write_stdout
from voxpy.cli.dial_keys import parse_script, split_keys
from voxpy.cli.dial_sip import SipLine, target_uri
from voxpy.errors import InvalidArgumentError, VoxpyError
from voxpy.log import configure_logging, get_logger
from voxpy.testing import ScenarioHarness

_SIP_USER = re.compile(r"[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+")
"RFC 3261's user part: unreserved, escaped (%XX) and user-unreserved characters."
HELP_LINE = "keys: 0-9 * # A-D send DTMF, h or Ctrl-D hang up, o hold, O unhold, i send INFO"


def dial_command(args: Any) -> int:
    """`voxpy dial`: 0 when the call was answered and ended, 1 when it failed or a handler
    raised, 2 for bad arguments or a broken scenario, 3 when a script's call outlived
    ``--timeout``."""
    try:
        # The engine's own log repeats what the softphone prints (a handler's error, with its
        # traceback): it goes to stderr only when asked for with --log-level.
        quiet = None if args.log_level else open(os.devnull, "w")  # noqa: SIM115 - for the run
        configure_logging(args.log_level or "error", args.log_format or "console", quiet)
        script = parse_script(args.keys) if args.keys is not None else None
        _check_arguments(args)
        uri = target_uri(args.sip, args.to) if args.sip is not None else None
    except VoxpyError as exc:
        return fail(str(exc))
    if uri is None:
        # ScenarioHarness loads the file again by its path (it takes no loaded Scenario):
        # this first load is the check, with its one-line refusal.
        loaded = load_scenario(args.scenario, get_logger("voxpy"), args.custom_data)
        if isinstance(loaded, int):
            return loaded
    options = dial.DialOptions(
        scenario=args.scenario or "",
        to=args.to,
        caller=args.caller,
        custom_data=args.custom_data,
        sip=uri,
        script=script,
        timeout=args.timeout,
    )
    try:
        status = asyncio.run(_dial(options))
    except KeyboardInterrupt:
        return fail("interrupted", dial.EXIT_FAILED)
    except VoxpyError as exc:
        return fail(str(exc), dial.EXIT_FAILED)
    return dial.EXIT_FAILED if _STDOUT.closed else status


def _check_arguments(args: Any) -> None:
    """Refuse what cannot work before any call is placed (InvalidArgumentError)."""
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise InvalidArgumentError(
            f"--timeout must be a positive number of seconds, not {args.timeout}"
        )
    if not _SIP_USER.fullmatch(args.to):
        raise InvalidArgumentError(f"bad --to {args.to!r}: not a SIP user part (e.g. 100)")
    if args.sip is not None:
        if args.scenario is not None:
            raise InvalidArgumentError("--sip calls a running server: give no SCENARIO with it")
        if args.custom_data is not None:
            raise InvalidArgumentError(
                "--custom-data cannot reach a running server over --sip (its custom data is "
                "its own setting, scenario.custom_data)"
            )
    elif args.scenario is None:
        raise InvalidArgumentError("a SCENARIO file is needed without --sip")


class _Stdout:
    """The softphone's lines; once their reader has gone (``| head``) the rest go nowhere,
    the call runs to its end, and the exit status is 1."""

    closed = False

    def write(self, text: str) -> None:
        if not self.closed and not write_stdout(text + "\n"):
            self.closed = True


_STDOUT = _Stdout()
_out = _STDOUT.write


async def _dial(options: dial.DialOptions) -> int:
    where = options.sip or f"{options.scenario} (memory)"
    _out(f"voxpy dial: calling {where} as {options.caller}; {HELP_LINE}")
    if options.sip is not None:
        return await _dial_sip(options)
    harness = ScenarioHarness(
        options.scenario, "memory", custom_data=options.custom_data, raise_handler_errors=False
    )
    async with harness:
        line = dial.MemoryLine(harness, _out, real=options.script is None)
        await line.start(options.to, options.caller)
        if options.script is not None:
            status, end = await dial.run_script(line, options.script, options.timeout, _out)
        else:
            pacer = dial.Pacer(harness)
            pacer.start()
            try:
                with terminal_keys() as keys:
                    status, end = await dial.run_keys(line, keys, _out)
            finally:
                await pacer.stop()
    _out(end)  # after the session's last events (Terminating, Terminated at shutdown)
    return status


async def _dial_sip(options: dial.DialOptions) -> int:
    assert options.sip is not None
    line = SipLine(_out, dial.TICK)
    try:
        await line.start(options.sip, options.caller)
        if options.script is not None:
            status, end = await dial.run_script(line, options.script, options.timeout, _out)
        else:
            with terminal_keys() as keys:
                status, end = await dial.run_keys(line, keys, _out)
    finally:
        await line.stop()
    _out(end)
    return status


@contextlib.contextmanager
def terminal_keys() -> Iterator[asyncio.Queue[str | None]]:
    """Keys typed on stdin, one by one, as they come; None once stdin is closed."""
    loop = asyncio.get_running_loop()
    keys: asyncio.Queue[str | None] = asyncio.Queue()
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd) if os.isatty(fd) else None

    def readable() -> None:
        data = os.read(fd, 64)
        if not data:
            loop.remove_reader(fd)
            keys.put_nowait(None)
            return
        for key in split_keys(data.decode("utf-8", "replace")):
            keys.put_nowait(key)

    if saved is not None:
        tty.setcbreak(fd)
    try:
        loop.add_reader(fd, readable)
    except PermissionError:  # a regular file (`< keys.txt`): epoll refuses it, and it is all there
        for key in split_keys(sys.stdin.read()):
            keys.put_nowait(key)
        keys.put_nowait(None)
    try:
        yield keys
    finally:
        loop.remove_reader(fd)
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
