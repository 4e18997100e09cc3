"""The caller's audio on its way to the bot: a bounded send queue.

A server that stops reading makes the socket's send block; the writer then stops draining this
queue while the media clock keeps filling it. So it is bounded: past ``max_media`` frames the
oldest media frame is dropped (stale audio is worth less than fresh), control messages (start,
dtmf, mark echoes, stop) are kept, in order, up to their own bound. Pure: the I/O layer pushes
each step's Output and pops what it can write; :meth:`SendQueue.push` tells it when to log the
one warning a stream gets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from voxpy.core.wsmedia.events import Outgoing
from voxpy.errors import InvalidArgumentError

DEFAULT_MAX_MEDIA = 250
"5 s of 20 ms frames: a slow reader catches up, a dead one costs at most ~270 kB (PCM16)"
DEFAULT_MAX_CONTROL = 256
"control messages are few (one per DTMF digit or mark); the bound is only against abuse"


class SendQueue:
    """Outgoing text frames, oldest first, with media dropped oldest-first past the bound."""

    def __init__(
        self, *, max_media: int = DEFAULT_MAX_MEDIA, max_control: int = DEFAULT_MAX_CONTROL
    ) -> None:
        if max_media < 1 or max_control < 1:
            raise InvalidArgumentError("send queue bounds must be at least 1")
        self.max_media, self.max_control = max_media, max_control
        self._items: deque[Outgoing] = deque()
        self._media = 0
        self.dropped = 0
        "messages dropped since the stream began (media and, under abuse, control)"
        self.warned = False
        "set by the first drop: the I/O layer's one warning for this stream"

    def __len__(self) -> int:
        return len(self._items)

    @property
    def media_queued(self) -> int:
        return self._media

    def push(self, message: Outgoing) -> bool:
        """Queue ``message``; True only when this is the stream's first drop (log it then)."""
        self._items.append(message)
        if message.media:
            self._media += 1
            over = self._media > self.max_media
        else:
            over = len(self._items) - self._media > self.max_control
        if not over:
            return False
        self._drop_oldest(media=message.media)
        first = not self.warned
        self.warned = True
        return first

    def extend(self, messages: Iterable[Outgoing]) -> bool:
        """Push each; True when one of them was the stream's first drop."""
        first = False
        for message in messages:
            first = self.push(message) or first
        return first

    def pop(self) -> str | None:
        """The oldest text to write, or None when empty."""
        if not self._items:
            return None
        item = self._items.popleft()
        if item.media:
            self._media -= 1
        return item.text

    def clear(self) -> int:
        """Forget everything queued (the socket closed); how many were forgotten."""
        n = len(self._items)
        self._items.clear()
        self._media = 0
        return n

    def _drop_oldest(self, *, media: bool) -> None:
        # The oldest of the kind is near the front: control messages are rare between media.
        for i, item in enumerate(self._items):
            if item.media == media:
                del self._items[i]
                break
        if media:
            self._media -= 1
        self.dropped += 1
