"""WebSocket media streams, sans-I/O (issue 12): VoxEngine's and Twilio's protocols.

Text frames and PCM in, text frames, typed events and 20 ms frames out; the socket, the
pjsua2 port and the clock belong to the layers above. See :mod:`.stream` for the shape.
"""

from voxpy.core.wsmedia.dialects import DIALECTS, open_stream
from voxpy.core.wsmedia.events import (
    ClearReceived,
    MalformedMessage,
    MarkReceived,
    MediaReceived,
    MediaStartReceived,
    MediaStopReceived,
    Outgoing,
    Output,
    StreamEvent,
    UnknownEvent,
)
from voxpy.core.wsmedia.playout import Playout, PlayoutQueue
from voxpy.core.wsmedia.sendqueue import SendQueue
from voxpy.core.wsmedia.stream import MediaStream, StreamConfig
from voxpy.core.wsmedia.twilio import TwilioStream
from voxpy.core.wsmedia.voxengine import VoxEngineStream

__all__ = [
    "DIALECTS",
    "ClearReceived",
    "MalformedMessage",
    "MarkReceived",
    "MediaReceived",
    "MediaStartReceived",
    "MediaStopReceived",
    "MediaStream",
    "Outgoing",
    "Output",
    "Playout",
    "PlayoutQueue",
    "SendQueue",
    "StreamConfig",
    "StreamEvent",
    "TwilioStream",
    "UnknownEvent",
    "VoxEngineStream",
    "open_stream",
]
