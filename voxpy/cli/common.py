"""What every ``voxpy`` command shares: one-line refusals on stderr and the checked scenario.

The command modules (:mod:`voxpy.cli`, :mod:`voxpy.cli.dial_tty`, :mod:`voxpy.cli.flow`)
import this, not each other: the package's ``__init__`` loads the others lazily.
"""

from __future__ import annotations

import os
import sys

from structlog.typing import FilteringBoundLogger

from voxpy.errors import ScenarioError
from voxpy.runtime.scenario import Scenario, check

EXIT_USAGE = 2
"Bad arguments, bad configuration or a broken scenario."


def fail(message: str, status: int = EXIT_USAGE) -> int:
    """Say why in one line on stderr; the exit status to return."""
    sys.stderr.write(f"voxpy: {message}\n")
    return status


def load_scenario(
    path: str, log: FilteringBoundLogger, custom_data: str | None = None
) -> Scenario | int:
    """The scenario, loaded and test-run once; or the exit status after saying why not."""
    try:
        scenario = Scenario.load(path)
        check(scenario, log, custom_data)
    except ScenarioError as exc:
        return fail(f"scenario error: {exc}")
    return scenario


def write_stdout(text: str) -> bool:
    """Write and flush ``text`` to stdout; False when the reader has gone (``| head``).

    Then stdout is pointed at /dev/null, as the Python docs advise for SIGPIPE, so the
    interpreter's own flush at exit raises no second BrokenPipeError.
    """
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return False
    return True
