"""``Playback``: the awaitable handle ``say``/``start_playback``/``play_progress_tone`` return."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Generator
from typing import Any


class Playback:
    """What ``say``/``start_playback`` return. ``await`` it for the PlaybackFinished event
    (its ``error`` says whether it failed), or None if it was stopped, replaced or the call
    ended first."""

    def __init__(self, text: str | None, source: str | None) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.text = text
        self.source = source
        self.sent = False
        # Any, not PlaybackFinished: the event classes name the Call, which owns the media
        # part that makes this handle; naming them here would close an import cycle.
        self._done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def __await__(self) -> Generator[Any, None, Any]:
        # A generator, not the shield's own iterator: the awaiting task's innermost frame is
        # then this one, which is how the test kit tells an engine wait from real I/O.
        return (yield from asyncio.shield(self._done).__await__())

    @property
    def done(self) -> bool:
        return self._done.done()

    def resolve(self, event: Any) -> None:
        """Finish the handle with the PlaybackFinished event, or None (stopped, replaced)."""
        if not self._done.done():
            self._done.set_result(event)
