"""The session's ``add_event_listener``, typed: each AppEvents member names its event class,
so an IDE completes ``e.call`` in a CallAlerting handler and mypy checks the handler.

Apart from :mod:`voxpy.runtime.session` to keep that module to the session's own work. The
session can be typed this way because it sits above the event classes; the Call cannot
(the event classes name the Call, so overloads naming them on the Call would close an
import cycle for type checkers - see README, Architecture).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, overload

from voxpy.core.events import AppEvents
from voxpy.runtime.dispatch import Emitter
from voxpy.runtime.events import (
    CallAlerting,
    HandlerError,
    HttpRequest,
    Started,
    Terminated,
    Terminating,
)


class AppListeners(Emitter):
    """``VoxEngine.add_event_listener`` with one overload per AppEvents member (its enum
    member or its string value)."""

    @overload
    def add_event_listener(
        self,
        event: Literal[AppEvents.Started, "Application.Started"],
        handler: Callable[[Started], object],
    ) -> None: ...
    @overload
    def add_event_listener(
        self,
        event: Literal[AppEvents.CallAlerting, "Application.CallAlerting"],
        handler: Callable[[CallAlerting], object],
    ) -> None: ...
    @overload
    def add_event_listener(
        self,
        event: Literal[AppEvents.HttpRequest, "Application.HttpRequest"],
        handler: Callable[[HttpRequest], object],
    ) -> None: ...
    @overload
    def add_event_listener(
        self,
        event: Literal[AppEvents.Terminating, "Application.Terminating"],
        handler: Callable[[Terminating], object],
    ) -> None: ...
    @overload
    def add_event_listener(
        self,
        event: Literal[AppEvents.Terminated, "Application.Terminated"],
        handler: Callable[[Terminated], object],
    ) -> None: ...
    @overload
    def add_event_listener(
        self,
        event: Literal[AppEvents.HandlerError, "Application.HandlerError"],
        handler: Callable[[HandlerError], object],
    ) -> None: ...
    def add_event_listener(self, event: str, handler: Callable[..., Any]) -> None:
        """Run ``handler(e)`` each time ``event`` fires (VoxEngine ``addEventListener``).
        ``event`` is an AppEvents member or its string value; anything else raises
        InvalidArgumentError naming the right enum."""
        self.listen(event, handler)
