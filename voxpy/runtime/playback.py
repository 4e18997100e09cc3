"""``Playback``: the awaitable handle ``say``/``start_playback`` return."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from voxpy.runtime.events import PlaybackFinished

if TYPE_CHECKING:
    from voxpy.runtime.media import CallMedia


class Playback:
    """What ``say``/``start_playback`` return. ``await`` it for the PlaybackFinished event
    (its ``error`` says whether it failed), or None if it was stopped, replaced or the call
    ended first."""

    def __init__(self, call: CallMedia, text: str | None, source: str | None) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.call = call
        self.text = text
        self.source = source
        self.sent = False
        self._done: asyncio.Future[PlaybackFinished | None] = (
            asyncio.get_running_loop().create_future()
        )

    def __await__(self) -> Generator[Any, None, PlaybackFinished | None]:
        return asyncio.shield(self._done).__await__()

    @property
    def done(self) -> bool:
        return self._done.done()

    def _resolve(self, event: PlaybackFinished | None) -> None:
        if not self._done.done():
            self._done.set_result(event)
