"""``Call``: one SIP leg as a scenario sees it (VoxEngine's Call, snake_case names).

``Call`` is a facade: VoxEngine's method names over parts it owns, each built with the leg's
:class:`~voxpy.runtime.leg.LegContext` - its life (:mod:`~voxpy.runtime.lifecycle`: the core's
call machine decides, this part carries the decisions out), media, tones, signalling and
quality, streams, hearing. The part interface, and how new units plug in, are in
:mod:`voxpy.runtime.leg`. Four API pieces - the identity getters
(:mod:`~voxpy.runtime.call_info`), the listener methods every media unit has
(:mod:`~voxpy.runtime.listening`), in-process audio (:mod:`~voxpy.runtime.call_audio`) and
the detectors and ``gather`` (:mod:`~voxpy.runtime.call_hearing`) - are base classes with
their own state and initialiser (the parts they are given); none reads the Call's.

Methods check the state first (misuse raises InvalidStateError and changes nothing), then hand
a command to the backend. Backend signals come back through :meth:`Call.receive`, which looks
the signal's type up in one routing table merged from the parts' routes.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from typing import Any

from structlog.typing import FilteringBoundLogger

from voxpy.core.events import AppEvents, ASREvents, CallEvents, WebSocketEvents
from voxpy.core.headers import Headers, outgoing_headers
from voxpy.core.signals import Signal
from voxpy.core.state import CallMachine
from voxpy.errors import InvalidStateError
from voxpy.runtime import args
from voxpy.runtime.args import options
from voxpy.runtime.call_audio import CallAudio
from voxpy.runtime.call_hearing import CallHearing
from voxpy.runtime.call_info import CallInfo
from voxpy.runtime.dispatch import Emitter
from voxpy.runtime.hearing import Hearing
from voxpy.runtime.leg import LegContext, LegHost, merge_routes
from voxpy.runtime.lifecycle import Lifecycle
from voxpy.runtime.listening import Listening
from voxpy.runtime.media import Media
from voxpy.runtime.playback import Playback
from voxpy.runtime.quality import QUALITY_EVENTS, Quality
from voxpy.runtime.recognition import ASR
from voxpy.runtime.signalling import Signalling
from voxpy.runtime.streams import LegAudio, Streams
from voxpy.runtime.tones import Tones
from voxpy.runtime.unit_base import MediaUnit
from voxpy.runtime.unit_target import UnitTarget
from voxpy.runtime.websocket import WebSocket


class Call(Listening, CallInfo, CallAudio, CallHearing, UnitTarget):
    """A call leg. Create legs with ``VoxEngine.call_sip``; inbound legs arrive in CallAlerting."""

    def __init__(
        self,
        host: LegHost,
        call_id: str,
        machine: CallMachine,
        *,
        callerid: str,
        number: str,
        display_name: str = "",
        headers: Headers | None = None,
        from_uri: str = "",
    ) -> None:
        self._host = host
        self._id = call_id
        self._machine = machine
        self._log = host.log.bind(call_id=call_id)
        CallInfo.__init__(
            self,
            incoming=machine.incoming,
            callerid=callerid,
            number=number,
            display_name=display_name,
            headers=headers or Headers(),
            from_uri=from_uri,
        )
        events = Emitter(
            lambda: host.scope(call_id),
            host.on_error,
            host.track,
            accepts=CallEvents,
            refuses=(AppEvents, WebSocketEvents, ASREvents),
        )
        Listening.__init__(self, events, self._listening)
        ctx = LegContext.of(host, call_id, machine, fire=self._fire, log=self._log)
        self._streams = Streams(ctx)
        CallAudio.__init__(self, self._streams)
        self._media = Media(ctx, host.media, host.session_id, self._streams.displaced)
        self._streams.yield_source = self._media.yield_source
        UnitTarget.__init__(self, self._media)
        self._tones = Tones(ctx, self._streams.dtmf)
        self._hearing = Hearing(ctx, lambda rate: LegAudio(self._streams, rate, "hear"),
                                self._tones.heard)  # fmt: skip
        self._tones.on_inband = self._hearing.inband_dtmf
        CallHearing.__init__(self, self._hearing, self._tones, self._media.stop_playback,
                             host.make_asr, self.listen)  # fmt: skip
        self._signalling = Signalling(ctx)
        self._quality = Quality(ctx, host.thresholds, self._quality_wanted)
        parts = (self._media, self._tones, self._signalling, self._quality, self._streams,
                 self._hearing)  # fmt: skip
        self._life = Lifecycle(ctx, parts, lambda: host.ended(self))
        self._routes = merge_routes(self._life, *parts)
        "Every signal a leg handles, by exact type, to the one part that owns it."

    # -- events: add_event_listener, on, once, ... (voxpy.runtime.listening) -----------------

    def _listening(self, event: str) -> None:
        if event in QUALITY_EVENTS:
            self._quality.start_polling()  # quality events need the leg's statistics

    def _quality_wanted(self) -> bool:
        return any(self._events.listeners(str(name)) for name in QUALITY_EVENTS)

    # -- getters (VoxEngine: id(), state(), callerid(), ...) ---------------------------------

    def id(self) -> str:
        """This leg's id, unique in the process."""
        return self._id

    def state(self) -> str:
        """VoxEngine state: ALERTING, PROGRESSING, CONNECTED or TERMINATED."""
        return self._machine.vox_state

    def status(self) -> str:
        """Twilio's ``status()``: pending, connecting, ringing, open, reconnecting (connected,
        but no RTP from the far end for ``quality.rtp_timeout`` seconds: RtpStopped fired and
        RtpResumed has not) or closed."""
        return self._quality.status()

    def codec(self) -> str | None:
        """The negotiated audio codec ("PCMU", ...), known once the call is connected."""
        return self._quality.codec

    def is_muted(self) -> bool:
        return self._signalling.muted

    @property
    def live(self) -> bool:
        return self._machine.live

    @property
    def media_ready(self) -> bool:
        """Audio can be sent into the leg now (False once a hang-up is under way)."""
        return self._machine.media_ready

    # -- the leg's life ----------------------------------------------------------------------

    # VoxEngine passes extra headers positionally (answer(extraHeaders), reject(code,
    # extraHeaders), hangup(extraHeaders)): a dict there is read right, so it stays positional.

    @options
    def answer(self, headers: Mapping[str, str] | None = None) -> None:
        """Answer an inbound leg (200 OK); Connected fires when the caller's ACK arrives."""
        self._life.answer(outgoing_headers(args.headers("answer", headers)))

    @options
    def reject(
        self,
        code: int = 603,
        headers: Mapping[str, str] | None = None,
        *,
        contact: str | None = None,
    ) -> None:
        """Refuse an inbound leg with a final 4xx-6xx status, or redirect it with a 3xx to
        ``contact`` (``reject(302, contact="sip:desk@10.0.0.7")``); Disconnected fires with
        ``code``. A 3xx without a contact, or a contact with a 4xx-6xx, raises
        InvalidArgumentError."""
        self._life.reject(code, outgoing_headers(args.headers("reject", headers)), contact)

    @options
    def hangup(self, headers: Mapping[str, str] | None = None) -> None:
        """End the leg: BYE when connected, CANCEL (487) when dialling, 603 when still alerting."""
        self._life.hangup(outgoing_headers(args.headers("hangup", headers)))

    def ring(self) -> None:
        """Send 180 Ringing on an inbound leg."""
        self._life.ring()

    def start_early_media(self) -> None:
        """Send 183 Session Progress with SDP: audio flows before the answer."""
        self._life.start_early_media()

    # -- media (voxpy.runtime.media) ---------------------------------------------------------

    @options
    def say(
        self,
        text: str,
        *,
        language: str = "en",
        voice: str | None = None,
        rate: float | None = None,
    ) -> Playback:
        """Speak ``text`` into the call (offline TTS by default; see config ``media``).

        Text over 1500 characters plays nothing: PlaybackFinished fires with an error.
        """
        return self._media.say(text, language, voice, rate)

    @options
    def start_playback(self, url: str, *, loop: bool = False) -> Playback:
        """Play a WAV/MP3/OGG/FLAC file or http(s) URL into the call, once or in a loop."""
        return self._media.start_playback(url, args.flag("start_playback", "loop", loop))

    @options
    def play_progress_tone(self, country: str = "US") -> Playback:
        """Loop the country's ringback tone (US, EU, GB, ...) until something replaces it."""
        return self._media.play_progress_tone(
            args.text("play_progress_tone", "country", country, empty=False)
        )

    def stop_playback(self) -> None:
        """Stop what plays now; no PlaybackFinished fires (VoxEngine's rule)."""
        self._media.stop_playback()

    @options
    def record(
        self, *, stereo: bool = False, hd_audio: bool = False, name_prefix: str | None = None
    ) -> None:
        """Record the call to MP3 while it runs (8 kHz/32 kbps; hd_audio: 16 kHz/64 kbps).

        Stereo: what the engine sends on the left, what the caller sends on the right.
        ``name_prefix`` starts the file name: letters, digits, ``.``, ``_`` and ``-`` only.
        """
        self._media.record(stereo, hd_audio, name_prefix)

    def stop_recording(self) -> None:
        """Finish the recording now (it also finishes when the call ends)."""
        self._media.stop_recording()

    def send_media_to(
        self,
        other: Call | WebSocket | ASR | MediaUnit,
        *,
        encoding: str = "PCM8",
        tag: str | None = None,
        custom_parameters: Mapping[str, str] | None = None,
    ) -> None:
        """Send what the far end says into ``other``: a Call (one way; replaces its source), or a
        WebSocket as a media stream (PCM8, PCM16, ULAW or ALAW; Twilio's is always ULAW), or an
        ASR (``VoxEngine.create_asr``: it recognizes what the far end says), or a conference or
        recorder (they mix every call sent to them)."""
        if isinstance(other, MediaUnit):
            return other.receive_media_from(self)
        if isinstance(other, ASR):
            return other.listen_to(self.listen(16000))
        if isinstance(other, WebSocket):
            return self._streams.send_to(other, encoding, tag, custom_parameters)
        args.instances("send_media_to", Call, other)
        self._media.send_to(other._media)

    def stop_media_to(self, other: Call | WebSocket | ASR | MediaUnit) -> None:
        if isinstance(other, MediaUnit):
            return other.stop_receiving_media_from(self)
        if isinstance(other, ASR):
            return other.stop()
        if isinstance(other, WebSocket):
            return self._streams.stop_to(other)
        args.instances("stop_media_to", Call, other)
        self._media.stop_to(other._media)

    # -- DTMF (voxpy.runtime.tones) ----------------------------------------------------------

    @options
    def handle_tones(self, enabled: bool = True, *, dtmf_types: Any = None) -> None:
        """Fire ToneReceived for DTMF digits (off by default, as in VoxEngine): RFC 2833 and SIP
        INFO; ``dtmf_types`` DTMFType.IN_BAND or ALL (or a list) also hears tones in the audio."""
        self._tones.handle_tones(args.flag("handle_tones", "enabled", enabled), dtmf_types)

    def send_digits(self, digits: str) -> None:
        """Send DTMF (0-9 * # A-D); each ``w`` waits 500 ms (Twilio's convention)."""
        self._tones.send_digits(digits)

    # -- in-dialog signalling (voxpy.runtime.signalling) -------------------------------------

    @options
    def transfer_to(
        self,
        to: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        call: Call | None = None,
    ) -> None:
        """REFER the far end to ``to`` (blind: a sip:, sips: or tel: URI), or to ``call``'s far
        end (attended, with Replaces). TransferComplete or TransferFailed follows."""
        if call is not None:
            args.instances("transfer_to", Call, call)
        sent = outgoing_headers(args.headers("transfer_to", headers))
        self._signalling.transfer_to(to, sent, call.id() if call is not None else None)

    @options
    def handle_blind_transfer(self, enabled: bool = True) -> None:
        """Accept incoming REFERs as BlindTransferRequested (off: they are declined, 603)."""
        self._signalling.handle_blind_transfer(
            args.flag("handle_blind_transfer", "enabled", enabled)
        )

    def notify_blind_transfer_success(self) -> None:
        self._signalling.notify_transfer(200, "OK")

    @options
    def notify_blind_transfer_failed(self, code: int = 503, reason: str = "") -> None:
        self._signalling.notify_transfer(code, reason)

    @options
    def send_info(
        self, mime_type: str, body: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """SIP INFO in the dialog (VoxEngine's positional order: mime type, body, headers)."""
        self._signalling.send_info(
            mime_type, body, outgoing_headers(args.headers("send_info", headers))
        )

    @options
    def send_message(self, text: str, *, content_type: str = "text/plain") -> None:
        """SIP MESSAGE in the dialog; MessageSent fires when it gets its 2xx (Twilio)."""
        self._signalling.send_message(text, content_type)

    def hold(self) -> None:
        """Put the far end on hold (re-INVITE a=sendonly)."""
        self._signalling.hold(True)

    def unhold(self) -> None:
        """Take the far end off hold (re-INVITE a=sendrecv). Called right after hold(), the
        second re-INVITE goes out once the first transaction has completed."""
        self._signalling.hold(False)

    @options
    def mute(self, should_mute: bool = True) -> None:
        """Stop sending our audio into the call (the far end hears silence); Twilio's
        ``mute(False)`` is ``unmute()``."""
        self._signalling.mute(should_mute)

    def unmute(self) -> None:
        self._signalling.mute(False)

    # -- quality (voxpy.runtime.quality) -----------------------------------------------------

    @options
    def monitor_media_statistics(self, enabled: bool = True, *, interval: float = 1.0) -> None:
        """Fire MediaStatisticsReceived every ``interval`` seconds (a Twilio-shaped sample)."""
        self._quality.monitor(enabled, interval)

    # -- engine side -------------------------------------------------------------------------

    @property
    def log(self) -> FilteringBoundLogger:
        """This leg's logger (ids bound)."""
        return self._log

    @property
    def session_id(self) -> str:
        return self._host.session_id

    def end_quietly(self) -> None:
        """Hang up unless the leg is already ending (engine-internal: forwarding, terminate)."""
        with contextlib.suppress(InvalidStateError):
            self.hangup()

    def receive(self, signal: Signal) -> None:
        """Apply a backend signal (engine-internal) through the routing table."""
        handler = self._routes.get(type(signal))
        if handler is None:  # exact types: a new signal must be routed on purpose
            self._log.debug("signal_unrouted", signal=type(signal).__name__)
            return
        handler(signal)

    def _fire(self, name: CallEvents, /, **fields: Any) -> Any:
        """Dispatch the event ``name`` to this leg's handlers; returns the event object."""
        values = {k: v for k, v in fields.items() if v is not None}
        if name is CallEvents.Connected:  # what only the facade knows
            values["custom_data"] = self._custom_data
        elif name is CallEvents.Disconnected:
            values["direction"] = self.direction()
        event = self._host.build_event(name, self, values)
        shown = {
            f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name != "call"
        }
        self._log.info(
            "event", **{k: v for k, v in shown.items() if isinstance(v, str | int | float)}
        )
        self._host.observe(event)
        self._events.emit(str(name), event)
        return event

    def __repr__(self) -> str:
        direction = "inbound" if self.incoming() else "outbound"
        return f"<Call {self._id} {direction} {self.state()}>"
