"""In-dialog signalling on the pjsua2 backend over real SIP: REFER both ways, INFO, MESSAGE,
hold, redirect, mute, stream statistics and RTP loss injection.

Each end is a ``voxpy.backends.pjsua2.peer`` process under a ProcessBackend (pjsua2 allows one
endpoint per process and never loads into pytest). Waits are bounded; figures in comments
were measured on the 2-core test machine.
"""

from __future__ import annotations

import asyncio
import math
import time
import wave
from array import array
from pathlib import Path

import pytest

from tests.backends.conftest import Peer, PeerFactory, connect
from voxpy.core.commands import (
    Answer,
    Bye,
    Dial,
    Hold,
    Mute,
    NotifyTransfer,
    Play,
    Reject,
    ReportStats,
    SendDigits,
    SendInfo,
    SendMessage,
    Transfer,
)
from voxpy.core.headers import Headers
from voxpy.core.signals import (
    Answered,
    CommandFailed,
    DtmfReceived,
    Ended,
    HoldChanged,
    IncomingCall,
    PlayEnded,
    PlayStarted,
    Redirected,
    SipInfoReceived,
    SipMessageReceived,
    SipReInviteReceived,
    TransferRequested,
    TransferStatus,
)
from voxpy.core.testing_commands import SetRtpLoss

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'


def tone_wav(path: Path, seconds: float, freq: float = 440.0) -> str:
    """A mono 16 kHz PCM16 sine tone."""
    rate, amp = 16000, 0.3 * 32767
    samples = array(
        "h",
        (round(amp * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(seconds * rate))),
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return str(path)


async def answers_taken_in(peer: Peer, call_id: str) -> None:
    """Return once ``peer`` has taken in the answers to everything it sent earlier on the leg.

    A REFER goes last; the far end refuses it (603: transfers are off) after answering what
    came before, and that final TransferStatus is the end of the window, not a sleep."""
    peer.send(Transfer(call_id=call_id, to="sip:nobody@127.0.0.1"))
    refused = await peer.wait(TransferStatus, call_id=call_id, final=True)
    assert refused.code == 603, refused


async def test_incoming_refer_is_the_scenarios_to_answer(make_peer: PeerFactory) -> None:
    a, b, c = await asyncio.gather(make_peer(), make_peer(), make_peer())
    b_id = await connect(a, b, "x1")

    # Off by default: 603 to the REFER itself, a final failure for A, nothing at all on B.
    a.send(Transfer(call_id="x1", to=c.uri("carol")))
    refused = await a.wait(TransferStatus, call_id="x1", final=True)
    assert (refused.code, refused.reason) == (603, "Decline")

    await b.handle_transfers(b_id)
    a.send(
        Transfer(
            call_id="x1",
            to="tel:+15551234;phone-context=example.com",
            headers=Headers({"X-Reason": "blind"}),
        )
    )
    asked = await b.wait(TransferRequested, call_id=b_id)
    assert asked.to == "tel:+15551234;phone-context=example.com"  # tel: stays tel:
    assert asked.headers == {"X-Reason": "blind"}
    b.send(NotifyTransfer(call_id=b_id, code=200))
    done = await a.wait(TransferStatus, call_id="x1", final=True)
    assert (done.code, done.reason) == (200, "OK")
    # Progress first: pjsua's "100 Accepted" for the 202, then our "100 Trying" NOTIFY.
    progress = [(s.code, s.final) for s in a.taken(TransferStatus)]
    assert progress == [(603, True), (100, False), (100, False), (200, True)]

    a.send(Transfer(call_id="x1", to=c.uri("carol")))
    asked = await b.wait(TransferRequested, call_id=b_id)
    assert asked.to == c.uri("carol")
    b.send(NotifyTransfer(call_id=b_id, code=486, reason="x" * 200))  # pjsip would abort
    await b.wait(CommandFailed, call_id=b_id, op="NotifyTransfer")
    b.send(NotifyTransfer(call_id=b_id, code=486, reason="Busy Here"))
    busy = await a.wait(TransferStatus, call_id="x1", final=True)
    assert (busy.code, busy.reason) == (486, "Busy Here")

    # Nothing left to notify; pjsua never dialled a Refer-To target by itself: B dials C
    # now, and an INVITE pjsua had sent to carol left B's socket before this one.
    b.send(NotifyTransfer(call_id=b_id, code=200))
    await b.wait(CommandFailed, call_id=b_id, op="NotifyTransfer")
    b.send(Dial(call_id="probe", uri=c.uri("probe")))
    probe = await c.wait(IncomingCall)
    assert probe.destination == "probe" and len(c.taken(IncomingCall)) == 1
    c.send(Reject(call_id=probe.call_id, code=486))
    await b.wait(Ended, call_id="probe")
    assert len(b.taken(IncomingCall)) == 1  # only the call from A

    # The transferor hangs up before the outcome (usual for blind transfers): B's waiting
    # subscription is dropped with the leg (the fixture checks both peers exit cleanly).
    a.send(Transfer(call_id="x1", to=c.uri("dave")))
    await b.wait(TransferRequested, call_id=b_id)  # reported on a live leg only
    assert not b.taken(Ended, call_id=b_id) and len(b.taken(TransferRequested)) == 3
    a.send(Bye(call_id="x1"))
    await b.wait(Ended, call_id=b_id)
    b.send(NotifyTransfer(call_id=b_id, code=200))
    await b.wait(CommandFailed, call_id=b_id, op="NotifyTransfer")


async def test_attended_transfer_carries_replaces(make_peer: PeerFactory) -> None:
    a, b, c = await asyncio.gather(make_peer(), make_peer(), make_peer())
    b_id = await connect(a, b, "ab")
    await connect(a, c, "ac")
    await b.handle_transfers(b_id)
    a.send(Transfer(call_id="ab", replaces_call_id="nope"))
    await a.wait(CommandFailed, call_id="ab", op="Transfer")
    a.send(Transfer(call_id="ab", replaces_call_id="ac"))
    asked = await b.wait(TransferRequested, call_id=b_id)
    # Refer-To: C's contact with the Replaces header of A's dialog with C (escaped).
    assert asked.to.startswith("sip:") and "Replaces=" in asked.to
    assert c.backend.contact_uri.split("@", 1)[1] in asked.to
    b.send(NotifyTransfer(call_id=b_id, code=200))
    assert (await a.wait(TransferStatus, call_id="ab", final=True)).code == 200
    # Left unanswered while both legs live: stopping the peers must end the subscription.
    a.send(Transfer(call_id="ab", to=c.uri("carol")))
    await b.wait(TransferRequested, call_id=b_id)
    await a.wait(TransferStatus, call_id="ab", code=100, reason="Trying")


async def test_info_and_message_both_ways(make_peer: PeerFactory) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer())
    b_id = await connect(a, b, "i1")
    a.send(
        SendInfo(
            call_id="i1",
            mime_type="application/json",
            body='{"cmd": "ping"}',
            headers=Headers({"X-Seq": "1"}),
        )
    )
    info = await b.wait(SipInfoReceived, call_id=b_id)
    assert (info.mime_type, info.body, dict(info.headers)) == (
        "application/json",
        '{"cmd": "ping"}',
        {"X-Seq": "1"},
    )
    b.send(SendInfo(call_id=b_id, mime_type="text/plain", body="pong"))
    back = await a.wait(SipInfoReceived, call_id="i1")
    assert (back.mime_type, back.body) == ("text/plain", "pong")

    # DTMF INFO stays a tone, whether sent as SendDigits or as a raw INFO body.
    a.send(SendDigits(call_id="i1", digits="7", method="info"))
    assert (await b.wait(DtmfReceived, call_id=b_id)).tone == "7"
    a.send(
        SendInfo(
            call_id="i1", mime_type="application/dtmf-relay", body="Signal=5\r\nDuration=160\r\n"
        )
    )
    assert (await b.wait(DtmfReceived, call_id=b_id)).tone == "5"

    a.send(SendMessage(call_id="i1", text="hello B", headers=Headers({"X-Chat": "1"})))
    message = await b.wait(SipMessageReceived, call_id=b_id)
    assert (message.text, dict(message.headers)) == ("hello B", {"X-Chat": "1"})
    b.send(SendMessage(call_id=b_id, text="hello A"))
    assert (await a.wait(SipMessageReceived, call_id="i1")).text == "hello A"

    # A non-2xx answer would have come back as CommandFailed, before the answer to a REFER
    # sent after it (the far end answers in order, and loopback keeps them in order).
    await answers_taken_in(a, "i1")
    await answers_taken_in(b, b_id)
    assert not a.taken(CommandFailed) and not b.taken(CommandFailed)
    assert len(b.taken(SipInfoReceived)) == 1  # the DTMF INFO was not reported as INFO
    a.send(SendInfo(call_id="nope", mime_type="text/plain", body="x"))
    await a.wait(CommandFailed, call_id="nope", op="SendInfo")


async def test_hold_unhold_and_media_survives(make_peer: PeerFactory, tmp_path: Path) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer(measure_audio=True))
    b_id = await connect(a, b, "h1")
    b.send(Hold(call_id=b_id, on=True))
    reinvite = await a.wait(SipReInviteReceived, call_id="h1")
    assert reinvite.mime_type == "application/sdp" and "a=sendonly" in reinvite.body
    await a.wait(HoldChanged, call_id="h1", on_hold=True)
    b.send(Hold(call_id=b_id, on=False))
    reinvite = await a.wait(SipReInviteReceived, call_id="h1")
    assert "a=sendrecv" in reinvite.body
    await a.wait(HoldChanged, call_id="h1", on_hold=False)
    assert [s.on_hold for s in a.taken(HoldChanged)] == [True, False]

    # pjsua re-created the streams (and call ports): the routing follows.
    a.send(Play(call_id="h1", playback_id="after", path=tone_wav(tmp_path / "t.wav", 1.0)))
    await a.wait(PlayStarted, playback_id="after")
    await a.wait(PlayEnded, playback_id="after", timeout=3.0)  # the 1 s tone played out
    assert await b.heard(b_id) >= 0.7
    await answers_taken_in(b, b_id)  # the answers to B's re-INVITEs, before its REFER's
    assert not a.taken(CommandFailed) and not b.taken(CommandFailed)


async def test_back_to_back_holds_queue(make_peer: PeerFactory) -> None:
    """Hold, unhold, hold, unhold with no wait: each re-INVITE goes out when the one before
    has completed (pjsua would refuse it with PJ_EINVALIDOP), in order, none fails."""
    a, b = await asyncio.gather(make_peer(), make_peer())
    b_id = await connect(a, b, "q1")
    for on in (True, False, True, False):
        b.send(Hold(call_id=b_id, on=on))
    for on in (True, False, True, False):
        await a.wait(HoldChanged, call_id="q1", on_hold=on, timeout=10)
    assert [s.on_hold for s in a.taken(HoldChanged)] == [True, False, True, False]
    await answers_taken_in(b, b_id)  # A's HoldChanged does not mean B has the last 200 yet
    assert not b.taken(CommandFailed)


async def test_mute_silences_what_we_send(make_peer: PeerFactory, tmp_path: Path) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer(measure_audio=True))
    b_id = await connect(a, b, "m1")
    a.send(
        Play(call_id="m1", playback_id="loop", path=tone_wav(tmp_path / "t.wav", 0.5), loop=True)
    )
    await a.wait(PlayStarted, playback_id="loop")
    await asyncio.sleep(0.6)
    # Levels: mean absolute sample of the last frame; the 0.3 full-scale sine has 6258.
    out_level = (await a.stats("m1")).audio_out_level
    in_level = (await b.stats(b_id)).audio_in_level
    assert out_level is not None and 4000 <= out_level <= 8000
    assert in_level is not None and 4000 <= in_level <= 8000
    a.send(Mute(call_id="m1", on=True))
    # Wall-clock on purpose: silence (RTP that carries nothing) is measured over time.
    await asyncio.sleep(0.2)
    before = await b.heard(b_id)
    assert before >= 0.3
    await asyncio.sleep(0.8)
    assert await b.heard(b_id) - before <= 0.06  # RTP goes on, as silence
    assert (await a.stats("m1")).audio_out_level == 0
    a.send(Mute(call_id="m1", on=False))
    await asyncio.sleep(0.8)
    assert await b.heard(b_id) - before >= 0.5
    stats = await b.stats(b_id)
    assert stats.packets_received > 80 and stats.packets_lost == 0
    assert not a.taken(PlayEnded)  # a loop; muting did not end it

    # A muted playback still runs its course (unheard) and finishes on time.
    a.send(Mute(call_id="m1", on=True))
    a.send(Play(call_id="m1", playback_id="once", path=tone_wav(tmp_path / "t1.wav", 1.0)))
    await a.wait(PlayStarted, playback_id="once")
    started = time.monotonic()
    before = await b.heard(b_id)
    await a.wait(PlayEnded, playback_id="once", timeout=3.0)
    assert 0.7 <= time.monotonic() - started <= 1.5
    assert await b.heard(b_id) - before <= 0.06


async def test_stats_and_rtp_loss(make_peer: PeerFactory) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer())
    b_id = await connect(a, b, "s1")
    sent = time.monotonic()
    first = await a.stats("s1")
    assert time.monotonic() - sent < 0.5  # measured: about 1.5 ms
    assert first.codec == "PCMU"
    await asyncio.sleep(0.5)
    second = await a.stats("s1")
    assert second.packets_received > first.packets_received
    assert second.packets_sent > first.packets_sent
    assert second.bytes_received == 160 * second.packets_received  # 20 ms of PCMU each

    b.send(SetRtpLoss(call_id=b_id, percent=10))
    start = await a.stats("s1")
    await asyncio.sleep(4.0)
    end = await a.stats("s1")
    lost = end.packets_lost - start.packets_lost
    got = end.packets_received - start.packets_received
    assert 0.05 <= lost / (lost + got) <= 0.20, (lost, got)

    b.send(SetRtpLoss(call_id=b_id, percent=100))  # no RTP at all: "no media" detection
    # Wall-clock on purpose: packets that do not arrive can only be counted over time.
    await asyncio.sleep(0.2)
    stopped = await a.stats("s1")
    await asyncio.sleep(1.0)
    assert (await a.stats("s1")).packets_received - stopped.packets_received <= 1
    b.send(SetRtpLoss(call_id=b_id, percent=0))
    resumed = await a.stats("s1")
    await asyncio.sleep(1.0)
    final = await a.stats("s1")
    assert final.packets_received - resumed.packets_received >= 40
    # RTCP started after about 5 s: RTT is known by now (loopback: well under 5 ms).
    assert final.rtt_ms is not None and 0 <= final.rtt_ms < 50
    assert final.audio_out_level == 0  # A sends silence
    assert final.audio_in_level is None  # nothing in A's bridge listens to the leg

    b.send(SetRtpLoss(call_id=b_id, percent=150))
    await b.wait(CommandFailed, call_id=b_id, op="SetRtpLoss")
    a.send(ReportStats(call_id="gone"))
    await a.wait(CommandFailed, call_id="gone", op="ReportStats")


async def test_redirect_is_followed_and_reported(make_peer: PeerFactory) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer())
    a.send(Dial(call_id="r1", uri=b.uri("bob")))
    first = await b.wait(IncomingCall)
    # pjsip puts the answering side's own Contact into a 3xx: B redirects A to B itself.
    b.send(Reject(call_id=first.call_id, code=302))
    redirected = await a.wait(Redirected, call_id="r1")
    assert (redirected.code, redirected.contact) == (302, b.backend.contact_uri)
    assert (await b.wait(Ended, call_id=first.call_id)).code == 302
    second = await b.wait(IncomingCall)
    assert second.destination == "bob"  # the To of the original request is kept
    b.send(Answer(call_id=second.call_id))
    await a.wait(Answered, call_id="r1")
    assert not a.taken(Ended)


async def test_redirect_to_a_contact_of_our_choosing(make_peer: PeerFactory) -> None:
    a, b, c = await asyncio.gather(make_peer(), make_peer(), make_peer())
    a.send(Dial(call_id="r2", uri=b.uri("bob")))
    first = await b.wait(IncomingCall)
    # The Contact we give replaces pjsip's own: A is sent to C, not back to B.
    b.send(Reject(call_id=first.call_id, code=302, contact=c.uri("carol")))
    redirected = await a.wait(Redirected, call_id="r2")
    assert (redirected.code, redirected.contact) == (302, c.uri("carol"))
    assert (await b.wait(Ended, call_id=first.call_id)).code == 302
    moved = await c.wait(IncomingCall)
    assert moved.destination == "bob"  # the To of the original request is kept
    # Redirected there again: pjsip tries each target once, so the 302 is final.
    c.send(Reject(call_id=moved.call_id, code=302, contact=c.uri("carol")))
    assert (await a.wait(Ended, call_id="r2")).code == 302
    assert len(a.taken(Redirected)) == 1


def test_refer_to_and_contact_parsing() -> None:
    from voxpy.backends.pjsua2.sipmsg import contact_uris, refer_target, refer_to, status_line

    def refer(value: str) -> str:
        return f"REFER sip:b@h SIP/2.0\r\nRefer-To: {value}\r\nContent-Length: 0\r\n\r\n"

    assert refer_to(refer("tel:+1555;phone-context=x")) == "tel:+1555;phone-context=x"
    assert refer_to(refer("<sip:c@h:5070?Replaces=a%3Bto-tag%3Db>;x=1")) == (
        "sip:c@h:5070?Replaces=a%3Bto-tag%3Db"
    )
    assert refer_to("REFER sip:b@h SIP/2.0\r\nr: <sip:c@h>\r\n\r\n") == "sip:c@h"
    assert refer_target("tel:+1555;phone-context=x") == "<tel:+1555;phone-context=x>"
    assert refer_target("sip:c@h") == "sip:c@h"
    response = (
        "SIP/2.0 300 Multiple Choices\r\n"
        'Contact: "A, B" <sip:a@h:1>;q=0.5, <sip:b@h>\r\nm: sip:c@h\r\n\r\n'
    )
    assert status_line(response) == (300, "Multiple Choices")
    assert contact_uris(response) == ["sip:a@h:1", "sip:b@h", "sip:c@h"]
