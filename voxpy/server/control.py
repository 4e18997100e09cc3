"""The worker side of ``voxpy serve``: a loopback HTTP control API inside ``voxpy run``.

``voxpy run SCENARIO --control-socket PATH`` (an internal flag the supervisor passes) serves,
on a unix socket in the supervisor's run directory (no port to pick, so none another process
can take) and behind the bearer token from ``VOXPY_CONTROL_TOKEN``:

=========================================  ==================================================
``GET /status``                             pid, live calls, sessions, draining, counters
``POST /drain``                             refuse new INVITEs (503) and new sessions
``POST /sessions`` {"custom_data"}          ``engine.start_session`` -> 201 {"session_id"}
``GET /sessions``, ``GET /sessions/{id}``   running sessions with their live calls, and the
                                            results of finished ones (voxpy.server.results)
``DELETE /sessions/{id}``                   ``session.terminate()`` -> 202 (409: finished)
``POST /sessions/{id}/request``             ``session.http_request``; the reply is the HTTP
                                            answer the public API passes on unchanged;
                                            501 when the scenario has no HttpRequest handler
``GET /sessions/{id}/websocket``            a WebSocket (upgrade) handed to the scenario as
                                            AppEvents.WebSocket; 501 without a handler
``GET /sessions/{id}/journal``              the session's journal (voxpy.runtime.journal):
                                            {"session_id", "live", "entries": [...]}, live
                                            or finished (memory, else journal.dir)
=========================================  ==================================================

It runs on the engine's loop, so handlers touch sessions exactly as backend signals do.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from structlog.typing import FilteringBoundLogger

from voxpy.core.events import AppEvents
from voxpy.errors import InvalidArgumentError, ScenarioError
from voxpy.runtime.engine import Engine
from voxpy.runtime.session import Session
from voxpy.runtime.websocket import MAX_MESSAGE_BYTES
from voxpy.server.guard import (
    MAX_BODY_BYTES,
    BadRequest,
    bearer_auth,
    error,
    json_errors,
    json_object,
    optional_str,
    server_logger,
)
from voxpy.server.metrics import WorkerCounters, overload_status
from voxpy.server.results import ResultLimits, SessionResults, wall_time

TOKEN_ENV = "VOXPY_CONTROL_TOKEN"
SUPERVISOR_PID_ENV = "VOXPY_SUPERVISOR_PID"
CONTROL_MAX_BODY_BYTES = 8 * MAX_BODY_BYTES
"""A forwarded HttpRequest: the public API's largest body, JSON-escaped (a control character
becomes six bytes), plus its headers."""
_PR_SET_PDEATHSIG = 1


def reply_for(result: Any) -> web.Response:
    """The HTTP answer for what an HttpRequest handler returned (see the README)."""
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str):
        return web.Response(text=result, content_type="text/plain")
    if isinstance(result, bytes | bytearray | memoryview):
        return web.Response(body=bytes(result), content_type="application/octet-stream")
    try:
        text = json.dumps(result)
    except (TypeError, ValueError) as exc:
        return error(500, f"the HttpRequest handler returned something that is not JSON: {exc}")
    return web.Response(text=text, content_type="application/json")


def describe(session: Session, engine: Engine) -> dict[str, Any]:
    """A running session as the API shows it: id, wall-clock start, custom data, live calls
    (a finished one's record comes from :class:`~voxpy.server.results.SessionResults`)."""
    age = engine.clock.now() - session.started_at
    return {
        "session_id": session.id,
        "state": "ending" if session.ending else "live",
        "started_at": wall_time(time.time() - age),
        "custom_data": session.custom_data(),
        "ending": session.ending,
        "calls": [
            {
                "call_id": call.id(),
                "state": call.state(),
                "status": call.status(),
                "incoming": call.incoming(),
                "callerid": call.callerid(),
                "number": call.number(),
            }
            for call in session.live_calls()
        ],
    }


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this worker when the supervisor dies, so no orphan keeps its port.

    The supervisor's pid comes in ``VOXPY_SUPERVISOR_PID``; if our parent is already someone
    else, the supervisor died before prctl took effect and we stop at once.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    expected = os.environ.get(SUPERVISOR_PID_ENV, "")
    if expected.isdigit() and os.getppid() != int(expected):
        os.kill(os.getpid(), signal.SIGTERM)


class WorkerControl:
    """The control API of one worker process."""

    def __init__(
        self,
        engine: Engine,
        token: str | None,
        log: FilteringBoundLogger,
        results: ResultLimits | None = None,
    ) -> None:
        self.engine = engine
        self.draining = False
        self.counters = WorkerCounters()
        self.results = SessionResults(results)
        engine.observers.append(self.counters.observe)
        engine.observers.append(self.results.observe)
        self._token = token
        self._log = log
        self._contact = engine.backend.contact_uri  # the backend forgets it once stopped
        # The port the worker's SIP stack bound (the OS picks it when asked for 0): the
        # supervisor lists exactly this one in Kamailio's dispatcher.
        port = self._contact.rpartition(":")[2]
        self._sip_port = int(port) if port.isdigit() else 0
        self._runner: web.AppRunner | None = None
        self.path: Path | None = None
        self.app = web.Application(
            middlewares=[json_errors, bearer_auth(token, "missing or wrong control token")],
            client_max_size=CONTROL_MAX_BODY_BYTES,
        )
        self.app.router.add_get("/status", self._status)
        self.app.router.add_post("/drain", self._drain)
        self.app.router.add_post("/sessions", self._start)
        self.app.router.add_get("/sessions", self._list)
        self.app.router.add_get("/sessions/{id}", self._get)
        self.app.router.add_delete("/sessions/{id}", self._terminate)
        self.app.router.add_post("/sessions/{id}/request", self._request)
        self.app.router.add_get("/sessions/{id}/websocket", self._websocket)
        self.app.router.add_get("/sessions/{id}/journal", self._journal)
        self.app.router.add_post("/conferences/{name}/refresh", self._refresh_conference)

    async def start(self, path: Path) -> None:
        """Listen on the unix socket ``path`` (a stale socket file there is replaced)."""
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, logger=server_logger()
        )
        await self._runner.setup()
        await web.UnixSite(self._runner, str(path)).start()
        self.path = path
        self._log.info("control_started", socket=str(path), auth=self._token is not None)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _session(self, request: web.Request) -> Session | None:
        return self.engine.sessions.get(request.match_info["id"])

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "pid": os.getpid(),
                "contact": self._contact,
                "sip_port": self._sip_port,
                "live_calls": self.engine.live_legs(),
                "sessions": len(self.engine.sessions),
                "max_calls": self.engine.backend.max_calls,
                "draining": self.draining,
                "counters": self.counters.snapshot(),
                "overload": overload_status(self.engine.backend),
            }
        )

    async def _refresh_conference(self, request: web.Request) -> web.Response:
        """The supervisor's directory changed (a worker died): drop links from the dead
        worker, and relink if this worker's piece has a new parent."""
        body = await json_object(request)
        gone = body.get("gone")
        if not isinstance(gone, str):
            raise BadRequest("gone must be a worker id")
        self.engine.conferences.refresh(request.match_info["name"], gone)
        return web.json_response({"refreshing": True})

    async def _drain(self, request: web.Request) -> web.Response:
        if not self.draining:
            self.draining = True
            self.engine.backend.stop_accepting()
            self._log.info("worker_draining", live_calls=self.engine.live_legs())
        return web.json_response({"draining": True, "live_calls": self.engine.live_legs()})

    async def _start(self, request: web.Request) -> web.Response:
        if self.draining:
            return error(503, "this worker is draining")
        custom_data = optional_str(await json_object(request), "custom_data")
        try:
            session = self.engine.start_session(custom_data)
        except ScenarioError as exc:
            self._log.error("session_start_failed", error=str(exc))
            return error(500, f"the scenario failed to start: {exc}")
        session.log.info("session_started_by_api")
        return web.json_response({"session_id": session.id}, status=201)

    async def _list(self, request: web.Request) -> web.Response:
        sessions = [describe(s, self.engine) for s in list(self.engine.sessions.values())]
        return web.json_response({"sessions": sessions + self.results.finished()})

    async def _get(self, request: web.Request) -> web.Response:
        session = self._session(request)
        if session is not None:
            return web.json_response(describe(session, self.engine))
        finished = self.results.get(request.match_info["id"])
        if finished is None:
            return error(404, "no such session")
        return web.json_response(finished)

    async def _terminate(self, request: web.Request) -> web.Response:
        session = self._session(request)
        if session is None:
            if self.results.get(request.match_info["id"]) is not None:
                return error(409, "the session has already finished")
            return error(404, "no such session")
        session.log.info("session_terminate_requested")
        session.terminate()
        return web.json_response({"session_id": session.id, "terminating": True}, status=202)

    async def _request(self, request: web.Request) -> web.Response:
        session = self._session(request)
        if session is None or session.ending:
            return error(404, "no such session (it may have ended)")
        data = await json_object(request)
        if not session.listeners(str(AppEvents.HttpRequest)):
            # Else the caller would get a 204 as if a handler had run and had nothing to say.
            return error(501, "the scenario has no AppEvents.HttpRequest handler")
        method = optional_str(data, "method") or "POST"
        path, body = optional_str(data, "path") or "/", optional_str(data, "body") or ""
        headers = data.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise BadRequest("headers must be a JSON object of strings")
        try:
            result = await session.http_request(method, path, body, headers)
        except Exception as exc:  # noqa: BLE001 - the handler's failure is the caller's answer
            return error(500, f"the HttpRequest handler raised {type(exc).__name__}: {exc}")
        return reply_for(result)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        """An incoming WebSocket (the token was checked like any route's): the scenario gets
        it as AppEvents.WebSocket, and this handler lives as long as the socket."""
        session = self._session(request)
        if session is None or session.ending:
            return error(404, "no such session (it may have ended)")
        if not session.listeners(str(AppEvents.WebSocket)):
            return error(501, "the scenario has no AppEvents.WebSocket handler")
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES)
        await ws.prepare(request)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        socket = session.accept_websocket(ws, path=request.path, headers=headers)
        await socket.serve()
        return ws

    async def _journal(self, request: web.Request) -> web.Response:
        """The session's journal entries, as JSON objects in order (one text, not re-encoded)."""
        journals, session_id = self.engine.journals, request.match_info["id"]
        if journals is None:
            return error(404, "journals are off on this worker (journal.enabled = false)")
        try:
            lines = await journals.read_lines(session_id)
        except InvalidArgumentError as exc:  # not an id, or a file that is no journal
            self._log.warning("journal_unreadable", session_id=session_id[:80], error=str(exc))
            return error(404, f"no journal of this session: {exc}")
        if lines is None:
            return error(404, "no journal of this session")
        head = json.dumps({"session_id": session_id, "live": journals.is_live(session_id)})
        text = f'{head[:-1]}, "entries": [{",".join(lines)}]}}'
        return web.Response(text=text, content_type="application/json")
