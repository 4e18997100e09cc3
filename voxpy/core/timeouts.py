"""How long calls and sessions may wait (pure data; values come from config ``timeouts``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; see ``config/voxpy.toml``."""

    no_answer: float = 60.0
    dial: float = 60.0
    session_grace: float = 60.0
    terminate_wait: float = 4.0
    max_call_duration: float = 4 * 3600.0
    "A connected call gets BYE after this long (0: no limit)."
