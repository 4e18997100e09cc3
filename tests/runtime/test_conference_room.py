"""Sessions of one worker share a conference by name (issue 14): three callers, each in a
session of its own, dial in to "room-1"; each hears the two others and never itself; one
hangs up and its session ends, the other two go on hearing each other. Both backends."""

from __future__ import annotations

from tests.backends.test_pjsua2_streams import LOUD, frame_rms, frames_of, sine
from tests.conftest import TEST_SCENARIOS, Harness
from tests.runtime.test_units import RATE, TONES, heard, levels, loud_frames

ROOM = TEST_SCENARIOS / "conference_room.py"


async def test_callers_in_three_sessions_share_room_1(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(ROOM)
    peers = [await h.dial(from_=f"+1555010{i}") for i in range(3)]
    for peer in peers:
        await peer.wait_answered()
    await h.wait_until(lambda: len(h.recorder.of("Conference.EndpointAdded")) == 3, 5, "joins")
    added = h.recorder.of("Conference.EndpointAdded")
    assert len({id(e.conference) for e in added}) == 1 and len(h.engine.sessions) == 3
    assert len(h.recorder.of("Conference.Started")) == 1  # created once, joined twice
    for peer, tone in zip(peers, TONES, strict=True):
        peer.listen(RATE)
        peer.send_audio(sine(tone, 3.0, RATE))
    await h.wait_until(lambda: all(loud_frames(p) >= 75 for p in peers), 10, "mixed tones")
    for peer, own in zip(peers, TONES, strict=True):
        assert heard(levels(peer.heard_pcm())) == set(TONES) - {own}

    peers[0].hangup()  # its session terminates; the conference stays for the two others
    await h.wait_event("Conference.EndpointRemoved", timeout=5)
    await h.wait_until(lambda: len(h.engine.sessions) == 2, 10, "the first session's end")
    conference = added[0].conference
    assert not conference.stopped and len(conference.participants()) == 2
    marks = [len(p.heard_pcm()) for p in peers[1:]]

    def fresh_loud(i: int) -> int:
        tail = peers[1 + i].heard_pcm()[marks[i] :]
        return sum(frame_rms(f) > LOUD for f in frames_of(tail, RATE))

    for peer, tone in zip(peers[1:], TONES[1:], strict=True):
        peer.send_audio(sine(tone, 3.0, RATE))
    await h.wait_until(lambda: fresh_loud(0) >= 75 and fresh_loud(1) >= 75, 10, "two tones")
    tails = [p.heard_pcm()[m:] for p, m in zip(peers[1:], marks, strict=True)]
    assert [heard(levels(t)) for t in tails] == [{TONES[2]}, {TONES[1]}]

    for peer in peers[1:]:  # the last session out stops it; the name is free again
        peer.hangup()
    await h.wait_until(lambda: not h.engine.sessions, 10, "every session's end")
    assert conference.stopped and h.engine.conferences == {}
    assert len(h.recorder.of("Conference.Stopped")) == 1
