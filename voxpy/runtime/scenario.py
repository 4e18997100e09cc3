"""Scenario files: compiled once, their top-level code run once per session in a fresh namespace.

Errors become :class:`~voxpy.errors.ScenarioError` naming the file and line, so ``voxpy run``
can say in one line what is wrong before it takes any call.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

from structlog.typing import FilteringBoundLogger

from voxpy.core.quality import Thresholds
from voxpy.errors import ScenarioError
from voxpy.runtime.nomedia import NoMedia
from voxpy.runtime.scope import session_scope
from voxpy.runtime.session import Session, Timeouts


@dataclass(frozen=True, slots=True)
class Scenario:
    """A compiled scenario file."""

    path: Path
    code: CodeType

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read and compile ``path``; raise ScenarioError when missing or not valid Python."""
        file = Path(path)
        try:
            source = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError("scenario file not found", path=str(file)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"cannot read scenario: {exc}", path=str(file)) from exc
        try:
            code = compile(source, str(file), "exec")
        except SyntaxError as exc:
            raise ScenarioError(
                f"syntax error: {exc.msg}", path=str(file), line=exc.lineno
            ) from exc
        return cls(path=file, code=code)

    @property
    def name(self) -> str:
        return self.path.stem

    def run(self, session: Session) -> dict[str, Any]:
        """Run the top-level code for ``session``; return its namespace.

        Raises ScenarioError (with the line inside the scenario) if the code raises.
        """
        namespace: dict[str, Any] = {
            "__name__": f"voxpy_scenario_{self.name}",
            "__file__": str(self.path),
        }
        folder = str(self.path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)  # let a scenario import helpers that sit beside it
        with session_scope(session):
            try:
                exec(self.code, namespace)
            except Exception as exc:
                line = _line_in(exc, str(self.path))
                raise ScenarioError(
                    f"top-level code raised {exc!r}", path=str(self.path), line=line
                ) from exc
        return namespace


def _line_in(exc: BaseException, filename: str) -> int | None:
    """The deepest line of ``filename`` in the exception's traceback."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


class _ProbeHost:
    """A session host that discards everything: used to run a scenario's top level once at
    start-up, so a broken scenario is reported before the server takes calls."""

    def __init__(self, log: FilteringBoundLogger) -> None:
        self.log = log
        self.clock = _StoppedClock()
        self.timeouts = Timeouts()
        self.media = NoMedia()
        self.thresholds = Thresholds()
        self.conferences: dict[str, object] = {}

    def send(self, command: object) -> None:
        pass

    def reserve_leg(self) -> None:
        pass

    def observe(self, session: object, event: object) -> None:
        pass

    def route_unit(self, unit_id: str, receive: object) -> None:
        pass

    def register_call(self, call: object) -> None:
        pass

    def session_ended(self, session: object) -> None:
        pass


class _NeverTimer:
    def cancel(self) -> None:
        pass


class _StoppedClock:
    def now(self) -> float:
        return 0.0

    def call_later(self, delay: float, callback: object) -> _NeverTimer:
        return _NeverTimer()


def check(scenario: Scenario, log: FilteringBoundLogger, custom_data: str | None = None) -> None:
    """Run ``scenario``'s top level once in a throwaway session; raise ScenarioError if broken."""
    scenario.run(Session(_ProbeHost(log), custom_data))
