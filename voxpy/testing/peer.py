"""The fake SIP peer's view of a call: what a test does as the remote party, and what it saw.

``PeerCall`` is written against the Backend port, so the same object drives the in-memory
network and the real pjsua2 peer process.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from voxpy.core import commands as cmd
from voxpy.core import testing_commands as tcmd
from voxpy.core.headers import Headers
from voxpy.core.ports import Backend
from voxpy.core.signals import (
    Answered,
    AudioFrames,
    AudioReport,
    DtmfReceived,
    Ended,
    IncomingCall,
    Progress,
    Signal,
)
from voxpy.media.convert import wav_duration

S = TypeVar("S", bound=Signal)


class PeerHost(Protocol):
    """What a PeerCall needs from its harness (ScenarioHarness), named here so that peer.py
    does not import harness.py, which imports it."""

    peer_backend: Backend

    def check_errors(self) -> None: ...

    def playbacks(self, call: PeerCall) -> list[Any]: ...

    def explain(self, call: PeerCall | None = None) -> str: ...

    async def wait_until(
        self, done: Callable[[], bool], timeout: float, what: str, call: PeerCall | None = None
    ) -> None: ...


class PeerCall:
    """One call at the fake peer: placed by it (``h.dial``) or received (``h.expect_call``)."""

    def __init__(self, harness: PeerHost, call_id: str, incoming: IncomingCall | None) -> None:
        self._h = harness
        self.id = call_id
        self.incoming = incoming
        "The engine's INVITE when the engine placed this call, else None."
        self.signals: list[Signal] = [incoming] if incoming else []
        self._plays = 0
        self._answer_sent = False
        self._voice_rate: int | None = None
        self._voice = bytearray()
        "audio send_audio has still to send (it paces long clips)"

    # -- what the peer does ------------------------------------------------------------------

    def answer(self, headers: Mapping[str, str] | None = None) -> None:
        """Answer a call the engine placed (200 OK)."""
        self._answer_sent = True
        self._send(cmd.Answer(call_id=self.id, headers=Headers(headers or {})))

    def reject(self, code: int = 486, headers: Mapping[str, str] | None = None) -> None:
        """Refuse a call the engine placed with any final status."""
        self._send(cmd.Reject(call_id=self.id, code=code, headers=Headers(headers or {})))

    def ring(self, code: int = 180) -> None:
        """Send 180 (or 183) on a call the engine placed."""
        self._send(cmd.Provisional(call_id=self.id, code=code))

    def hangup(self, headers: Mapping[str, str] | None = None) -> None:
        """BYE when connected; CANCEL while a call the peer placed still rings; 487 to a call
        the engine placed that the peer has not answered."""
        sent = Headers(headers or {})
        if self.answered or self._answer_sent:
            self._send(cmd.Bye(call_id=self.id, headers=sent))
        elif self.incoming is None:
            self._send(cmd.Cancel(call_id=self.id, headers=sent))
        else:
            self._send(cmd.Reject(call_id=self.id, code=487, headers=sent))

    def play(self, wav: str | Path, loop: bool = False) -> None:
        """Play a WAV file into the call, as the caller speaking (replaces what it played)."""
        path = Path(wav)
        duration = wav_duration(path)
        self._plays += 1
        self._voice_rate = None  # the playback replaces send_audio's stream
        self._voice = bytearray()
        self._send(
            cmd.Play(
                call_id=self.id,
                playback_id=f"{self.id}-play-{self._plays}",
                path=str(path.resolve()),
                loop=loop,
                duration=duration,
            )
        )

    def send_audio(self, pcm: bytes, sample_rate: int = 8000) -> None:
        """Speak raw audio into the call, as the caller: 16-bit little-endian mono PCM at
        ``sample_rate`` (8000 or 16000), played in real time after what was sent before (in
        memory mode at the virtual clock's pace). It replaces what the peer played.

        Audio of any length: a feed buffers 2 s (FEED_BUFFER_S) and drops the oldest beyond,
        so a long clip goes out 1 s at a time, each second a second after the one before (on
        the harness's clock: virtual in memory mode)."""
        feed_id = f"{self.id}-voice-{sample_rate}"
        if self._voice_rate != sample_rate:
            self._voice_rate = sample_rate
            self._voice = bytearray()
            self._send(cmd.StartFeed(call_id=self.id, feed_id=feed_id, sample_rate=sample_rate))
        pacing = bool(self._voice)
        self._voice += pcm
        if not pacing:
            self._pace(feed_id, sample_rate, first=True)

    def _pace(self, feed_id: str, rate: int, *, first: bool = False) -> None:
        """Send the next second of queued voice (1.5 s at first), and come back in a second."""
        if self._voice_rate != rate or not self._voice:
            return
        later = getattr(self._h, "call_later", None)  # a minimal host: all at once
        size = rate * 2 * (3 if first else 2) // 2 if later is not None else len(self._voice)
        chunk, self._voice[:size] = bytes(self._voice[:size]), b""
        self._send(cmd.FeedAudio(call_id=self.id, feed_id=feed_id, pcm=chunk))
        if self._voice and later is not None:
            later(1.0, lambda: self._pace(feed_id, rate))

    def listen(self, sample_rate: int = 8000) -> None:
        """Keep what the engine sends to this call from now on, for :meth:`heard_pcm`."""
        self._send(cmd.StartTap(call_id=self.id, tap_id=f"{self.id}-ear", sample_rate=sample_rate))

    def heard_pcm(self) -> bytes:
        """What the peer heard since :meth:`listen`: 16-bit little-endian mono PCM at its rate,
        in 20 ms frames. In memory mode only fed audio is sound; playbacks are silence."""
        return b"".join(s.pcm for s in self.signals if isinstance(s, AudioFrames))

    def hold(self) -> None:
        """Put the engine on hold (re-INVITE a=sendonly)."""
        self._send(cmd.Hold(call_id=self.id, on=True))

    def unhold(self) -> None:
        self._send(cmd.Hold(call_id=self.id, on=False))

    def refer(self, to: str, headers: Mapping[str, str] | None = None) -> None:
        """Ask the engine to transfer this call to ``to`` (blind REFER)."""
        self._send(cmd.Transfer(call_id=self.id, to=to, headers=Headers(headers or {})))

    def accept_transfers(self, enabled: bool = True) -> None:
        """Accept the engine's REFERs (202) instead of declining them (603)."""
        self._send(cmd.HandleTransfers(call_id=self.id, enabled=enabled))

    def notify_transfer(self, code: int = 200, reason: str = "OK") -> None:
        """Report the outcome of the engine's REFER (NOTIFY sipfrag)."""
        self._send(cmd.NotifyTransfer(call_id=self.id, code=code, reason=reason))

    def send_info(
        self, mime_type: str, body: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self._send(
            cmd.SendInfo(
                call_id=self.id, mime_type=mime_type, body=body, headers=Headers(headers or {})
            )
        )

    def send_message(self, text: str) -> None:
        self._send(cmd.SendMessage(call_id=self.id, text=text))

    def set_rtp_loss(self, percent: float) -> None:
        """Drop ``percent`` of the RTP the peer sends (100 stops it; 0 restores it)."""
        self._send(tcmd.SetRtpLoss(call_id=self.id, percent=percent))

    def received(self, kind: type[S]) -> list[S]:
        """Signals of one kind the peer got on this call (SipInfoReceived, TransferStatus, ...)."""
        return [s for s in self.signals if isinstance(s, kind)]

    def send_dtmf(self, digits: str, method: str = "rfc2833") -> None:
        """Press keys: RFC 2833 telephone-events (default) or SIP INFO (``method="info"``)."""
        self._send(cmd.SendDigits(call_id=self.id, digits=digits, method=method))

    # -- what the peer saw -------------------------------------------------------------------

    @property
    def tones(self) -> str:
        """DTMF digits the engine sent to this call, in order."""
        return "".join(s.tone for s in self.signals if isinstance(s, DtmfReceived))

    @property
    def said(self) -> list[str]:
        """Texts the engine spoke to this call (as it synthesized them), in order."""
        return [e.text for e in self._h.playbacks(self) if e.text is not None]

    @property
    def played(self) -> list[str]:
        """Media the engine played to this call (paths, URLs, ``tone:US``), in order."""
        return [e.source for e in self._h.playbacks(self) if e.source is not None]

    async def wait_said(self, text: str | re.Pattern[str], timeout: float = 5.0) -> str:
        """Until the engine speaks ``text`` (a substring, or a compiled regex) to this call;
        returns the whole prompt."""

        def match() -> str | None:
            for said in self.said:
                if text.search(said) if isinstance(text, re.Pattern) else text in said:
                    return said
            return None

        await self._wait(lambda: match() is not None, timeout, f"prompt matching {text!r}")
        return match() or ""

    async def audio_seconds(self, timeout: float = 5.0) -> float:
        """Seconds of non-silent audio this call received from the engine (real RTP in sip
        mode, playback time in memory mode)."""
        before = len(self.signals)
        self._send(tcmd.ReportAudio(call_id=self.id))
        await self._wait(
            lambda: any(isinstance(s, AudioReport) for s in self.signals[before:]),
            timeout,
            "audio report",
        )
        report = next(s for s in self.signals[before:] if isinstance(s, AudioReport))
        return report.seconds or 0.0

    @property
    def answered(self) -> bool:
        return any(isinstance(s, Answered) for s in self.signals)

    @property
    def code(self) -> int | None:
        """Final SIP status of the call's end (200 after a BYE), None while it lasts."""
        ended = self._last(Ended)
        return ended.code if ended else None

    @property
    def headers(self) -> Headers:
        """Custom headers the engine sent: its INVITE's, or those of its latest response/BYE."""
        merged: dict[str, str] = {}
        for s in self.signals:
            if isinstance(s, IncomingCall | Progress | Answered | Ended):
                merged.update(s.headers)
        return Headers(merged)

    def history(self) -> list[str]:
        """What reached the peer, e.g. ``["Progress(180)", "Answered", "Ended(200)"]``."""
        out = []
        for s in self.signals:
            if isinstance(s, AudioReport | DtmfReceived):
                continue
            code = getattr(s, "code", None)
            out.append(f"{type(s).__name__}({code})" if code is not None else type(s).__name__)
        return out

    async def wait_answered(self, timeout: float = 5.0) -> None:
        """Until the call is connected; fails, explaining what happened, if it ended instead."""
        await self._wait(lambda: self.answered or self.code is not None, timeout, "answer")
        if not self.answered:
            raise AssertionError(
                f"call ended with {self.code} instead of being answered\n{self._h.explain(self)}"
            )

    async def wait_hangup(self, timeout: float = 10.0) -> int:
        """Until the call ends; returns its final SIP status (200 after a BYE)."""
        await self._wait(lambda: self.code is not None, timeout, "hangup")
        assert self.code is not None
        return self.code

    async def wait_progress(self, code: int = 180, timeout: float = 5.0) -> None:
        await self._wait(
            lambda: any(isinstance(s, Progress) and s.code == code for s in self.signals),
            timeout,
            f"{code} response",
        )

    # -- internals ---------------------------------------------------------------------------

    def _on_signal(self, signal: Signal) -> None:
        self.signals.append(signal)

    def _send(self, command: cmd.Command) -> None:
        self._h.check_errors()
        self._h.peer_backend.send(command)

    def _last(self, kind: type[Ended]) -> Ended | None:
        found = [s for s in self.signals if isinstance(s, kind)]
        return found[-1] if found else None

    async def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        await self._h.wait_until(done, timeout, what, self)
