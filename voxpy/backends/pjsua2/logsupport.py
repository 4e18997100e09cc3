"""One logger shape for the backend: structlog style, ``log.debug("event", key=value)``.

Callers may pass a structlog logger (used as is) or a stdlib ``logging.Logger``, which gets an
adapter that folds the keyword fields into the message.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import structlog


class Logger(Protocol):
    """The subset of structlog's BoundLogger the backend uses."""

    def debug(self, event: str, /, **kw: Any) -> Any: ...
    def info(self, event: str, /, **kw: Any) -> Any: ...
    def warning(self, event: str, /, **kw: Any) -> Any: ...
    def error(self, event: str, /, **kw: Any) -> Any: ...
    def exception(self, event: str, /, **kw: Any) -> Any: ...


class StdlibAdapter:
    """Lets a ``logging.Logger`` take structlog-style calls."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        self._logger = logger

    def _log(self, level: int, event: str, kw: dict[str, Any], exc_info: bool = False) -> None:
        fields = " ".join(f"{k}={v!r}" for k, v in kw.items())
        self._logger.log(level, "%s %s" if fields else "%s%s", event, fields, exc_info=exc_info)

    def debug(self, event: str, /, **kw: Any) -> None:
        self._log(logging.DEBUG, event, kw)

    def info(self, event: str, /, **kw: Any) -> None:
        self._log(logging.INFO, event, kw)

    def warning(self, event: str, /, **kw: Any) -> None:
        self._log(logging.WARNING, event, kw)

    def error(self, event: str, /, **kw: Any) -> None:
        self._log(logging.ERROR, event, kw)

    def exception(self, event: str, /, **kw: Any) -> None:
        self._log(logging.ERROR, event, kw, exc_info=True)


def as_logger(logger: Any, name: str = "voxpy.pjsua2") -> Logger:
    """Normalise the ``logger`` argument of the backends."""
    if logger is None:
        result: Logger = structlog.get_logger(name)
        return result
    if isinstance(logger, logging.Logger | logging.LoggerAdapter):
        return StdlibAdapter(logger)
    return logger  # type: ignore[no-any-return]
