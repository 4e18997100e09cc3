"""The conference's mixing rule (core.units): who hears whom."""

from __future__ import annotations

from voxpy.core.audio import mix
from voxpy.core.units import Direction, Member, conference_mix, conference_senders

BOTH, SEND, RECEIVE = Direction.BOTH, Direction.SEND, Direction.RECEIVE


class TestConferenceMix:
    """Each participant hears every other one that sends, never itself."""

    def test_three_talkers_hear_the_two_others(self) -> None:
        members = {k: Member() for k in "abc"}
        assert conference_mix(members) == {"a": ("b", "c"), "b": ("a", "c"), "c": ("a", "b")}

    def test_send_only_is_heard_and_hears_nothing(self) -> None:
        members = {"a": Member(direction=SEND), "b": Member(), "c": Member()}
        assert conference_mix(members) == {"a": (), "b": ("a", "c"), "c": ("a", "b")}

    def test_receive_only_hears_and_is_not_heard(self) -> None:
        members = {"a": Member(direction=RECEIVE), "b": Member(), "c": Member()}
        assert conference_mix(members) == {"a": ("b", "c"), "b": ("c",), "c": ("b",)}

    def test_muted_is_heard_by_nobody_but_still_hears(self) -> None:
        members = {"a": Member(muted=True), "b": Member(), "c": Member()}
        assert conference_mix(members) == {"a": ("b", "c"), "b": ("c",), "c": ("b",)}
        assert conference_senders(members) == ("b", "c")

    def test_a_whisper_is_heard_by_its_listener_only(self) -> None:
        members = {"c": Member(), "a": Member(), "s": Member(heard_by=frozenset({"a"}))}
        assert conference_mix(members) == {"c": ("a",), "a": ("c", "s"), "s": ("c", "a")}
        assert conference_senders(members) == ("c", "a")  # a recording leaves the whisper out

    def test_alone_hears_silence(self) -> None:
        assert conference_mix({"a": Member()}) == {"a": ()}
        assert conference_mix({}) == {}


class TestMix:
    """Frames add up, saturating."""

    def test_sum_and_clip(self) -> None:
        one = (1000).to_bytes(2, "little", signed=True)
        big = (30000).to_bytes(2, "little", signed=True)
        assert mix([one, one]) == (2000).to_bytes(2, "little", signed=True)
        assert mix([big, big]) == (32767).to_bytes(2, "little", signed=True)
        assert mix([]) == b""
