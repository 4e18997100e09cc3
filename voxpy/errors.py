"""The one error tree of voxpy.

::

    VoxpyError
     ├─ ScenarioError         the scenario is broken (missing, bad syntax, raised at top level)
     ├─ InvalidStateError     API misuse: a method called in a state where it makes no sense
     ├─ InvalidArgumentError  API misuse: a bad argument (also a ValueError)
     ├─ BackendError          the SIP stack failed or refused (carries ``op`` and ``status``)
     │   └─ CapacityError     no free call slot in this process
     ├─ ConfigError           a configuration value is wrong (carries ``field``)
     ├─ MediaError            TTS, conversion, playback, recording
     └─ VirtualTimeStuck      the test kit's virtual clock cannot move (also an AssertionError)

This module imports nothing from voxpy, so every layer may import it.
"""

from __future__ import annotations


class VoxpyError(Exception):
    """Base class of every error voxpy raises on purpose."""


class ScenarioError(VoxpyError):
    """The scenario file cannot be loaded or its top-level code failed.

    ``path`` and ``line`` say where, when known.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = f"{path}:{line}: " if path and line else f"{path}: " if path else ""
        super().__init__(f"{where}{message}")
        self.path = path
        self.line = line


class InvalidStateError(VoxpyError):
    """A call or session method was used in a state where it makes no sense; nothing changed."""


class InvalidArgumentError(VoxpyError, ValueError):
    """An argument is malformed (a header name the stack owns, a status code out of range)."""


class BackendError(VoxpyError):
    """The SIP/media backend failed to carry out an operation."""

    def __init__(self, message: str, *, op: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.op = op
        self.status = status


class CapacityError(BackendError):
    """No free call slot: this process already holds its maximum number of legs."""


class ConfigError(VoxpyError):
    """A configuration value is invalid; ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class MediaError(VoxpyError):
    """TTS, media conversion, playback or recording failed."""


class VirtualTimeStuck(VoxpyError, AssertionError):
    """The test kit's virtual clock cannot move on: scenario tasks still await real I/O after
    the harness's real-time limit. An AssertionError too, as a test's failure. ``blocked``
    names the tasks and what they await."""

    def __init__(self, message: str, *, blocked: str = "") -> None:
        super().__init__(message)
        self.blocked = blocked
