"""routing.wanted_links with fake bridge ports: mixes, player units, recorder units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from voxpy.backends.pjsua2.playback import Playback
from voxpy.backends.pjsua2.routing import LegMedia, Mixed, UnitRecorder, Units, wanted_links


@dataclass(eq=False)
class Port:
    slot: int

    def getPortId(self) -> int:
        return self.slot

    def startTransmit(self, sink: Any) -> None:
        pass

    def stopTransmit(self, sink: Any) -> None:
        pass


SILENCE = Port(0)


def leg(call_id: str, slot: int, **kw: Any) -> LegMedia:
    return LegMedia(call_id, audio=cast(Any, Port(slot)), slot=slot, **kw)


def links(legs: dict[str, LegMedia], units: Units | None = None) -> set[tuple[int, int]]:
    return set(wanted_links(legs, cast(Any, SILENCE), units))


class TestMixes:
    """A mix is one link per source into the sink; never the sink itself."""

    def test_conference_of_three(self) -> None:
        legs = {
            "a": leg("a", 1, source=Mixed(("b", "c"))),
            "b": leg("b", 2, source=Mixed(("a", "c"))),
            "c": leg("c", 3, source=Mixed(("a", "b", "c"))),  # itself: skipped
        }
        assert links(legs) == {(2, 1), (3, 1), (1, 2), (3, 2), (1, 3), (2, 3)}

    def test_a_muted_sink_hears_silence(self) -> None:
        legs = {"a": leg("a", 1, source=Mixed(("b",)), muted=True), "b": leg("b", 2)}
        assert links(legs) == {(0, 1), (0, 2)}

    def test_an_ended_source_is_skipped(self) -> None:
        legs = {"a": leg("a", 1, source=Mixed(("gone",)))}
        assert links(legs) == {(0, 1)}


class TestUnits:
    """A player unit feeds every leg that mixes it and always the null sink; a recorder hears
    its first source left (TX) and the others right (RX)."""

    def test_one_player_to_two_legs(self) -> None:
        player = Playback("p", "p", cast(Any, Port(9)), 1.0, 0)
        units = Units(players={"p": player})
        legs = {"a": leg("a", 1, source=Mixed(("p",))), "b": leg("b", 2, source=Mixed(("p",)))}
        assert links(legs, units) == {(9, 0), (9, 1), (9, 2)}

    def test_recorder_of_a_bridged_pair(self) -> None:
        rec = cast(Any, type("Rec", (), {"rx": Port(21), "tx": Port(20)})())
        units = Units(recorders={"r": UnitRecorder(rec, ("a", "b"))})
        legs = {"a": leg("a", 1, source="b"), "b": leg("b", 2, source="a")}
        assert links(legs, units) == {(2, 1), (1, 2), (1, 20), (2, 21)}
