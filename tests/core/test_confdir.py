"""The conference directory: the tree of pieces a named conference spans across workers."""

from __future__ import annotations

import random

import pytest

from voxpy.core.confdir import ConferenceDirectory


def check_tree(d: ConferenceDirectory, name: str, fanout: int) -> None:
    """One root, every parent present, no cycle, at most ``fanout`` children (unless full)."""
    pieces = d.pieces(name)
    if not pieces:
        return
    assert [w for w, p in pieces.items() if p is None].__len__() == 1
    for worker in pieces:
        seen, at = set(), worker
        while at is not None:
            assert at not in seen, f"cycle through {at}"
            seen.add(at)
            at = pieces[at]
    children: dict[str, int] = {}
    for parent in pieces.values():
        if parent is not None:
            children[parent] = children.get(parent, 0) + 1
    assert max(children.values(), default=0) <= fanout


def test_first_is_root_then_breadth_first() -> None:
    d = ConferenceDirectory(fanout=2)
    placed = [d.join("room", f"w{i}") for i in range(7)]
    assert [p.parent for p in placed] == [None, "w0", "w0", "w1", "w1", "w2", "w2"]
    assert [p.depth for p in placed] == [0, 1, 1, 2, 2, 2, 2]
    assert d.join("room", "w3").parent == "w1"  # asking again: the same answer
    assert d.join("other", "w3").parent is None  # names are separate conferences


def test_a_middle_piece_leaving_moves_its_children_with_their_subtrees() -> None:
    d = ConferenceDirectory(fanout=2)
    for i in range(7):
        d.join("room", f"w{i}")
    moved = d.leave("room", "w1")  # children w3, w4
    assert {p.worker for p in moved} == {"w3", "w4"}
    assert all(p.parent not in (None, "w1") for p in moved)
    assert "w1" not in d.pieces("room")
    check_tree(d, "room", 2)


def test_the_root_leaving_promotes_a_child() -> None:
    d = ConferenceDirectory(fanout=2)
    for i in range(5):
        d.join("room", f"w{i}")
    moved = d.leave("room", "w0")
    assert moved[0].worker == "w1" and moved[0].parent is None
    assert d.join("room", "w2").parent is not None  # w2 now hangs below the new root
    check_tree(d, "room", 2)
    for w in list(d.pieces("room")):
        d.leave("room", w)
    assert d.names() == []


def test_refused_parent_takes_no_more_children() -> None:
    d = ConferenceDirectory(fanout=2)
    d.join("room", "w0")
    d.join("room", "w1")
    again = d.refused("room", "w1", "w0")  # w0's slots are all participants
    assert again.parent == "w0"  # nowhere else to go yet: the root (which may refuse again)
    d.join("room", "w2")
    assert d.pieces("room")["w2"] == "w1"  # w0 is full, w1 has room
    stale = d.refused("room", "w2", "w0")  # a stale report: answered as it is
    assert stale is not None and stale.parent == "w1"
    d.leave("room", "w1")  # w2 moves; w0 had a child leave: a slot came free there
    assert d.pieces("room")["w2"] == "w0"
    assert d.refused("room", "w9", "w0") is None  # no piece (it left): nothing is created
    assert "w9" not in d.pieces("room")


def test_a_parent_without_the_conference_is_removed() -> None:
    d = ConferenceDirectory(fanout=2)
    for i in range(4):
        d.join("room", f"w{i}")
    placed = d.refused("room", "w3", "w1", absent=True)  # w1's piece left without a word
    assert placed is not None and placed.parent is not None and placed.parent != "w1"
    assert "w1" not in d.pieces("room")
    check_tree(d, "room", 2)


def test_worker_gone_leaves_every_conference() -> None:
    d = ConferenceDirectory()
    for name in ("a", "b"):
        d.join(name, "w0")
        d.join(name, "w1")
    moved = d.worker_gone("w0")
    assert sorted((p.name, p.worker, p.parent) for p in moved) == [
        ("a", "w1", None),
        ("b", "w1", None),
    ]


def test_fanout_is_checked() -> None:
    with pytest.raises(ValueError, match="fanout"):
        ConferenceDirectory(fanout=0)


def test_random_churn_keeps_one_tree() -> None:
    rng = random.Random(14)
    d = ConferenceDirectory(fanout=2)
    live: set[str] = set()
    for step in range(2000):
        worker = f"w{rng.randrange(30)}"
        roll = rng.random()
        if roll < 0.55:
            d.join("room", worker)
            live.add(worker)
        elif roll < 0.9 and live:
            gone = rng.choice(sorted(live))
            d.leave("room", gone)
            live.discard(gone)
        elif live:
            piece = rng.choice(sorted(live))
            parent = d.pieces("room")[piece]
            if parent is not None:
                d.refused("room", piece, parent)
        assert set(d.pieces("room")) == live, step
        check_tree(d, "room", 2 + 30)  # refusals may overfill the root's fallback

