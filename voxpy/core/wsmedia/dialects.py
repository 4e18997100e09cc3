"""The dialects by name, as ``VoxEngine.create_websocket(..., dialect=...)`` names them."""

from __future__ import annotations

from voxpy.core.wsmedia.stream import MediaStream, StreamConfig
from voxpy.core.wsmedia.twilio import TwilioStream
from voxpy.core.wsmedia.voxengine import VoxEngineStream
from voxpy.errors import InvalidArgumentError

DIALECTS: dict[str, type[MediaStream]] = {
    VoxEngineStream.dialect: VoxEngineStream,
    TwilioStream.dialect: TwilioStream,
}


def open_stream(dialect: str, config: StreamConfig) -> MediaStream:
    """A fresh media stream of ``dialect`` ("voxengine" or "twilio")."""
    try:
        cls = DIALECTS[dialect]
    except KeyError:
        known = ", ".join(sorted(DIALECTS))
        raise InvalidArgumentError(f"unknown dialect {dialect!r} (known: {known})") from None
    return cls(config)
