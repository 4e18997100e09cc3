"""Structured logging for voxpy: structlog to one stream, JSON or console, stdlib routed in.

Call :func:`configure_logging` once at start-up (again to reconfigure); get loggers with
:func:`get_logger` anywhere, even at import time - they resolve the configuration lazily.
Bind ``session_id`` / ``call_id`` with :func:`structlog.contextvars.bind_contextvars`; every
line logged in that context (structlog or stdlib) carries them.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO, cast

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from voxpy.errors import ConfigError

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
FORMATS = ("auto", "json", "console")


class _VoxpyHandler(logging.StreamHandler[TextIO]):
    """The root handler we install; a reconfigure replaces it and leaves others alone."""


class _NamedWriteLogger(structlog.WriteLogger):
    """A WriteLogger that remembers the name given to :func:`get_logger`."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


def _add_logger_name(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    name = getattr(logger, "name", None)
    if name:
        event_dict.setdefault("logger", name)
    return event_dict


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, OSError, ValueError):  # closed or file-like without a terminal
        return False


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Configure structlog and the stdlib root logger to write to ``stream`` (default stderr).

    ``level``: debug | info | warning | error (any case). ``fmt``: ``json`` (one JSON object
    per line), ``console`` (human-readable), or ``auto`` (JSON unless ``stream`` is a TTY).
    Raises :class:`~voxpy.errors.ConfigError` for an unknown level or format.
    """
    out = sys.stderr if stream is None else stream
    threshold = LEVELS.get(level.strip().lower())
    if threshold is None:
        raise ConfigError(
            f"unknown level {level!r}, expected one of {', '.join(LEVELS)}", field="log.level"
        )
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise ConfigError(
            f"unknown format {fmt!r}, expected one of {', '.join(FORMATS)}", field="log.format"
        )
    as_json = not renders_console(fmt, out)

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    render: list[Processor]
    if as_json:
        tracebacks = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)  # no secrets
        render = [
            structlog.processors.ExceptionRenderer(tracebacks),
            structlog.processors.JSONRenderer(),
        ]
    else:
        render = [structlog.dev.ConsoleRenderer(colors=_is_tty(out))]

    structlog.configure(
        processors=[*shared, _add_logger_name, structlog.processors.StackInfoRenderer(), *render],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=lambda *args: _NamedWriteLogger(out, str(args[0]) if args else ""),
        context_class=dict,
        cache_logger_on_first_use=False,  # module-level loggers must follow a reconfigure
    )

    handler = _VoxpyHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _VoxpyHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)


def renders_console(fmt: str, stream: TextIO | None = None) -> bool:
    """Whether ``fmt`` means readable text rather than JSON lines on ``stream`` (stderr)."""
    fmt = fmt.strip().lower()
    return fmt == "console" or (fmt == "auto" and _is_tty(sys.stderr if stream is None else stream))


def get_logger(name: str) -> FilteringBoundLogger:
    """A lazy structlog logger (usable before :func:`configure_logging`); lines carry ``logger``."""
    return cast(FilteringBoundLogger, structlog.get_logger(name))
