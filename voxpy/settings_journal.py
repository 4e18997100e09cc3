"""The ``[journal]`` settings section (issue 16), apart from :mod:`voxpy.settings` so that
module stays under 400 lines; :class:`voxpy.settings.Settings` includes it as ``journal``."""

from __future__ import annotations

from pydantic import Field

from voxpy.core.journal import JournalLimits
from voxpy.settings_base import OptionalStr, Section


class JournalSettings(Section):
    """Session journals: each session's SIP messages, media actions and events, bounded,
    drawn by ``voxpy flow`` and the API's ``/sessions/{id}/flow.svg``."""

    enabled: bool = True
    "Keep journals in memory (the API and the test kit read them)."
    dir: OptionalStr = None
    "Also write each finished session's journal to DIR/<session_id>.jsonl."
    max_entries: int = Field(default=2000, ge=10, le=1_000_000)
    max_bytes: int = Field(default=512 * 1024, ge=4096, le=64 * 1024 * 1024)
    keep: int = Field(default=100, ge=0, le=100_000)
    "Finished sessions' journals kept in memory per worker; older ones are read from dir."
    keep_bytes: int = Field(default=4 * 1024 * 1024, ge=0, le=1024 * 1024 * 1024)
    "... and at most this many bytes of them (their JSON lines) per worker."

    def limits(self) -> JournalLimits:
        return JournalLimits(max_entries=self.max_entries, max_bytes=self.max_bytes)
