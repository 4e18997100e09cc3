"""Media units (issue 14), memory mode: misuse raises the project's errors and changes nothing
(no command goes out, no participant changes); the conference's life events; its recording;
who hears whom through the test kit's ``heard_from``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.conftest import TEST_SCENARIOS
from voxpy import ConferenceEvents, InvalidArgumentError, InvalidStateError
from voxpy.backends.memory import MemoryBackend
from voxpy.core import units as u
from voxpy.runtime.session import Session
from voxpy.testing import ScenarioHarness
from voxpy.testing.peer import PeerCall

LAB = TEST_SCENARIOS / "units_lab.py"


class Room:
    """A running lab conference of three connected legs."""

    def __init__(self, h: ScenarioHarness, peers: list[PeerCall]) -> None:
        self.h, self.peers = h, peers
        added = h.recorder.of("Conference.EndpointAdded")
        self.conf = added[0].conference
        self.endpoints = [e.endpoint for e in added]
        self.calls = [e.call for e in self.endpoints]
        self.session: Session = next(iter(h.engine.sessions.values()))
        backend = h.peer_backend.network.endpoints[0]  # type: ignore[attr-defined]
        assert isinstance(backend, MemoryBackend)
        self.backend = backend

    def refused(self, error: type[Exception], action: Callable[[], Any]) -> None:
        """``action`` raises ``error`` and sends nothing; the participants stay as they were."""
        before = (len(self.backend.commands), self.conf.participants())
        with pytest.raises(error):
            action()
        assert (len(self.backend.commands), self.conf.participants()) == before

    def mixes(self) -> list[u.Mix]:
        return [c for c in self.backend.commands if isinstance(c, u.Mix)]


@pytest.fixture(name="room")
async def _room() -> AsyncIterator[Room]:
    async with ScenarioHarness(LAB) as h:
        await h.start(custom_data="conference")
        peers = [await h.expect_call() for _ in range(3)]
        for peer in peers:
            peer.answer()
        await h.wait_until(lambda: len(h.recorder.of("Conference.EndpointAdded")) == 3, 5, "joins")
        yield Room(h, peers)


class TestMisuse:
    """Bad arguments and states raise; nothing changes."""

    async def test_bad_arguments(self, room: Room) -> None:
        conf, call, s = room.conf, room.calls[0], room.session
        room.refused(InvalidArgumentError, lambda: conf.add("alice"))
        room.refused(InvalidArgumentError, lambda: conf.add(call, direction="SIDEWAYS"))
        room.refused(InvalidArgumentError, lambda: conf.add(call, mode="SHOUT"))
        room.refused(InvalidArgumentError, lambda: conf.add(call, display_name=3))
        room.refused(InvalidArgumentError, lambda: conf.record(stereo="yes"))
        room.refused(InvalidArgumentError, lambda: s.create_conference(name=""))
        room.refused(InvalidArgumentError, lambda: s.create_conference(name="../room"))
        room.refused(InvalidArgumentError, lambda: s.create_conference("r", hd_audio="yes"))
        room.refused(InvalidArgumentError, lambda: s.create_recorder(name_prefix="../x"))
        room.refused(InvalidArgumentError, lambda: s.create_recorder(stereo=1))
        room.refused(InvalidArgumentError, lambda: s.create_tts_player(""))
        room.refused(InvalidArgumentError, lambda: s.create_tts_player("hi", rate=9))
        room.refused(InvalidArgumentError, lambda: s.create_url_player(""))
        room.refused(InvalidArgumentError, lambda: s.create_url_player("a.wav", loop="no"))
        room.refused(InvalidArgumentError, lambda: s.send_media_between(conf, conf))
        room.refused(InvalidArgumentError, lambda: s.send_media_between(call, "bob"))

    async def test_a_player_receives_nothing(self, room: Room) -> None:
        player = room.session.create_url_player("tone.wav")
        room.refused(InvalidArgumentError, lambda: room.calls[0].send_media_to(player))
        between = room.session.send_media_between
        room.refused(InvalidArgumentError, lambda: between(player, room.calls[0]))

    async def test_adding_twice(self, room: Room) -> None:
        room.refused(InvalidStateError, lambda: room.conf.add(room.calls[1]))

    async def test_an_ended_call_leaves_and_cannot_come_back(self, room: Room) -> None:
        room.peers[0].hangup()
        removed = await room.h.wait_event("Conference.EndpointRemoved", timeout=5)
        assert removed.endpoint is room.endpoints[0]
        assert room.conf.participants() == room.endpoints[1:]
        assert room.h.heard_from(room.peers[1]) == {room.peers[2]}  # the others go on
        room.refused(InvalidStateError, lambda: room.conf.add(room.calls[0]))
        room.refused(InvalidStateError, lambda: room.conf.remove(room.calls[0]))
        room.refused(InvalidStateError, room.endpoints[0].mute)

    async def test_a_stopped_conference_refuses_everything(self, room: Room) -> None:
        conf = room.conf
        conf.stop()
        names = [str(e.name) for e in room.h.recorder.of("Conference.EndpointRemoved")]
        assert len(names) == 3 and room.h.recorder.of("Conference.Stopped")
        assert conf.participants() == [] and conf.stopped
        assert [room.h.heard_from(p) for p in room.peers] == [set(), set(), set()]
        for action in (
            lambda: conf.add(room.calls[0]),
            lambda: conf.remove(room.calls[0]),
            conf.record,
            room.endpoints[1].unmute,
            lambda: conf.send_media_to(room.calls[0]),
        ):
            room.refused(InvalidStateError, action)
        conf.stop()  # again: nothing
        assert len(room.h.recorder.of("Conference.Stopped")) == 1

    async def test_a_finished_player_cannot_be_sent(self, room: Room) -> None:
        room.h.media.register("jingle", duration=1.0)
        player = room.session.create_url_player("jingle")
        await room.h.wait_event("Player.PlaybackFinished", timeout=5)
        room.refused(InvalidStateError, lambda: player.send_media_to(room.calls[0]))


class TestPlayer:
    """A player keeps its own time; stopping it silences its calls; a failure finishes it."""

    async def test_a_looping_player_stops_silently(self, room: Room) -> None:
        room.h.media.register("hold-music", duration=5.0)
        player = room.session.create_url_player("hold-music", loop=True)
        await room.h.wait_event("Player.Started", timeout=5)
        player.send_media_to(room.calls[0])
        call_id = room.calls[0].id()
        assert room.mixes()[-1] == u.Mix(call_id=call_id, sources=(player.id(),))
        assert room.h.heard_from(room.peers[0]) == set()  # the player replaced the conference
        assert room.h.heard_from(room.peers[1]) == {room.peers[0], room.peers[2]}
        await room.h.advance(12)  # virtual time: a loop never finishes
        player.stop()
        assert room.mixes()[-1] == u.Mix(call_id=call_id, sources=())
        assert player.state == "stopped" and not room.h.recorder.of("Player.PlaybackFinished")
        player.stop()  # again: nothing

    async def test_a_failed_media_finishes_with_its_error(self, room: Room) -> None:
        room.h.media.register("missing", error="404 Not Found")
        room.session.create_url_player("missing")
        finished = await room.h.wait_event("Player.PlaybackFinished", timeout=5)
        assert finished.error == "404 Not Found"
        assert not room.h.recorder.of("Player.Started")


class TestConferenceModel:
    """Who hears whom follows mute, unmute, remove and re-add, one mix per change."""

    async def test_mute_remove_and_add_again(self, room: Room) -> None:
        h, p = room.h, room.peers
        assert [h.heard_from(x) for x in p] == [{p[1], p[2]}, {p[0], p[2]}, {p[0], p[1]}]
        room.endpoints[2].mute()
        assert [h.heard_from(x) for x in p] == [{p[1]}, {p[0]}, {p[0], p[1]}]
        room.endpoints[2].unmute()
        room.conf.remove(room.calls[0])
        assert [h.heard_from(x) for x in p] == [set(), {p[2]}, {p[1]}]
        again = room.conf.add(room.calls[0], direction="RECEIVE")
        assert [h.heard_from(x) for x in p] == [{p[1], p[2]}, {p[2]}, {p[1]}]
        assert room.conf.get_endpoint(room.calls[0]) is again and again.direction == "RECEIVE"

    async def test_send_media_to_and_stop_media_to_set_the_direction(self, room: Room) -> None:
        """VoxEngine's two halves of joining: the call sends to the conference, the
        conference sends to the call; both make BOTH, neither makes it leave."""
        h, p, conf, call = room.h, room.peers, room.conf, room.calls[0]
        conf.remove(call)
        call.send_media_to(conf)
        endpoint = conf.get_endpoint(call)
        assert endpoint is not None and endpoint.direction == "SEND"
        assert [h.heard_from(x) for x in p] == [set(), {p[0], p[2]}, {p[0], p[1]}]
        conf.send_media_to(call)
        assert endpoint.direction == "BOTH" and h.heard_from(p[0]) == {p[1], p[2]}
        call.stop_media_to(conf)
        assert endpoint.direction == "RECEIVE" and h.heard_from(p[1]) == {p[2]}
        conf.stop_media_to(call)
        assert conf.get_endpoint(call) is None and h.heard_from(p[0]) == set()
        names = [str(e.name) for e in h.recorder.of("Conference.EndpointRemoved")]
        assert len(names) == 2  # the remove, then the last half

    async def test_a_say_replaces_the_mix_for_that_call_only(self, room: Room) -> None:
        h, p = room.h, room.peers
        room.calls[0].say("One moment")
        await h.wait_event("Call.PlaybackStarted", p[0])
        assert h.heard_from(p[0]) == set()  # one incoming stream: the prompt
        assert h.heard_from(p[1]) == {p[0], p[2]}  # it still sends
        room.endpoints[2].mute()  # a remix does not take the call back from its prompt
        assert h.heard_from(p[0]) == set()
        room.conf.send_media_to(room.calls[0])  # sent again: it hears the conference
        assert h.heard_from(p[0]) == {p[1]}

    async def test_the_recording_hears_the_senders(self, room: Room) -> None:
        room.conf.record()
        started = await room.h.wait_event("Conference.RecordStarted", timeout=5)
        network = room.h.peer_backend.network  # type: ignore[attr-defined]
        (recorder,) = network.units.recorders.values()
        assert recorder.sources == tuple(c.id() for c in room.calls)
        room.endpoints[1].mute()
        assert recorder.sources == (room.calls[0].id(), room.calls[2].id())
        room.refused(InvalidStateError, room.conf.record)
        await room.h.advance(2)
        room.conf.stop_recording()
        stopped = await room.h.wait_event("Conference.RecordStopped", timeout=5)
        assert stopped.url == started.url and stopped.duration >= 2.0

    async def test_listeners_take_conference_events_only(self, room: Room) -> None:
        seen: list[str] = []
        room.conf.add_event_listener(ConferenceEvents.Stopped, lambda e: seen.append(e.name))
        with pytest.raises(InvalidArgumentError, match="CallEvents"):
            room.conf.add_event_listener("Call.Connected", lambda e: None)
        room.conf.stop()
        assert seen == ["Conference.Stopped"]
