"""The side of a :class:`~voxpy.runtime.call.Call` that media units see (issue 14): a unit
(conference, player) makes the call hear a mix, and knows whether its mix is still the one
the call hears (a ``say`` or another unit replaces it: one incoming stream per call).

A base class of the Call with its own state (the media part it is given), as
:mod:`~voxpy.runtime.call_audio` is.
"""

from __future__ import annotations

from voxpy.runtime.media import Media


class UnitTarget:
    """``hear_mix``/``stop_mix``/``mix_owner`` over the leg's media part (engine side)."""

    def __init__(self, media: Media) -> None:
        self._unit_media = media

    def hear_mix(self, owner: object, sources: tuple[str, ...]) -> None:
        """``owner`` feeds the call the mix of ``sources`` (replacing what it heard);
        InvalidStateError, with nothing changed, when the call carries no audio."""
        self._unit_media.hear_mix(owner, sources)

    def stop_mix(self, owner: object) -> None:
        """``owner`` stops feeding the call (silence), unless something replaced it already."""
        self._unit_media.stop_mix(owner)

    @property
    def mix_owner(self) -> object | None:
        """The unit whose mix the call hears now, or None."""
        return self._unit_media.mix_owner
