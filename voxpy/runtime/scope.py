"""Which session's code runs now: what ``from voxpy import VoxEngine`` resolves to.

Scenario code (top level, handlers, timers) runs inside :func:`session_scope`, which also binds
the session's and leg's ids into structlog's context, so a scenario's own log lines carry them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

current_session: contextvars.ContextVar[Any] = contextvars.ContextVar("voxpy_session")
"""The running :class:`~voxpy.runtime.session.Session` (typed Any: naming the class here would
make the session and this module import each other)."""


@contextmanager
def session_scope(session: Any, call_id: str | None = None) -> Iterator[None]:
    """Make ``session`` current and bind its ids into structlog's context for user code."""
    token = current_session.set(session)
    ids: dict[str, Any] = {"session_id": session.id}
    if call_id is not None:
        ids["call_id"] = call_id
    log_tokens = structlog.contextvars.bind_contextvars(**ids)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**log_tokens)
        current_session.reset(token)
