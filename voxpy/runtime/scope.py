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


engine_io: contextvars.ContextVar[bool] = contextvars.ContextVar("voxpy_engine_io", default=False)
"""True in tasks the engine runs against the outside world by design and for as long as it
lasts (a WebSocket's connection): they are nobody's await, so the test kit's virtual clock does
not wait for them (:mod:`voxpy.testing.realwait`). Scenario code never runs with it set."""


def engine_io_context() -> contextvars.Context:
    """A copy of the current context with :data:`engine_io` set: create such tasks in it."""
    context = contextvars.copy_context()
    context.run(engine_io.set, True)
    return context


@contextmanager
def session_scope(session: Any, call_id: str | None = None) -> Iterator[None]:
    """Make ``session`` current and bind its ids into structlog's context for user code."""
    token = current_session.set(session)
    io_token = engine_io.set(False)  # a handler run from a socket's task is scenario code
    ids: dict[str, Any] = {"session_id": session.id}
    if call_id is not None:
        ids["call_id"] = call_id
    log_tokens = structlog.contextvars.bind_contextvars(**ids)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**log_tokens)
        engine_io.reset(io_token)
        current_session.reset(token)
