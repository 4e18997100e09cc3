"""Where a named conference runs when its participants' calls arrive on different workers.

A worker holds 4 legs, so a conference of 10 spans workers. Sessions on several workers that
create the conference "room-1" get one conference: each worker runs a *piece* of it (a mixer
with its own participants), and the pieces are joined into a tree by *links*, internal SIP
calls from a piece to its parent piece. A piece mixes what its participants and its links send
and gives each of them everything but its own audio (mix-minus). On a tree that gives every
participant every other participant exactly once and never itself: there is no loop for a
voice to come back round.

::

                     root piece (worker 2): Alice + links
                    /                                   \\
    piece (worker 1): Bob, Carol + link        piece (worker 4): Dan + link + link
                                                          |
                                               piece (worker 3): Eve, Fay + link

A link costs a slot at both ends and a hop of delay (jitter buffer + a bridge tick), so the
tree is kept shallow: a piece takes at most ``fanout`` child links, and a new piece goes under
the shallowest piece with room (breadth first, oldest first).

This module only decides (time-free, no I/O): the supervisor owns one directory, workers ask
it through their control channel. When a piece goes (its session ended, its worker died), its
children are given new parents at once and keep their own subtrees; each child notices when
its link leg ends and asks :meth:`ConferenceDirectory.join` again, which answers with the
parent already chosen. A parent that refuses a link (its slots are full of participants) is
reported with :meth:`refused` and takes no more children until one of its own leaves; a parent
that answers it has no such conference is removed (it left without saying so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

FANOUT = 2
"Child links per piece by default: a worker's 4 slots = parent link + 2 child links + 1 caller."


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """Where ``worker``'s piece of conference ``name`` sits; ``parent`` None: it is the root."""

    name: str
    worker: str
    parent: str | None
    depth: int
    "Links between this piece and the root (the root is 0)."


@dataclass(slots=True)
class _Piece:
    worker: str
    parent: str | None
    children: list[str] = field(default_factory=list)
    full: bool = False
    "The worker refused a link: no more children here."


class ConferenceDirectory:
    """Every named conference's tree of pieces, by worker id (the supervisor's duid)."""

    def __init__(self, *, fanout: int = FANOUT) -> None:
        if fanout < 1:
            raise ValueError(f"fanout must be >= 1, got {fanout}")
        self._fanout = fanout
        self._trees: dict[str, dict[str, _Piece]] = {}
        "name -> worker -> piece, in join order (dicts keep it: oldest first)."

    def join(self, name: str, worker: str) -> Placement:
        """The placement of ``worker``'s piece; a new piece is placed (root when first)."""
        tree = self._trees.setdefault(name, {})
        if worker not in tree:
            parent = self._room(tree, exclude=set())
            tree[worker] = _Piece(worker, parent)
            if parent is not None:
                tree[parent].children.append(worker)
        return self._placement(name, tree, worker)

    def leave(self, name: str, worker: str) -> list[Placement]:
        """``worker``'s piece ended: the new placements of its children (their links end)."""
        tree = self._trees.get(name)
        if tree is None or worker not in tree:
            return []
        gone = tree.pop(worker)
        if gone.parent is not None and gone.parent in tree:
            tree[gone.parent].children.remove(worker)
            tree[gone.parent].full = False  # a slot came free there
        moved: list[Placement] = []
        for child in gone.children:
            piece = tree[child]
            piece.parent = None
            if any(p.parent is None for w, p in tree.items() if w != child):
                piece.parent = self._room(tree, exclude=self._subtree(tree, child))
                if piece.parent is not None:
                    tree[piece.parent].children.append(child)
            moved.append(self._placement(name, tree, child))
        if not tree:
            del self._trees[name]
        return moved

    def worker_gone(self, worker: str) -> list[Placement]:
        """A worker died or was restarted: its pieces leave every conference."""
        moved: list[Placement] = []
        for name in [n for n, tree in self._trees.items() if worker in tree]:
            moved += self.leave(name, worker)
        return moved

    def refused(
        self, name: str, worker: str, parent: str, *, absent: bool = False
    ) -> Placement | None:
        """``parent`` refused ``worker``'s link: no free slot (``absent`` False: it takes no
        more children until one leaves), or no such conference there any more (``absent``:
        a piece that left without saying so; it is removed). ``worker`` is placed again;
        None when it has no piece (it left meanwhile: a late report changes nothing)."""
        tree = self._trees.get(name, {})
        piece = tree.get(worker)
        if piece is None:
            return None
        if piece.parent != parent or parent not in tree:
            return self._placement(name, tree, worker)  # a stale report: answered as it is
        if absent:
            self.leave(name, parent)
            return self._placement(name, tree, worker)
        tree[parent].full = True
        tree[parent].children.remove(worker)
        piece.parent = self._room(tree, exclude=self._subtree(tree, worker))
        if piece.parent is not None:
            tree[piece.parent].children.append(worker)
        return self._placement(name, tree, worker)

    def pieces(self, name: str) -> dict[str, str | None]:
        """worker -> parent worker (None: root), in join order."""
        return {w: p.parent for w, p in self._trees.get(name, {}).items()}

    def names(self) -> list[str]:
        return list(self._trees)

    # -- internals ---------------------------------------------------------------------------

    def _room(self, tree: dict[str, _Piece], exclude: set[str]) -> str | None:
        """The shallowest, oldest piece that takes another child (None: an empty tree)."""
        roots = [w for w, p in tree.items() if p.parent is None and w not in exclude]
        level = roots[:1]
        fallback = None
        while level:
            for w in level:
                piece = tree[w]
                if not piece.full and len(piece.children) < self._fanout:
                    return w
                fallback = fallback or w
            level = [c for w in level for c in tree[w].children if c not in exclude]
        return fallback  # every piece full or refused: the root takes it (it may refuse too)

    @staticmethod
    def _subtree(tree: dict[str, _Piece], worker: str) -> set[str]:
        out, todo = set(), [worker]
        while todo:
            w = todo.pop()
            out.add(w)
            todo += tree[w].children
        return out

    def _placement(self, name: str, tree: dict[str, _Piece], worker: str) -> Placement:
        depth, at = 0, tree[worker].parent
        while at is not None:
            depth, at = depth + 1, tree[at].parent
        return Placement(name=name, worker=worker, parent=tree[worker].parent, depth=depth)


@dataclass(frozen=True, slots=True, kw_only=True)
class Uplink:
    """What a worker's piece of conference ``name`` must do: link to ``parent_uri`` (a SIP
    URI of the parent worker), or nothing (None: this piece is the root)."""

    name: str
    parent_uri: str | None
    depth: int = 0


class Directory(Protocol):
    """The directory as one worker sees it (the supervisor's over its control channel, or a
    local one for a single process)."""

    async def join(self, name: str) -> Uplink: ...

    async def leave(self, name: str) -> None: ...

    async def refused(self, name: str, parent_uri: str, code: int) -> Uplink: ...


class LocalDirectory:
    """One process, one piece per conference: every piece is a root (``voxpy run``, tests)."""

    async def join(self, name: str) -> Uplink:
        return Uplink(name=name, parent_uri=None)

    async def leave(self, name: str) -> None:
        return None

    async def refused(self, name: str, parent_uri: str, code: int) -> Uplink:
        return Uplink(name=name, parent_uri=None)
