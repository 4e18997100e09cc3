"""The SIP peer's protocol: one compact JSON object per line, both ways.

Shared by the peer process (:mod:`voxpy.backends.pjsua2.peer`) and its parent
(:mod:`voxpy.backends.process`), so the framing and the control words have one owner. This
module must not import pjsua2: the parent never loads it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

READY = "Ready"
'First line of the peer: ``{"type": "Ready", "contact_uri": ...}``.'
ERROR = "Error"
'The peer could not start or read a line: ``{"type": "Error", "message": ...}``.'
STOP_ACCEPTING = "StopAccepting"
"Parent to peer: answer new INVITEs with 503 from now on."
BYTES_KEY = "$b64"
'How a ``bytes`` field (PCM of FeedAudio/AudioFrames) crosses: ``{"$b64": "<base64>"}``.'


def _default(value: object) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {BYTES_KEY: base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _object_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and isinstance(obj.get(BYTES_KEY), str):
        try:
            return base64.b64decode(obj[BYTES_KEY], validate=True)
        except ValueError:
            raise ValueError("invalid base64 in a bytes field") from None
    return obj


def encode_line(payload: dict[str, Any]) -> bytes:
    """``payload`` as one line (compact JSON, newline-terminated)."""
    return json.dumps(payload, separators=(",", ":"), default=_default).encode() + b"\n"


def decode_line(line: str | bytes) -> dict[str, Any]:
    """The JSON object on ``line``; ValueError with a message for anything else."""
    try:
        data = json.loads(line, object_hook=_object_hook)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data
