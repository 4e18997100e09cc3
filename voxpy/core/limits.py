"""Limits of the pjsua2-python wheel that every backend honours, so memory and SIP agree."""

from __future__ import annotations

MAX_CALLS = 4
"PJSUA_MAX_CALLS of the wheel: a compile-time cap, incoming and outgoing together."
