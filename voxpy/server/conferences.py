"""The conference directory of ``voxpy serve``: which worker hosts which piece of a named
conference, and where each piece links to (:mod:`voxpy.core.confdir` decides).

The supervisor serves it to its workers on a unix socket in its run directory, behind the same
bearer token as the workers' control APIs (``VOXPY_CONTROL_TOKEN``); a worker finds it through
``VOXPY_CONFERENCES_SOCKET`` and names itself with ``VOXPY_WORKER_ID`` (``w<index>``):

=========================================  ==================================================
``POST /conferences/{name}/join``           {"worker"} -> {"parent_uri", "depth"}: this
                                            worker's piece, placed on first ask
``POST /conferences/{name}/leave``          {"worker"}: the piece ended; its children move
``POST /conferences/{name}/refused``        {"worker", "parent", "code"}: that parent refused
                                            the link (486: full; 404: no such conference)
``GET /conferences``                        every conference's pieces: {name: {worker: parent}}
=========================================  ==================================================

A worker that dies leaves every conference at once (:meth:`ConferenceService.worker_gone`),
before its restart takes the same id. :class:`DirectoryClient` is the worker's side.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from structlog.typing import FilteringBoundLogger

from voxpy.core.confdir import ConferenceDirectory, Placement, Uplink
from voxpy.errors import VoxpyError
from voxpy.server.guard import BadRequest, bearer_auth, json_errors, json_object, server_logger

SOCKET_ENV = "VOXPY_CONFERENCES_SOCKET"
WORKER_ENV = "VOXPY_WORKER_ID"
NAME_MAX = 128
"A conference name is a URI user part for the link legs: kept short and printable."


class DirectoryError(VoxpyError):
    """The supervisor's directory could not be reached or refused the request."""


def check_name(name: str) -> str | None:
    """Why ``name`` cannot name a conference (None: it can)."""
    if not name or len(name) > NAME_MAX:
        return f"a conference name has 1-{NAME_MAX} characters"
    if not all(c.isalnum() or c in "-_.~" for c in name) or not name.isascii():
        return "a conference name uses letters, digits and - _ . ~ only"
    return None


class ConferenceService:
    """The supervisor's side: one directory, served on ``path``."""

    def __init__(
        self,
        token: str,
        sip_uri: Callable[[str], str | None],
        log: FilteringBoundLogger,
        directory: ConferenceDirectory | None = None,
    ) -> None:
        self.directory = directory or ConferenceDirectory()
        self._sip_uri = sip_uri
        "worker id -> the SIP URI a link to it dials (None: no such worker now)"
        self._log = log
        self._runner: web.AppRunner | None = None
        self.app = web.Application(
            middlewares=[json_errors, bearer_auth(token, "missing or wrong control token")],
            client_max_size=4096,
        )
        self.app.router.add_post("/conferences/{name}/join", self._join)
        self.app.router.add_post("/conferences/{name}/leave", self._leave)
        self.app.router.add_post("/conferences/{name}/refused", self._refused)
        self.app.router.add_get("/conferences", self._list)

    async def start(self, path: Path) -> None:
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, logger=server_logger()
        )
        await self._runner.setup()
        await web.UnixSite(self._runner, str(path)).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def worker_gone(self, worker: str) -> dict[str, list[str]]:
        """``worker`` died: its pieces leave. The workers to tell, by conference: every
        worker that still has a piece there (children move, a parent drops the dead link)."""
        touched = [n for n in self.directory.names() if worker in self.directory.pieces(n)]
        for moved in self.directory.worker_gone(worker):
            self._log.info("conference_piece_moved", conference=moved.name, worker=moved.worker,
                           parent=moved.parent, gone=worker)  # fmt: skip
        return {name: list(self.directory.pieces(name)) for name in touched}

    # -- handlers ----------------------------------------------------------------------------

    async def _request(self, request: web.Request) -> tuple[str, str, dict[str, Any]]:
        name = request.match_info["name"]
        why = check_name(name)
        if why is not None:
            raise BadRequest(why)
        body = await json_object(request)
        worker = body.get("worker")
        if not isinstance(worker, str) or self._sip_uri(worker) is None:
            raise BadRequest(f"no worker {worker!r}")
        return name, worker, body

    def _reply(self, placed: Placement) -> web.Response:
        parent_uri = None if placed.parent is None else self._sip_uri(placed.parent)
        if placed.parent is not None and parent_uri is None:
            # The parent's worker is restarting (its exit is being handled): "no parent" here
            # would make the piece a root for good. The worker asks again shortly.
            raise BadRequest(f"parent {placed.parent} is not up; ask again", status=503)
        return web.json_response(
            {"parent": placed.parent, "parent_uri": parent_uri, "depth": placed.depth}
        )

    async def _join(self, request: web.Request) -> web.Response:
        name, worker, _ = await self._request(request)
        placed = self.directory.join(name, worker)
        self._log.info("conference_joined", conference=name, worker=worker,
                       parent=placed.parent, depth=placed.depth)  # fmt: skip
        return self._reply(placed)

    async def _leave(self, request: web.Request) -> web.Response:
        name, worker, _ = await self._request(request)
        moved = self.directory.leave(name, worker)
        self._log.info("conference_left", conference=name, worker=worker, moved=len(moved))
        return web.json_response({"moved": [m.worker for m in moved]})

    async def _refused(self, request: web.Request) -> web.Response:
        name, worker, body = await self._request(request)
        parent, code = body.get("parent"), body.get("code", 486)
        if not isinstance(parent, str) or not isinstance(code, int):
            raise BadRequest("parent must be a worker id and code a SIP status")
        placed = self.directory.refused(name, worker, parent, absent=code == 404)
        if placed is None:
            raise BadRequest(f"{worker} has no piece of {name}", status=404)
        self._log.info("conference_link_refused", conference=name, worker=worker,
                       refused_by=parent, parent=placed.parent)  # fmt: skip
        return self._reply(placed)

    async def _list(self, request: web.Request) -> web.Response:
        d = self.directory
        return web.json_response({name: d.pieces(name) for name in d.names()})


class DirectoryClient:
    """A worker's side of the directory (:class:`voxpy.core.confdir.Directory`)."""

    def __init__(self, path: str, token: str, worker: str) -> None:
        self._path, self._worker = path, worker
        self.secret = token
        "the workers' shared secret: it also proves the conference links between them"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http: aiohttp.ClientSession | None = None
        self._parents: dict[str, str] = {}
        "conference -> the parent worker id of the last answer (for refused)"

    @classmethod
    def from_env(cls) -> DirectoryClient | None:
        """The client a ``voxpy serve`` worker gets from its environment (None: not one)."""
        path, worker = os.environ.get(SOCKET_ENV), os.environ.get(WORKER_ENV)
        token = os.environ.get("VOXPY_CONTROL_TOKEN")
        if not path or not worker or not token:
            return None
        return cls(path, token, worker)

    @property
    def worker(self) -> str:
        return self._worker

    async def join(self, name: str) -> Uplink:
        return self._uplink(name, await self._post(name, "join", {}))

    async def leave(self, name: str) -> None:
        self._parents.pop(name, None)
        await self._post(name, "leave", {})

    async def refused(self, name: str, parent_uri: str, code: int) -> Uplink:
        body = {"parent": self._parents.get(name, ""), "code": code}
        return self._uplink(name, await self._post(name, "refused", body))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _uplink(self, name: str, reply: dict[str, Any]) -> Uplink:
        if reply.get("parent"):
            self._parents[name] = str(reply["parent"])
        uri = reply.get("parent_uri")
        return Uplink(name=name, parent_uri=str(uri) if uri else None, depth=int(reply["depth"]))

    async def _post(self, name: str, what: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.UnixConnector(path=self._path),
                timeout=aiohttp.ClientTimeout(total=5),
            )
        url = f"http://directory/conferences/{name}/{what}"
        try:
            async with self._http.post(
                url, json={"worker": self._worker, **body}, headers=self._headers
            ) as response:
                reply = await response.json(content_type=None)
                if response.status != 200:
                    raise DirectoryError(f"conference directory: {response.status} {reply}")
                return dict(reply)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise DirectoryError(f"conference directory unreachable: {exc!r}") from None
