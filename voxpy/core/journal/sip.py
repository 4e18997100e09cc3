"""The SIP picture of a session: backend commands and signals as ladder-diagram entries.

The engine's seam to its backend carries everything a journal needs: the commands it sends
(Dial, Answer, Bye, Play...) and the signals that come back (IncomingCall, Progress, Ended...).
This module turns them into the messages on the wire, so a memory-mode journal and a pjsua2
one come out alike (the parity test compares them): ``Dial`` is an INVITE from the leg to its
callee, ``Answered`` on an inbound leg is the caller's ACK, ``Ended`` after our ``Bye`` is the
200 to it and after nothing of ours is the far end's BYE (or CANCEL, or final failure).

Per leg two lanes: ``leg:ID``, the engine's leg (a B2BUA's half), and ``far:ID``, the party at
its other end; inbound legs sit left of the session lane, outbound ones right of it.
High-rate signals (stats, audio frames, feed progress) and internal ones (taps) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.journal.entry import Entry, Fields, clip, make_fields
from voxpy.core.redact import mask_credentials

REASONS = {
    100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK", 202: "Accepted",
    301: "Moved Permanently", 302: "Moved Temporarily", 400: "Bad Request", 403: "Forbidden",
    404: "Not Found", 408: "Request Timeout", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 500: "Server Internal Error", 503: "Service Unavailable",
    600: "Busy Everywhere", 603: "Decline",
}  # fmt: skip

QUIET = (
    cmd.ReportStats, cmd.ReportRx, cmd.FeedAudio, cmd.StopTap, cmd.HandleTransfers,
    sig.StatsReport, sig.RxReport, sig.AudioReport, sig.AudioFrames, sig.FeedPlayed,
    sig.PlayStarted, sig.HoldChanged,
)  # fmt: skip
"""Not journaled: polled or per-frame (one a second or 50 a second per leg), or shown by
the scenario event that follows (PlaybackStarted, OnHold)."""


def status(code: int, reason: str = "") -> str:
    """``486 Busy Here``: the reason given, else the standard phrase."""
    return f"{code} {reason or REASONS.get(code, '')}".rstrip()


def user_of(uri: str) -> str:
    """The user part of a SIP URI (``sip:100@host`` -> ``100``), else the URI itself."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    user, at, _host = rest.partition("@")
    return user if at and user else rest.split(";")[0]


def header_fields(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The headers that matter on a diagram: the custom ones the scenario set or got
    (X-*, User-to-User, Reason), without voxpy's own internal X-Voxpy-* ones."""
    return [
        (name, mask_credentials(value))
        for name, value in headers.items()
        if not name.lower().startswith("x-voxpy-")
    ]


@dataclass(slots=True)
class _Leg:
    inbound: bool
    answered: bool = False
    ending: str = ""
    "What we sent to end it: BYE, CANCEL or a final response (its code)."
    ended: bool = False


class SipMapper:
    """One session's commands and signals -> entries (without seq and time)."""

    def __init__(self) -> None:
        self._legs: dict[str, _Leg] = {}
        self._count = 0

    def command(self, c: cmd.Command) -> list[Entry]:
        if isinstance(c, QUIET):
            return []
        leg = self._legs.get(c.call_id)
        out: list[Entry] = []
        if isinstance(c, cmd.Dial):
            self._legs[c.call_id] = _Leg(inbound=False)
            out += self._parties(c.call_id, False, f"callee {user_of(c.uri)}", c.uri)
            fields = [("To", mask_credentials(c.uri)), ("From", c.callerid or "")]
            out.append(self._sip(c.call_id, "INVITE", out_=True, extra=fields, headers=c.headers))
        elif isinstance(c, cmd.Provisional):
            out.append(self._sip(c.call_id, status(c.code), out_=True, headers=c.headers))
        elif isinstance(c, cmd.Answer):
            out.append(self._sip(c.call_id, "200 OK", out_=True, headers=c.headers))
        elif isinstance(c, cmd.Reject):
            self._ending(leg, str(c.code))
            contact = [("Contact", c.contact or "")]
            out.append(
                self._sip(c.call_id, status(c.code), out_=True, extra=contact, headers=c.headers)
            )
        elif isinstance(c, cmd.Cancel | cmd.Bye):
            name = "CANCEL" if isinstance(c, cmd.Cancel) else "BYE"
            self._ending(leg, name)
            out.append(self._sip(c.call_id, name, out_=True, headers=c.headers))
        else:
            out += self._in_dialog(c)
        return out

    def signal(self, s: sig.Signal) -> list[Entry]:  # noqa: PLR0911
        if isinstance(s, QUIET):
            return []
        leg = self._legs.get(s.call_id)
        if isinstance(s, sig.IncomingCall):
            self._legs[s.call_id] = _Leg(inbound=True)
            name = f"caller {s.callerid or user_of(s.from_uri)}"
            fields = [("From", s.from_uri), ("To", s.to_uri), ("Display", s.display_name)]
            return [
                *self._parties(s.call_id, True, name, s.from_uri),
                self._sip(s.call_id, "INVITE", out_=False, extra=fields, headers=s.headers),
            ]
        if isinstance(s, sig.Progress):
            if leg is not None and leg.inbound:
                return []  # a provisional we sent: the Provisional command drew it
            return [self._sip(s.call_id, status(s.code, s.reason), out_=False, headers=s.headers)]
        if isinstance(s, sig.Answered):
            return self._answered(s, leg)
        if isinstance(s, sig.Ended):
            return self._ended(s, leg)
        if isinstance(s, sig.CommandFailed) and (leg is None or leg.ended):
            return []  # overtaken by the hangup: the runtime does not report it either
        if isinstance(s, sig.Redirected):
            contact = [("Contact", s.contact)]
            return [self._sip(s.call_id, status(s.code), out_=False, extra=contact)]
        return self._received(s)

    # -- in-dialog and media -----------------------------------------------------------------

    def _in_dialog(self, c: cmd.Command) -> list[Entry]:  # noqa: PLR0911
        i = c.call_id
        if isinstance(c, cmd.SendDigits):
            label = f"INFO dtmf {c.digits}" if c.method == "info" else f"DTMF {c.digits}"
            return [self._sip(i, label, out_=True)]
        if isinstance(c, cmd.Transfer):
            to = c.to or f"(replaces {c.replaces_call_id})"
            return [self._sip(i, "REFER", out_=True, extra=[("Refer-To", to)], headers=c.headers)]
        if isinstance(c, cmd.NotifyTransfer):
            return [self._sip(i, f"NOTIFY {status(c.code, c.reason)}", out_=True)]
        if isinstance(c, cmd.SendInfo):
            extra = [("Content-Type", c.mime_type), ("body", c.body)]
            return [self._sip(i, "INFO", out_=True, extra=extra, headers=c.headers)]
        if isinstance(c, cmd.SendMessage):
            extra = [("Content-Type", c.content_type), ("text", c.text)]
            return [self._sip(i, "MESSAGE", out_=True, extra=extra, headers=c.headers)]
        if isinstance(c, cmd.Hold):
            label = "re-INVITE hold" if c.on else "re-INVITE unhold"
            sdp = "sendonly" if c.on else "sendrecv"
            return [self._sip(i, label, out_=True, extra=[("a", sdp)])]
        return self._media(c)

    def _media(self, c: cmd.Command) -> list[Entry]:
        i = c.call_id
        if isinstance(c, cmd.Play):
            name = c.path.replace("\\", "/").rsplit("/", 1)[-1]
            extra = make_fields([("file", name), ("loop", "yes" if c.loop else "")])
            return [_entry("media", "play", f"leg:{i}", f"far:{i}", i, extra)]
        if isinstance(c, cmd.SendMedia | cmd.StopMedia):
            verb = "media" if isinstance(c, cmd.SendMedia) else "media stop"
            to = c.to_call_id
            if to in self._legs:
                return [_entry("media", verb, f"leg:{i}", f"leg:{to}", i)]
            return [_note("media", f"{verb} -> {to}", f"leg:{i}", i)]
        if isinstance(c, cmd.StartRecording):
            extra = make_fields([("stereo", "yes" if c.stereo else "")])
            return [_note("media", "record", f"leg:{i}", i, extra)]
        if isinstance(c, cmd.StartFeed | cmd.StartTap | cmd.ClearFeed | cmd.StopFeed):
            label = {"StartFeed": "stream in", "StartTap": "listen", "ClearFeed": "stream clear",
                     "StopFeed": "stream stop"}[type(c).__name__]  # fmt: skip
            return [_note("media", label, f"leg:{i}", i)]
        label = {"StopPlayback": "stop playback", "StopRecording": "stop recording"}.get(
            type(c).__name__, type(c).__name__
        )
        return [_note("media", label, f"leg:{i}", i)]

    def _received(self, s: sig.Signal) -> list[Entry]:  # noqa: PLR0911
        i = s.call_id
        if isinstance(s, sig.DtmfReceived):
            label = f"INFO dtmf {s.tone}" if s.method == "info" else f"DTMF {s.tone}"
            return [self._sip(i, label, out_=False)]
        if isinstance(s, sig.SipInfoReceived):
            extra = [("Content-Type", s.mime_type), ("body", s.body)]
            return [self._sip(i, "INFO", out_=False, extra=extra, headers=s.headers)]
        if isinstance(s, sig.SipMessageReceived):
            extra = [("text", s.text)]
            return [self._sip(i, "MESSAGE", out_=False, extra=extra, headers=s.headers)]
        if isinstance(s, sig.MessageDelivered):
            return [self._sip(i, status(s.code), out_=False, extra=[("for", "MESSAGE")])]
        if isinstance(s, sig.SipReInviteReceived):
            direction = next(
                (d for d in ("sendonly", "recvonly", "inactive", "sendrecv") if f"a={d}" in s.body),
                "",
            )
            return [self._sip(i, "re-INVITE", out_=False, extra=[("a", direction)])]
        if isinstance(s, sig.TransferRequested):
            refer = self._sip(i, "REFER", out_=False, extra=[("Refer-To", s.to)], headers=s.headers)
            return [refer, self._sip(i, "202 Accepted", out_=True)]
        if isinstance(s, sig.TransferStatus):
            return [self._sip(i, f"NOTIFY {status(s.code, s.reason)}", out_=False)]
        if isinstance(s, sig.CommandFailed):
            fields = make_fields([("op", s.op), ("status", s.status)])
            return [_note("error", f"{s.op} failed: {clip(s.message, 80)}", f"leg:{i}", i, fields)]
        if isinstance(s, sig.PlayEnded):
            if s.error is None:
                return []
            return [_note("error", f"playback failed: {clip(s.error, 80)}", f"leg:{i}", i)]
        if isinstance(s, sig.RecordingFailed):
            return [_note("error", f"recording failed: {clip(s.error, 80)}", f"leg:{i}", i)]
        if isinstance(s, sig.RecordingStarted | sig.RecordingStopped):
            return []  # the scenario's RecordStarted / RecordStopped events say it
        return [_note("event", type(s).__name__, f"leg:{i}", i)]

    # -- call set-up and teardown ------------------------------------------------------------

    def _answered(self, s: sig.Answered, leg: _Leg | None) -> list[Entry]:
        if leg is not None:
            leg.answered = True
        if leg is not None and leg.inbound:
            return [self._sip(s.call_id, "ACK", out_=False)]
        return [
            self._sip(s.call_id, "200 OK", out_=False, headers=s.headers),
            self._sip(s.call_id, "ACK", out_=True),
        ]

    def _ended(self, s: sig.Ended, leg: _Leg | None) -> list[Entry]:
        """The messages that ended the leg; the Disconnected or Failed event that follows
        says the code and reason again, as a note."""
        i, code = s.call_id, status(s.code, s.reason)
        ending = leg.ending if leg is not None else ""
        if leg is not None:
            leg.ended = True
        if ending == "BYE":
            out = [self._sip(i, "200 OK", out_=False)]
        elif ending == "CANCEL":
            out = [self._sip(i, "200 OK", out_=False, extra=[("for", "CANCEL")]),
                   self._sip(i, code if s.code != 200 else "487 Request Terminated", out_=False),
                   self._sip(i, "ACK", out_=True)]  # fmt: skip
        elif ending:  # we sent a final failure: the caller's ACK
            out = [self._sip(i, "ACK", out_=False)]
        elif leg is None or leg.answered:
            out = [self._sip(i, "BYE", out_=False, headers=s.headers),
                   self._sip(i, "200 OK", out_=True)]  # fmt: skip
        elif leg.inbound:  # the caller gave up before we answered
            out = [self._sip(i, "CANCEL", out_=False), self._sip(i, "487 Request Terminated",
                                                                 out_=True)]  # fmt: skip
        else:  # the callee refused, or never answered
            out = [self._sip(i, code, out_=False, headers=s.headers),
                   self._sip(i, "ACK", out_=True)]  # fmt: skip
        return out

    # -- helpers -----------------------------------------------------------------------------

    def _ending(self, leg: _Leg | None, what: str) -> None:
        if leg is not None and not leg.ending:
            leg.ending = what

    def _parties(self, call_id: str, inbound: bool, far: str, uri: str) -> list[Entry]:
        self._count += 1
        side = "left" if inbound else "right"
        leg_name = f"leg {self._count} ({'in' if inbound else 'out'})"
        far_fields = make_fields([("side", side), ("uri", mask_credentials(uri))])
        return [
            _entry("party", leg_name, f"leg:{call_id}", "", call_id, (("side", side),)),
            _entry("party", clip(far, 60), f"far:{call_id}", "", call_id, far_fields),
        ]

    def _sip(
        self,
        call_id: str,
        label: str,
        *,
        out_: bool,
        extra: list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Entry:
        fields = make_fields([*(extra or []), *header_fields(headers or {})])
        leg, far = f"leg:{call_id}", f"far:{call_id}"
        src, dst = (leg, far) if out_ else (far, leg)
        return _entry("sip", label, src, dst, call_id, fields)


def _entry(kind: str, label: str, src: str, dst: str, call_id: str, fields: Fields = ()) -> Entry:
    return Entry(kind=kind, label=clip(label, 120), src=src, dst=dst, call_id=call_id,
                 fields=fields)  # fmt: skip


def _note(kind: str, label: str, lane: str, call_id: str, fields: Fields = ()) -> Entry:
    return _entry(kind, label, lane, "", call_id, fields)
