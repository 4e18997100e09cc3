"""The listener half of a :class:`~voxpy.runtime.call.Call`: VoxEngine's ``addEventListener``
family over an :class:`~voxpy.runtime.dispatch.Emitter` that takes CallEvents only.

A base class of the Call, apart so that the facade module keeps to its methods; it knows
nothing of the leg's parts (it is given a callback that hears when a handler was added:
quality events start the statistics polling).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from voxpy.runtime.dispatch import Emitter


class Listening:
    """Register, remove and list a media unit's event handlers. It owns its state: the
    emitter it is built with, and whom to tell when a handler was added."""

    def __init__(self, events: Emitter, on_listen: Callable[[str], None] | None = None) -> None:
        self._events = events
        self._on_listen = on_listen or (lambda _name: None)

    def add_event_listener(self, event: str, handler: Callable[..., Any]) -> None:
        """Run ``handler(e)`` each time ``event`` fires (VoxEngine ``addEventListener``).
        ``event`` is a CallEvents member, or its string value; anything else raises
        InvalidArgumentError naming the right enum."""
        self._events.listen(event, handler)
        self._on_listen(self._events.event_name(event))

    def remove_event_listener(self, event: str, handler: Callable[..., Any] | None = None) -> None:
        """Remove ``handler`` for ``event``, or every handler of it when ``handler`` is None."""
        self._events.remove_event_listener(event, handler)

    def on(self, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``add_event_listener`` under pyee's name; returns ``handler``."""
        self.add_event_listener(event, handler)
        return handler

    def once(self, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Run ``handler(e)`` the next time ``event`` fires, then forget it."""
        self._events.once(self._events.event_name(event), handler)
        self._on_listen(self._events.event_name(event))
        return handler

    def listeners(self, event: str) -> list[Callable[..., Any]]:
        return self._events.listeners(self._events.event_name(event))

    def forget_listeners(self) -> None:
        """Drop every handler (the session has ended)."""
        self._events.remove_all_listeners()
