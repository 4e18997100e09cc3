"""Media units (issue 14) on both backends: a one-worker conference of three legs, a player
heard by two legs, a recorder of a bridged pair. The legs are placed by
``tests/scenarios/units_lab.py`` and answered by the test kit's peer (memory network, or a
pjsua2 process over loopback SIP); what each peer heard is checked by frequency (numpy FFT).
Waits are for events and for audio having arrived, never for time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.backends.test_pjsua2_media import decode_mp3
from tests.backends.test_pjsua2_streams import LOUD, frame_rms, frames_of, sine
from tests.conftest import TEST_SCENARIOS, Harness
from voxpy.testing import ScenarioHarness
from voxpy.testing.peer import PeerCall

LAB = TEST_SCENARIOS / "units_lab.py"
RATE = 8000
TONES = (400.0, 700.0, 1150.0)
"One per caller: none is a harmonic of another below 4 kHz."
PRESENT = 0.1
"""A tone is heard when its peak is at least this share of the loudest peak: mixed tones
measured 0.91-1.0 over pjsua2 (speex between the processes), 1.0 in memory."""
ABSENT = 0.02
"""...and not heard below this share: a tone nobody mixed in measured at most 0.0022."""


def levels(pcm: bytes, freqs: tuple[float, ...] = TONES, rate: int = RATE) -> list[float]:
    """Each frequency's spectral peak (+-15 Hz) over the loud frames of ``pcm``, relative to
    the loudest peak of all ``freqs``; all zero for silence."""
    loud = [f for f in frames_of(pcm, rate) if frame_rms(f) > LOUD]
    if not loud:
        return [0.0] * len(freqs)
    x = np.concatenate([np.asarray(f, dtype=float) for f in loud])
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    bins = np.fft.rfftfreq(len(x), 1 / rate)
    peaks = [float(spectrum[(bins > f - 15) & (bins < f + 15)].max()) for f in freqs]
    top = max(peaks)
    return [p / top for p in peaks]


def heard(levels_: list[float]) -> set[float]:
    """The tones present, after checking every other one is clearly absent."""
    present = {f for f, v in zip(TONES, levels_, strict=True) if v >= PRESENT}
    assert all(v < ABSENT for f, v in zip(TONES, levels_, strict=True) if f not in present), levels_
    return present


def loud_frames(call: PeerCall) -> int:
    return sum(frame_rms(f) > LOUD for f in frames_of(call.heard_pcm(), RATE))


async def placed(h: ScenarioHarness, mode: str, legs: int) -> list[PeerCall]:
    """Start the lab in ``mode``; answer its legs; they are connected when this returns, in
    dialing order (p1, p2, ...) whatever order their INVITEs took."""
    await h.start(custom_data=mode)
    peers = [await h.expect_call() for _ in range(legs)]
    peers.sort(key=lambda p: p.incoming.destination if p.incoming else "")
    for peer in peers:
        peer.answer()
    for peer in peers:
        await peer.wait_answered()
    return peers


async def engine_calls(h: ScenarioHarness, peers: list[PeerCall]) -> list[Any]:
    """The engine's Call at the far end of each peer call."""
    return [(await h.wait_event("Call.Connected", p)).call for p in peers]


async def conference(voxpy_harness: Harness, directions: str = "") -> tuple[Any, list[Any]]:
    """The lab's conference of three; the peers in dialing order (p1, p2, p3)."""
    h = await voxpy_harness(LAB)
    peers = await placed(h, f"conference:{directions}" if directions else "conference", 3)
    await h.wait_until(lambda: len(h.recorder.of("Conference.EndpointAdded")) == 3, 5, "joins")
    conf = h.recorder.of("Conference.EndpointAdded")[0].conference
    names = [conf.get_endpoint(c).display_name for c in await engine_calls(h, peers)]
    assert names == ["p1", "p2", "p3"]
    return h, peers


async def speak_and_listen(
    h: ScenarioHarness, peers: list[PeerCall], listeners: list[PeerCall], seconds: float = 3.0
) -> None:
    """Each peer sends its tone (the first TONES[0], ...); wait until each of ``listeners``
    heard 1.5 s of sound."""
    for peer, tone in zip(peers, TONES, strict=False):
        peer.listen(RATE)
        peer.send_audio(sine(tone, seconds, RATE))
    await h.wait_until(
        lambda: all(loud_frames(p) >= 75 for p in listeners), 10, "1.5 s of mixed tones"
    )


class TestConference:
    """Each participant hears every other one that sends, never itself."""

    async def test_three_callers_hear_the_two_others(self, voxpy_harness: Harness) -> None:
        h, peers = await conference(voxpy_harness)
        assert h.recorder.of("Conference.Started")
        await speak_and_listen(h, peers, peers)
        for peer, own in zip(peers, TONES, strict=True):
            assert heard(levels(peer.heard_pcm())) == set(TONES) - {own}
        if h.backend == "memory":
            assert [h.heard_from(p) for p in peers] == [
                {peers[1], peers[2]}, {peers[0], peers[2]}, {peers[0], peers[1]}]  # fmt: skip

    async def test_a_muted_participant_is_heard_by_nobody(self, voxpy_harness: Harness) -> None:
        h, peers = await conference(voxpy_harness)
        (call,) = await engine_calls(h, peers[:1])
        h.recorder.of("Conference.EndpointAdded")[0].conference.get_endpoint(call).mute()
        await speak_and_listen(h, peers, peers)
        assert heard(levels(peers[0].heard_pcm())) == {TONES[1], TONES[2]}
        assert heard(levels(peers[1].heard_pcm())) == {TONES[2]}
        assert heard(levels(peers[2].heard_pcm())) == {TONES[1]}

    async def test_send_and_receive_directions(self, voxpy_harness: Harness) -> None:
        """p1 BOTH, p2 SEND (heard, hears nothing), p3 RECEIVE (hears, not heard)."""
        h, peers = await conference(voxpy_harness, "BOTH,SEND,RECEIVE")
        await speak_and_listen(h, peers, [peers[0], peers[2]])
        assert heard(levels(peers[0].heard_pcm())) == {TONES[1]}
        assert heard(levels(peers[1].heard_pcm())) == set()
        assert heard(levels(peers[2].heard_pcm())) == {TONES[0], TONES[1]}

    async def test_a_hangup_leaves_the_others_talking(self, voxpy_harness: Harness) -> None:
        h, peers = await conference(voxpy_harness)
        peers[0].hangup()
        removed = await h.wait_event("Conference.EndpointRemoved", timeout=5)
        assert removed.endpoint.display_name == "p1"
        conf = removed.conference
        assert [e.display_name for e in conf.participants()] == ["p2", "p3"]
        await speak_and_listen(h, peers[1:], peers[1:])
        # peers[1:] sent TONES[0] and TONES[1]: each hears the other's tone only.
        assert heard(levels(peers[1].heard_pcm())) == {TONES[1]}
        assert heard(levels(peers[2].heard_pcm())) == {TONES[0]}


async def test_one_player_heard_by_two_legs(voxpy_harness: Harness, tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    _write_wav(wav, sine(TONES[1], 2.0, RATE))
    h = await voxpy_harness(LAB)
    peers = await placed(h, f"player:{wav}", 2)
    for peer in peers:
        peer.listen(RATE)
    started = await h.wait_event("Player.Started", timeout=5)
    assert abs(started.duration - 2.0) < 0.05
    finished = await h.wait_event("Player.PlaybackFinished", timeout=5)
    assert finished.player is started.player and finished.error is None
    if h.backend == "sip":  # memory playbacks carry no audio
        for peer in peers:
            assert loud_frames(peer) >= 75
            assert heard(levels(peer.heard_pcm())) == {TONES[1]}


@pytest.mark.parametrize("stereo", [False, True])
async def test_recorder_of_a_bridged_pair_has_both_voices(
    voxpy_harness: Harness, stereo: bool
) -> None:
    """Mono mixes both voices; stereo puts the first call sent to it left, the other right."""
    h = await voxpy_harness(LAB)
    peers = await placed(h, "recorder:stereo" if stereo else "recorder", 2)
    started = await h.wait_event("Recorder.Started", timeout=5)
    await speak_and_listen(h, peers, peers)
    assert heard(levels(peers[0].heard_pcm())) == {TONES[1]}  # the bridge: the other's voice
    assert heard(levels(peers[1].heard_pcm())) == {TONES[0]}
    started.recorder.stop()
    stopped = await h.wait_event("Recorder.Stopped", timeout=10)
    assert stopped.url == started.url and stopped.error is None
    assert Path(stopped.url).name.startswith("pair-") and stopped.duration >= 1.4
    if h.backend == "sip":
        channels, left, right = decode_mp3(stopped.url)
        assert channels == (2 if stereo else 1)
        pcm = [np.asarray(side, dtype=np.int16).tobytes() for side in (left, right)]
        if stereo:
            assert [heard(levels(side)) for side in pcm] == [{TONES[0]}, {TONES[1]}]
        else:
            assert heard(levels(pcm[0])) == {TONES[0], TONES[1]}


def _write_wav(path: Path, pcm: bytes) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)


async def test_a_session_ending_mid_recording_reports_the_file_before_terminated(
    voxpy_harness: Harness,
) -> None:
    """Terminated waits for the recorder's RecordStopped (its url is what an end handler
    reports), as it does for a call's recording."""
    h = await voxpy_harness(LAB)
    peers = await placed(h, "recorder", 2)
    started = await h.wait_event("Recorder.Started", timeout=5)
    for peer in peers:  # no live call is left to wait for: only the recording
        peer.hangup()
        await h.wait_event("Call.Disconnected", peer)
    session = next(iter(h.engine.sessions.values()))
    names: list[str] = []
    h.engine.observers.append(lambda _s, event: names.append(str(event.name)))
    session.terminate()
    await h.wait_event("Application.Terminated", timeout=10)
    assert "Recorder.Stopped" in names, names
    assert names.index("Recorder.Stopped") < names.index("Application.Terminated"), names
    assert started.recorder is not None
