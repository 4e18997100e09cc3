"""WebSocket media streams, sans-I/O (issue 12): VoxEngine's and Twilio's protocols.

Text frames and PCM in, text frames, typed events and 20 ms frames out; the socket, the
pjsua2 port and the clock belong to the layers above. See :mod:`.stream` for the shape.
"""

from voxpy.core.wsmedia.events import Outgoing, Output
from voxpy.core.wsmedia.playout import Playout, PlayoutQueue
from voxpy.core.wsmedia.sendqueue import SendQueue

__all__ = ["Outgoing", "Output", "Playout", "PlayoutQueue", "SendQueue"]
