"""VoxEngine's media stream format (Voximplant.WebSocketFormat), both ways.

Out: ``start`` {mediaFormat {encoding, sampleRate}, tag, customParameters}, ``media`` {tag,
chunk, timestamp (ms since start), payload}, ``stop`` {tag, mediaInfo {duration (s)}}, each
with an integer ``sequenceNumber`` counted from 0. DTMF and mark echoes are voxpy's additions
in the same shape (``dtmf`` {tag, digit}, ``mark`` {tag, name}): VoxEngine has no DTMF on the
socket, and issue 12 asks for one.

In: the same ``start`` (optional; its mediaFormat.encoding, when given, is how the bot's audio
is encoded from then on, else the stream's own), ``media`` {payload}, ``stop``, and Twilio's
``mark`` and ``clear`` (a bot may want them here too; they cost nothing).
"""

from __future__ import annotations

from typing import Any

from voxpy.core.audio import Decoder, Encoding
from voxpy.core.wsmedia.events import MediaStartReceived, MediaStopReceived, Output
from voxpy.core.wsmedia.stream import BadMessage, Json, MediaStream, StreamConfig, field_of
from voxpy.errors import InvalidArgumentError


class VoxEngineStream(MediaStream):
    """The VoxEngine dialect, in the encoding of ``config.encoding``."""

    dialect = "voxengine"

    def __init__(self, config: StreamConfig) -> None:
        super().__init__(config)
        self._handlers["start"] = self._on_start
        self._handlers["stop"] = self._on_stop

    def envelope(self, event: str, body: Json | None) -> Json:
        message: Json = {"event": event, "sequenceNumber": self.sequence_number - 1}
        if body is not None:
            message[event] = body
        return message

    def _tagged(self, body: Json) -> Json:
        return {"tag": self.config.tag, **body} if self.config.tag is not None else body

    def start_body(self) -> Json:
        body: Json = {
            "mediaFormat": {
                "encoding": self.encoding.value,
                "sampleRate": self.encoding.sample_rate,
            },
            "customParameters": dict(self.config.custom_parameters),
        }
        return self._tagged(body)

    def media_body(self, payload: str, chunk: int, timestamp: int) -> Json:
        return self._tagged({"chunk": chunk, "timestamp": timestamp, "payload": payload})

    def dtmf_body(self, digit: str) -> Json:
        return self._tagged({"digit": digit})

    def stop_body(self) -> Json:
        return self._tagged({"mediaInfo": {"duration": self.duration_ms / 1000}})

    def mark_body(self, name: str) -> Json:
        return self._tagged({"name": name})

    def _on_start(self, message: Json, text: str) -> Output:
        start = field_of(message, "start", dict)
        encoding = self.encoding
        if "mediaFormat" in start:
            media_format = field_of(start, "mediaFormat", dict, "start")
            if "encoding" in media_format:
                name = field_of(media_format, "encoding", str, "start.mediaFormat")
                try:
                    encoding = Encoding.parse(name)
                except InvalidArgumentError as e:
                    raise BadMessage(str(e)) from None
        params: dict[str, Any] = {}
        if "customParameters" in start:
            params = field_of(start, "customParameters", dict, "start")
        tag = _optional_tag(start, "start")
        # A new stream from the bot: a fresh decoder, so no resampler phase carries over.
        self._decoder = Decoder(encoding, self.config.rate)
        started = MediaStartReceived(
            tag=tag, encoding=encoding, custom_parameters={k: str(v) for k, v in params.items()}
        )
        return Output(events=(started,))

    def _on_stop(self, message: Json, text: str) -> Output:
        stop = message.get("stop")
        tag = _optional_tag(stop, "stop") if isinstance(stop, dict) else None
        return Output(events=(MediaStopReceived(tag=tag),))


def _optional_tag(body: Json, where: str) -> str | None:
    if body.get("tag") is None:
        return None
    return str(field_of(body, "tag", str, where))
