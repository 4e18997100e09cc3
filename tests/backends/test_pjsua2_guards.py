"""The SIP stack's own slot guards on the pjsua2 backend, against a bare UDP caller that
misbehaves: RFC 4028 session timers (negotiated in our 200 OK, and a session nobody refreshes
is ended with reason "session_timer") and a 200 OK never ACKed (reason "ack_timeout")."""

from __future__ import annotations

import time

import pytest

from tests.backends.conftest import Peer, PeerFactory
from tests.backends.rawsip import RawUac, header
from voxpy.core.commands import Answer, Bye
from voxpy.core.signals import Answered, Ended, HoldChanged, IncomingCall

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'


def target(peer: Peer) -> tuple[str, int]:
    hostport = peer.uri().split("@", 1)[1]
    host, _, port = hostport.partition(":")
    return host, int(port)


async def answered_invite(peer: Peer, uac: RawUac, extra: str) -> tuple[str, str]:
    """``uac`` calls ``peer``, which answers; returns the peer's call_id and the 200 OK."""
    uac.invite(extra)
    incoming = await peer.wait(IncomingCall)
    peer.send(Answer(call_id=incoming.call_id))
    return incoming.call_id, await uac.wait_for("SIP/2.0 200", 5)


async def test_session_timer_is_negotiated_in_our_200(make_peer: PeerFactory) -> None:
    peer = await make_peer()
    uac = RawUac(target(peer))
    try:
        call_id, ok = await answered_invite(
            peer, uac, "Supported: timer\r\nSession-Expires: 1800\r\nMin-SE: 90\r\n"
        )
        assert header(ok, "Session-Expires").split(";")[0].strip() == "1800"
        assert "refresher=" in header(ok, "Session-Expires")
        assert "timer" in header(ok, "Require") + header(ok, "Supported")
        uac.ack(ok)
        await peer.wait(Answered, call_id=call_id)
        peer.send(Bye(call_id=call_id))
        uac.answer_request(await uac.wait_for("BYE", 5))
        assert (await peer.wait(Ended, call_id=call_id)).code == 200
    finally:
        uac.close()


@pytest.mark.parametrize("direction", ["sendonly", "inactive", "recvonly"])
async def test_every_far_end_hold_is_reported(make_peer: PeerFactory, direction: str) -> None:
    """A far end that stops sending on purpose is on hold (HoldChanged): a=sendonly (pjsua's
    REMOTE_HOLD), but also a=inactive and a=recvonly, which pjsua reports as plain media
    states - the RTP-timeout hangup must not take them for a vanished caller."""
    peer = await make_peer()
    uac = RawUac(target(peer))
    try:
        call_id, ok = await answered_invite(peer, uac, "")
        uac.ack(ok)
        await peer.wait(Answered, call_id=call_id)
        for held, sdp_direction in ((True, direction), (False, "sendrecv")):
            uac.invite(to=header(ok, "To"), direction=sdp_direction)
            uac.ack(await uac.wait_for("SIP/2.0 200", 5))
            await peer.wait(HoldChanged, call_id=call_id, on_hold=held)
        peer.send(Bye(call_id=call_id))
        uac.answer_request(await uac.wait_for("BYE", 5))
        await peer.wait(Ended, call_id=call_id)
    finally:
        uac.close()


async def test_unacked_200_and_unrefreshed_session_are_released(make_peer: PeerFactory) -> None:
    """Both take the stack's own time: 64*T1 = 32 s without ACK; a Session-Expires of 90 s
    (the smallest allowed) nobody refreshes ends after 90 - min(32, 90/3) = 60 s. Neither
    caller answers the BYE pjsua then sends: the slot is free at once all the same."""
    peer = await make_peer()
    silent, stale = RawUac(target(peer)), RawUac(target(peer))
    try:
        started = time.monotonic()
        no_ack, _ = await answered_invite(peer, silent, "")
        expiring, ok = await answered_invite(
            peer, stale, "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\nMin-SE: 90\r\n"
        )
        stale.ack(ok)
        await peer.wait(Answered, call_id=expiring)

        ended = await peer.wait(Ended, timeout=45, call_id=no_ack)
        assert ended.reason == "ack_timeout"
        assert 30 <= time.monotonic() - started < 48  # not 64 s: the BYE is not waited for

        ended = await peer.wait(Ended, timeout=45, call_id=expiring)
        assert ended.reason == "session_timer"
        assert 55 <= time.monotonic() - started < 80  # not ~92 s
        # Each got its BYE once (it waited, unread, in the socket).
        await silent.wait_for("BYE", 1)
        await stale.wait_for("BYE", 1)
    finally:
        silent.close()
        stale.close()
