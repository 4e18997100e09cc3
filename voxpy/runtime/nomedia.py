"""The media library of an engine (or scenario probe) built without one.

Its own module so that both ``engine`` and ``scenario`` can use it without importing each
other (they used to, with an import inside a function to hide the cycle).
"""

from __future__ import annotations

from voxpy.core.ports import PreparedMedia
from voxpy.errors import MediaError


class NoMedia:
    """The media library of an engine built without one: every request fails clearly."""

    async def speech(
        self, text: str, language: str, voice: str | None, rate: float | None
    ) -> PreparedMedia:
        raise MediaError("this engine has no media library (pass media= to Engine)")

    async def media(self, source: str) -> PreparedMedia:
        raise MediaError("this engine has no media library (pass media= to Engine)")

    async def progress_tone(self, country: str) -> PreparedMedia:
        raise MediaError("this engine has no media library (pass media= to Engine)")

    def recording_path(self, name: str) -> str:
        raise MediaError("this engine has no media library (pass media= to Engine)")
