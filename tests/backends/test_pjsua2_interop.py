"""SIP behaviour other user agents notice (issue 11), against bare UDP agents that say exactly
what a test needs and record exactly what they receive: no codec-lock re-INVITE, our codec
order when we answer, From/To kept verbatim in responses, G.722 at G.711's level, and a
dead UDP destination failing at once instead of after Timer B."""

from __future__ import annotations

import math
import socket
import subprocess
import time
import wave
from array import array
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests.backends.conftest import Peer, PeerFactory
from tests.backends.rawsip import RawUac, RawUas, header
from voxpy.backends.pjsua2.probe import udp_target
from voxpy.core.commands import Answer, Bye, Dial, Play
from voxpy.core.signals import Answered, Ended, IncomingCall, PlayEnded

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

PCMU, PCMA, G722 = 0, 8, 9


def target(peer: Peer) -> tuple[str, int]:
    host, _, port = peer.uri().split("@", 1)[1].partition(":")
    return host, int(port)


def media_formats(message: str) -> list[str]:
    """The payload types of the first m= line of a message's SDP."""
    line = next(x for x in message.split("\r\n") if x.startswith("m=audio"))
    return line.split()[3:]


async def test_no_reinvite_when_the_answer_lists_several_codecs(make_peer: PeerFactory) -> None:
    """pjsua "locks" the codec with an immediate re-INVITE when an answer lists several; we
    do not (RFC 3264 6.1 allows several; we send the first). pjsua sends it from a timer due
    at once, run at the start of the caller's next poll; a MESSAGE sent after the answer is
    read in that poll or a later one, so its 200 comes after any such re-INVITE."""
    peer = await make_peer()
    uas = RawUas(codecs=(PCMU, PCMA, G722))
    try:
        peer.send(Dial(call_id="lock", uri=uas.uri))
        await uas.serve("INVITE", 5)
        await uas.serve("ACK", 5)
        await peer.wait(Answered, call_id="lock")
        uas.request("MESSAGE")
        await uas.serve("SIP/2.0 200", 5)
        peer.send(Bye(call_id="lock"))
        await uas.serve("BYE", 5)
        assert len(uas.invites) == 1, uas.invites[1:]
        assert (await peer.wait(Ended, call_id="lock")).code == 200
    finally:
        uas.close()


async def answered(peer: Peer, uac: RawUac, codecs: tuple[int, ...]) -> tuple[str, str]:
    """``uac`` calls ``peer`` offering ``codecs``; the peer answers: (call_id, 200 OK)."""
    uac.invite(codecs=codecs)
    incoming = await peer.wait(IncomingCall)
    peer.send(Answer(call_id=incoming.call_id))
    return incoming.call_id, await uac.wait_for("SIP/2.0 200", 5)


async def hang_up(peer: Peer, uac: RawUac, call_id: str, ok: str) -> None:
    uac.ack(ok)
    await peer.wait(Answered, call_id=call_id)
    peer.send(Bye(call_id=call_id))
    uac.answer_request(await uac.wait_for("BYE", 5))
    assert (await peer.wait(Ended, call_id=call_id)).code == 200


async def test_answer_takes_our_codec_order_not_the_callers(make_peer: PeerFactory) -> None:
    """sip.codecs says PCMU, PCMA, G722: a caller preferring PCMA, then G722, then PCMU gets
    PCMU (pjmedia alone would answer with the caller's first, PCMA)."""
    peer = await make_peer()
    uac = RawUac(target(peer))
    try:
        call_id, ok = await answered(peer, uac, (PCMA, G722, PCMU))
        assert media_formats(ok)[0] == str(PCMU), ok
        await hang_up(peer, uac, call_id, ok)
        # A caller that does not offer our first choice gets our second one.
        uac2 = RawUac(target(peer))
        try:
            call_id, ok = await answered(peer, uac2, (G722, PCMA))
            assert media_formats(ok)[0] == str(PCMA), ok
            await hang_up(peer, uac2, call_id, ok)
        finally:
            uac2.close()
    finally:
        uac.close()


async def test_responses_keep_from_and_to_verbatim(make_peer: PeerFactory) -> None:
    """RFC 3261 8.2.6.2: a response's From and To (bar the To tag) are the request's. The
    caller's From and To carry ports, which pjsip's URI printer drops by default."""
    peer = await make_peer()
    uac = RawUac(target(peer))
    try:
        uac.invite()
        invite = f"From: <sip:raw@127.0.0.1:{uac.port}>;tag={uac.tag}"
        trying = await uac.wait_for("SIP/2.0 100", 5)
        incoming = await peer.wait(IncomingCall)
        peer.send(Answer(call_id=incoming.call_id))
        ok = await uac.wait_for("SIP/2.0 200", 5)
        host, port = target(peer)
        for response in (trying, ok):
            assert f"From: {header(response, 'From')}" == invite, response
            to = header(response, "To").split(";tag=")[0]
            assert to == f"<sip:test@{host}:{port}>", response
        await hang_up(peer, uac, incoming.call_id, ok)
    finally:
        uac.close()


RATE = 16000


def tone_wav(path: Path, seconds: float = 1.5, freq: float = 440.0, level: float = 0.3) -> str:
    samples = array(
        "h",
        (
            round(level * 32767 * math.sin(2 * math.pi * freq * i / RATE))
            for i in range(round(seconds * RATE))
        ),
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return str(path)


def decode(payloads: bytes, codec: int) -> array[int]:
    """Raw u-law or G.722 to 16 kHz PCM, decoded by ffmpeg (its G.722 decoder is spandsp's,
    as in baresip and Asterisk: how other agents hear us)."""
    source = ["-f", "g722"] if codec == G722 else ["-f", "mulaw", "-ar", "8000", "-ac", "1"]
    sink = ["-f", "s16le", "-ac", "1", "-ar", str(RATE), "pipe:"]
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", *source, "-i", "pipe:", *sink],
        input=payloads,
        capture_output=True,
        check=True,
    )
    return array("h", result.stdout)


def tone_rms(samples: array[int]) -> float:
    """RMS of the tone: the median 20 ms frame among those that are not silence."""
    frame = RATE // 50
    levels = sorted(
        math.sqrt(sum(s * s for s in chunk) / len(chunk))
        for chunk in (samples[i : i + frame] for i in range(0, len(samples) - frame, frame))
    )
    loud = [x for x in levels if x > 200]
    assert len(loud) > 25, f"no tone received ({len(loud)} frames)"
    return loud[len(loud) // 2]


async def received_tone(peer: Peer, codec: int, wav: str) -> array[int]:
    """What a far end answering with only ``codec`` hears of ``wav``, decoded to 16 kHz."""
    uas = RawUas(codecs=(codec,))
    call_id = f"level-{codec}"
    try:
        peer.send(Dial(call_id=call_id, uri=uas.uri))
        await uas.serve("ACK", 5)
        await peer.wait(Answered, call_id=call_id)
        peer.send(Play(call_id=call_id, playback_id=call_id, path=wav))
        await peer.wait(PlayEnded, playback_id=call_id, timeout=5)
        peer.send(Bye(call_id=call_id))
        await uas.serve("BYE", 5)  # RTP sent before the BYE is in the socket by now
        uas.take_rtp()
        await peer.wait(Ended, call_id=call_id)
    finally:
        uas.close()
    return decode(b"".join(p for pt, p in uas.payloads if pt == codec), codec)


async def test_g722_is_as_loud_as_g711(make_peer: PeerFactory, tmp_path: Path) -> None:
    """The same prompt over PCMU and over G.722, decoded the way other agents decode it.
    Measured with pjmedia's default PCM shift (2): G.722 at 0.50 of PCMU's RMS (-6.0 dB);
    with shift 1: 1.00."""
    peer = await make_peer()
    wav = tone_wav(tmp_path / "tone.wav")
    pcmu = tone_rms(await received_tone(peer, PCMU, wav))
    g722 = tone_rms(await received_tone(peer, G722, wav))
    db = 20 * math.log10(g722 / pcmu)
    assert abs(db) < 1.0, f"G.722 is {db:+.1f} dB against PCMU ({g722:.0f} vs {pcmu:.0f})"
    assert abs(pcmu / (0.3 * 32767 / math.sqrt(2)) - 1) < 0.1  # G.711 carries the WAV's level


def refusing_port() -> tuple[socket.socket, int]:
    """A UDP port nobody else can take and that answers every datagram with ICMP port
    unreachable: bound here (the OS picks it) and connected to itself, so Linux matches no
    datagram from anywhere else to it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.connect(sock.getsockname())
    return sock, sock.getsockname()[1]


async def test_dead_udp_destination_fails_at_once(make_peer: PeerFactory) -> None:
    """pjsip never hears ICMP on its unconnected socket (Timer B: 32 s); our probe does."""
    peer = await make_peer()
    sock, port = refusing_port()
    try:
        started = time.monotonic()
        peer.send(Dial(call_id="dead", uri=f"sip:nobody@127.0.0.1:{port}"))
        ended = await peer.wait(Ended, call_id="dead", timeout=5)
        elapsed = time.monotonic() - started
    finally:
        sock.close()
    assert ended.code == 503, ended
    assert elapsed < 2.0  # measured in process: 0.5-1.2 ms
    # The slot is free again: a call to a live far end right after works.
    uas = RawUas(codecs=(PCMU,))
    try:
        peer.send(Dial(call_id="alive", uri=uas.uri))
        await uas.serve("ACK", 5)
        await peer.wait(Answered, call_id="alive")
        peer.send(Bye(call_id="alive"))
        await uas.serve("BYE", 5)
        assert (await peer.wait(Ended, call_id="alive")).code == 200
    finally:
        uas.close()


def test_probe_target_is_udp_to_an_address() -> None:
    assert udp_target("sip:a@10.0.0.1:5070", None) == ("10.0.0.1", 5070)
    assert udp_target("sip:a@10.0.0.1", None) == ("10.0.0.1", 5060)
    assert udp_target("sip:a@10.0.0.1;transport=udp", None) == ("10.0.0.1", 5060)
    assert udp_target("sip:a@10.0.0.1;transport=tcp", None) is None
    assert udp_target("sips:a@10.0.0.1", None) is None
    assert udp_target("sip:a@example.com", None) is None
    assert udp_target("sip:a@example.com", "sip:127.0.0.1:5999;lr") == ("127.0.0.1", 5999)
