"""Twilio Media Streams, bidirectional (``<Connect><Stream>``), so a Twilio bot works unchanged.

Out: ``connected``, then ``start`` {streamSid, accountSid, callSid, tracks, customParameters,
mediaFormat audio/x-mulaw 8000 Hz mono}, ``media`` {track "inbound", chunk, timestamp,
payload}, ``dtmf`` {track "inbound_track", digit}, ``mark`` echoes, ``stop``. Numbers travel as
strings and every message after ``connected`` carries ``sequenceNumber`` and ``streamSid``, as
Twilio sends them. In: ``media`` {payload}, ``mark`` {name}, ``clear``; the ``streamSid`` a bot
puts on them is not checked (one stream per socket, so there is nothing to route).
"""

from __future__ import annotations

from voxpy.core.audio import Encoding
from voxpy.core.wsmedia.stream import Json, MediaStream, StreamConfig

PROTOCOL_VERSION = "1.0.0"


class TwilioStream(MediaStream):
    """The Twilio dialect: mu-law at 8 kHz whatever the config asks."""

    dialect = "twilio"

    def wire_encoding(self, config: StreamConfig) -> Encoding:
        return Encoding.ULAW

    def preamble(self) -> list[Json]:
        return [{"event": "connected", "protocol": "Call", "version": PROTOCOL_VERSION}]

    def envelope(self, event: str, body: Json | None) -> Json:
        message: Json = {"event": event, "sequenceNumber": str(self.sequence_number)}
        if body is not None:
            message[event] = body
        message["streamSid"] = self.config.stream_id
        return message

    def start_body(self) -> Json:
        c = self.config
        return {
            "accountSid": c.account_id,
            "streamSid": c.stream_id,
            "callSid": c.call_id,
            "tracks": ["inbound"],
            "customParameters": dict(c.custom_parameters),
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        }

    def media_body(self, payload: str, chunk: int, timestamp: int) -> Json:
        return {
            "track": "inbound",
            "chunk": str(chunk),
            "timestamp": str(timestamp),
            "payload": payload,
        }

    def dtmf_body(self, digit: str) -> Json:
        return {"track": "inbound_track", "digit": digit}

    def stop_body(self) -> Json:
        return {"accountSid": self.config.account_id, "callSid": self.config.call_id}

    def mark_body(self, name: str) -> Json:
        return {"name": name}
