"""In-dialog signalling and RTP statistics for the in-memory network.

REFER, INFO, MESSAGE and hold re-INVITEs travel to the other side as the pjsua2 backend reports
them. Statistics are synthesized from time: each side sends 50 packets/s of 160-byte PCMU once
media is up; ``SetRtpLoss`` drops a share of what a side sends, so the other side's reports
show the loss (and, at 100 %, no packets at all). RTT appears after 5 s, as RTCP's does.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxpy.backends.memory_media import LegMedia, MediaSim
from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core import testing_commands as tcmd

PACKETS_PER_SECOND = 50
PACKET_BYTES = 160
RTCP_DELAY = 5.0


@dataclass
class RtpState:
    """What one side has sent so far; updated lazily whenever something changes."""

    since: float | None = None
    at: float = 0.0
    sent: float = 0.0
    dropped: float = 0.0
    loss_percent: float = 0.0

    def advance(self, now: float) -> None:
        if self.since is None:
            return
        packets = PACKETS_PER_SECOND * max(0.0, now - self.at)
        self.sent += packets
        self.dropped += packets * self.loss_percent / 100
        self.at = now


class DialogSim:
    """Applies signalling commands of one network; legs are LegMedia objects of MediaSim."""

    def __init__(self, media: MediaSim) -> None:
        self.media = media
        self.rtp: dict[str, RtpState] = {}
        self.handles_transfers: set[str] = set()
        self.referred_by: dict[str, str] = {}  # leg that got a REFER -> leg that sent it

    def media_up(self, leg: LegMedia) -> None:
        now = self.media.now()
        self.rtp[leg.call_id] = RtpState(since=now, at=now)

    def handle(self, leg: LegMedia, command: cmd.Command) -> bool:  # noqa: PLR0912
        """Apply ``command`` if it is a signalling command; False otherwise."""
        far = leg.far
        if isinstance(command, cmd.HandleTransfers):
            (self.handles_transfers.add if command.enabled else self.handles_transfers.discard)(
                leg.call_id
            )
        elif isinstance(command, cmd.Transfer):
            to = command.to
            if command.replaces_call_id is not None:
                to = f"sip:transfer@memory.invalid?Replaces={command.replaces_call_id}"
            if far is not None and far.call_id in self.handles_transfers:
                self.referred_by[far.call_id] = leg.call_id
                leg.emit(sig.TransferStatus(call_id=leg.call_id, code=100, reason="Trying"))
                far.emit(sig.TransferRequested(call_id=far.call_id, to=to, headers=command.headers))
            else:
                leg.emit(
                    sig.TransferStatus(call_id=leg.call_id, code=603, reason="Decline", final=True)
                )
        elif isinstance(command, cmd.NotifyTransfer):
            sender = self.media.legs.get(self.referred_by.pop(leg.call_id, ""))
            if sender is not None:
                sender.emit(
                    sig.TransferStatus(
                        call_id=sender.call_id, code=command.code, reason=command.reason, final=True
                    )
                )
        elif isinstance(command, cmd.SendInfo):
            if far is not None:
                far.emit(
                    sig.SipInfoReceived(
                        call_id=far.call_id,
                        mime_type=command.mime_type,
                        body=command.body,
                        headers=command.headers,
                    )
                )
        elif isinstance(command, cmd.SendMessage):
            if far is not None:
                far.emit(
                    sig.SipMessageReceived(
                        call_id=far.call_id, text=command.text, headers=command.headers
                    )
                )
                # the far end's 200, as pjsua2 reports it (onInstantMessageStatus)
                leg.emit(sig.MessageDelivered(call_id=leg.call_id, text=command.text))
        elif isinstance(command, cmd.Hold):
            if far is not None:
                sdp = "v=0\r\na=sendonly\r\n" if command.on else "v=0\r\na=sendrecv\r\n"
                far.emit(
                    sig.SipReInviteReceived(
                        call_id=far.call_id, mime_type="application/sdp", body=sdp
                    )
                )
                far.emit(sig.HoldChanged(call_id=far.call_id, on_hold=command.on))
        elif isinstance(command, cmd.Mute):
            self.media.set_muted(leg, command.on)
        elif isinstance(command, tcmd.SetRtpLoss):
            state = self.rtp.get(leg.call_id)
            if state is not None:
                state.advance(self.media.now())
                state.loss_percent = command.percent
        elif isinstance(command, cmd.ReportStats):
            leg.emit(self.report(leg))
        elif isinstance(command, cmd.ReportRx):
            received = self.report(leg).packets_received
            leg.emit(sig.RxReport(call_id=leg.call_id, packets_received=received))
        else:
            return False
        return True

    def report(self, leg: LegMedia) -> sig.StatsReport:
        now = self.media.now()
        mine = self.rtp.get(leg.call_id, RtpState())
        theirs = self.rtp.get(leg.far.call_id, RtpState()) if leg.far else RtpState()
        for state in (mine, theirs):
            state.advance(now)
        received = int(theirs.sent - theirs.dropped)
        up = mine.since is not None and now - mine.since >= RTCP_DELAY
        return sig.StatsReport(
            call_id=leg.call_id,
            codec="PCMU",
            packets_sent=int(mine.sent),
            packets_received=received,
            bytes_sent=int(mine.sent) * PACKET_BYTES,
            bytes_received=received * PACKET_BYTES,
            packets_lost=int(theirs.dropped),
            jitter_ms=1.0,
            rtt_ms=20.0 if up else None,
        )
