"""A worker's conferences by name, and the links that join their pieces across workers.

Under ``voxpy serve`` a named conference is a tree of per-worker pieces
(:mod:`voxpy.core.confdir`; the supervisor's directory places them). Each piece but the root
keeps one *uplink*: an internal SIP call to its parent worker, ``sip:<name>@<parent>`` with
``X-Voxpy-Conference: <name>`` and a proof that the caller is a worker of the same server
(an HMAC of the name under the workers' shared control token). The parent answers it
without running the scenario and adds it to its piece as a hidden participant; the child
adds its end the same way. A link is a participant like any other for the mix, so each side
hears the other side's whole mix minus its own voice (:func:`voxpy.core.units.conference_mix`),
and over the tree everybody hears everybody once.

A link is one leg at each end, in a session of its own that runs no scenario (it ends when
its leg does), so a link outlives the scenario sessions that come and go around it. When a
link ends while its piece still runs (the parent's piece stopped, its worker died, the network
dropped it), the child asks the directory again and dials the parent it is given. A parent
that refuses (its 4 slots are full, or it has no such conference any more) is reported to the
directory, which places the piece elsewhere. Measured delay per link: README, "Conferences".
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Protocol

from structlog.typing import FilteringBoundLogger

from voxpy.core.clock import Clock
from voxpy.core.confdir import Directory, LocalDirectory
from voxpy.core.events import CallEvents
from voxpy.core.signals import IncomingCall
from voxpy.errors import VoxpyError
from voxpy.runtime.call import Call
from voxpy.runtime.waits import clock_sleep

CONFERENCE_HEADER = "X-Voxpy-Conference"
PROOF_HEADER = "X-Voxpy-Link-Proof"
WORKER_HEADER = "X-Voxpy-Worker"
"the child's worker id, so that the parent can drop the link when that worker dies"
RETRY_S = (0.2, 0.5, 1.0, 2.0, 3.0)
"Pauses between failed link attempts; the last one repeats."
PROOF_WINDOW_S = 30
"A proof older or newer than this is refused (a captured INVITE cannot be replayed later)."
SHORT_LINK_S = 1.0
"A link that ends sooner than this counts as a failure: the next attempt waits."
LEAVE_TRIES = 3


def link_proof(secret: str, name: str, worker: str, at: int) -> str:
    """``<unix time>:<HMAC-SHA256 of name, worker and time>`` under the workers' secret."""
    text = f"conference:{name}:{worker}:{at}".encode()
    return f"{at}:{hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()}"


def proof_holds(secret: str, name: str, worker: str, given: str, now: float) -> bool:
    at, _, _ = given.partition(":")
    if not (at.isascii() and at.isdigit()) or abs(int(at) - now) > PROOF_WINDOW_S or not worker:
        return False
    expected = link_proof(secret, name, worker, int(at))
    return hmac.compare_digest(given.encode(errors="replace"), expected.encode())


def sip_uri_for(name: str, parent_uri: str) -> str:
    """``sip:host:port`` -> ``sip:<name>@host:port`` (the name is a valid SIP user part)."""
    return f"sip:{name}@{parent_uri.removeprefix('sip:')}"


class Piece(Protocol):
    """What the links need of a conference (runtime.conference.Conference)."""

    name: str

    @property
    def stopped(self) -> bool: ...

    def add_link(self, call: Any) -> None: ...

    def call_ended(self, call_id: str) -> None: ...


class LinkHost(Protocol):
    """The engine: a session of its own for each link leg, and its logger."""

    log: FilteringBoundLogger

    @property
    def clock(self) -> Clock: ...

    def link_session(self, what: str) -> Any: ...

    def spawn(self, coro: Any, what: str) -> None: ...


class Pieces(MutableMapping[str, Any]):
    """The worker's conferences by name (``engine.conferences``; the Conference registers
    and unregisters itself), and their links when a directory spans workers."""

    def __init__(
        self,
        host: LinkHost,
        directory: Directory | None,
        secret: str | None,
        worker: str = "",
    ) -> None:
        self._host = host
        self._directory = directory or LocalDirectory()
        self._secret = secret
        self._worker = worker
        self._by_name: dict[str, Piece] = {}
        self._uplinks: dict[str, _Uplink] = {}
        self._downlinks: dict[str, dict[str, Call]] = {}
        "conference -> child worker -> its link leg here"
        self.spans_workers = directory is not None and secret is not None

    # -- the dict the Conference uses ---------------------------------------------------------

    def __getitem__(self, name: str) -> Piece:
        return self._by_name[name]

    def __setitem__(self, name: str, piece: Piece) -> None:
        self._by_name[name] = piece
        if self.spans_workers:
            uplink = _Uplink(self._host, self._directory, piece, self._secret or "", self._worker)
            self._uplinks[name] = uplink
            self._host.spawn(uplink.run(), "conference_uplink")

    def __delitem__(self, name: str) -> None:
        del self._by_name[name]
        uplink = self._uplinks.pop(name, None)
        if uplink is not None:
            uplink.stop()
            self._host.spawn(self._leave(name), "conference_leave")

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    # -- links from children -------------------------------------------------------------------

    def accept(self, incoming: IncomingCall, reject: Callable[[int], None]) -> bool:
        """An INVITE that is a link from a child piece: answered into the piece (True), or
        refused with 403/404; False: an ordinary call for the scenario."""
        name = incoming.headers.get(CONFERENCE_HEADER)
        if name is None:
            return False
        log = self._host.log.bind(conference=name, call_id=incoming.call_id)
        given = incoming.headers.get(PROOF_HEADER, "")
        child = incoming.headers.get(WORKER_HEADER, "")
        if not self._secret or not proof_holds(self._secret, name, child, given, time.time()):
            log.warning("conference_link_refused", code=403, why="bad, old or missing proof")
            reject(403)
            return True
        piece = self._by_name.get(name)
        if piece is None or piece.stopped:
            log.info("conference_link_refused", code=404, why="no such conference here")
            reject(404)
            return True
        session = self._host.link_session(f"conference link {name} (from a child)")
        call = session.inbound_call(incoming)
        session.adopt_inbound(call)
        old = self._downlinks.setdefault(name, {}).get(child)
        if old is not None and old.live:
            old.hangup()  # the child linked again: its old leg is dead or about to be
        self._downlinks[name][child] = call
        call.add_event_listener(CallEvents.Connected, lambda _e: _join(piece, call, log))
        call.answer()
        log.info("conference_link_in", from_uri=incoming.from_uri)
        return True

    def refresh(self, name: str, gone: str) -> None:
        """Worker ``gone`` died (the supervisor says): drop its link here, and let this
        piece's uplink ask the directory again (it may have a new parent)."""
        link = self._downlinks.get(name, {}).pop(gone, None)
        if link is not None and link.live:
            self._host.log.info("conference_link_dropped", conference=name, worker=gone)
            link.hangup()
        uplink = self._uplinks.get(name)
        if uplink is not None:
            self._host.spawn(uplink.refresh(), "conference_refresh")

    async def _leave(self, name: str) -> None:
        """Tell the directory, a few times if need be: a piece it keeps would be a ghost that
        answers 404 to every child (which reports it, and the directory then drops it)."""
        for attempt in range(LEAVE_TRIES):
            try:
                await self._directory.leave(name)
                return
            except VoxpyError as exc:
                self._host.log.warning("conference_leave_failed", conference=name,
                                       error=str(exc), attempt=attempt + 1)  # fmt: skip
                await clock_sleep(self._host.clock, RETRY_S[attempt])


def _settle(future: asyncio.Future[int], value: int) -> None:
    if not future.done():
        future.set_result(value)


def _join(piece: Piece, call: Call, log: FilteringBoundLogger) -> None:
    if piece.stopped:
        call.hangup()
        return
    piece.add_link(call)
    # A link's session has no units to tell: the piece forgets the link when it ends.
    call.add_event_listener(CallEvents.Disconnected, lambda _e: piece.call_ended(call.id()))
    log.info("conference_linked", peer=call.id())


class _Uplink:
    """One piece's link to its parent (none for the root), kept up while the piece runs."""

    def __init__(
        self, host: LinkHost, directory: Directory, piece: Piece, secret: str, worker: str
    ) -> None:
        self._host, self._directory, self._piece, self._secret = host, directory, piece, secret
        self._worker = worker
        self._log = host.log.bind(conference=piece.name)
        self._call: Call | None = None
        self._parent_uri: str | None = None
        self._stopped = False
        self._moved = asyncio.Event()
        "set by refresh() when a root is given a parent, and by stop()"

    @property
    def done(self) -> bool:
        return self._stopped or self._piece.stopped

    def stop(self) -> None:
        self._stopped = True
        self._moved.set()
        if self._call is not None and self._call.live:
            self._call.hangup()

    async def refresh(self) -> None:
        """Relink if the directory now gives this piece another parent (or none)."""
        if self.done:
            return  # asking would place a piece that has left
        try:
            up = await self._directory.join(self._piece.name)
        except VoxpyError as exc:
            self._log.warning("conference_directory_failed", error=str(exc))
            self._moved.set()  # run() asks again, with its pauses
            return
        if up.parent_uri == self._parent_uri:
            return
        self._log.info("conference_relink", old=self._parent_uri, new=up.parent_uri)
        if self._call is not None and self._call.live:
            self._call.hangup()  # run() notices the end and links to the new parent
        else:
            self._moved.set()

    async def run(self) -> None:
        failures, refused = 0, ("", 0)
        while not self.done:
            self._moved.clear()  # before asking: a refresh() meanwhile is not lost
            try:
                if not refused[0]:
                    up = await self._directory.join(self._piece.name)
                else:
                    up = await self._directory.refused(self._piece.name, *refused)
            except VoxpyError as exc:  # unreachable, or the parent is restarting (503)
                self._log.warning("conference_directory_failed", error=str(exc))
                failures, refused = await self._pause(failures), ("", 0)
                continue
            if self.done:
                return
            self._parent_uri = up.parent_uri
            if up.parent_uri is None:
                self._log.info("conference_root")
                await self._moved.wait()  # the root links to nobody until refresh() says
                continue
            code, lived = await self._link(up.parent_uri)
            refused = (up.parent_uri, code) if code in (404, 486, 503) else ("", 0)
            if code == 0 and lived >= SHORT_LINK_S:
                failures = 0
                continue  # linked for a while, then the link ended: ask again at once
            failures = await self._pause(failures)

    async def _link(self, parent_uri: str) -> tuple[int, float]:
        """Dial the parent: (0, seconds it lived) once a connected link has ended, else
        (the failure code, 0). -1: this worker has no leg free (not the parent's fault)."""
        name = self._piece.name
        session = self._host.link_session(f"conference link {name} (to the parent)")
        proof = link_proof(self._secret, name, self._worker, int(time.time()))
        headers = {CONFERENCE_HEADER: name, PROOF_HEADER: proof, WORKER_HEADER: self._worker}
        try:
            call = session.call_sip(sip_uri_for(name, parent_uri), headers=headers)
        except VoxpyError as exc:
            self._log.warning("conference_link_failed", parent=parent_uri, error=str(exc))
            session.terminate()
            return -1, 0.0
        self._call = call
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[int] = loop.create_future()
        done: asyncio.Future[int] = loop.create_future()

        def connected(_e: Any) -> None:
            _join(self._piece, call, self._log)
            _settle(outcome, 0)

        call.add_event_listener(CallEvents.Connected, connected)
        call.add_event_listener(CallEvents.Failed, lambda e: _settle(outcome, e.code or 500))
        call.add_event_listener(CallEvents.Disconnected, lambda _e: _settle(done, 0))
        code = await outcome
        if code:
            self._log.info("conference_link_failed", parent=parent_uri, code=code)
            return code, 0.0
        self._log.info("conference_link_up", parent=parent_uri)
        up_at = loop.time()
        await done
        self._log.info("conference_link_down", parent=parent_uri)
        return 0, loop.time() - up_at

    async def _pause(self, failures: int) -> int:
        await clock_sleep(self._host.clock, RETRY_S[min(failures, len(RETRY_S) - 1)])
        return failures + 1
