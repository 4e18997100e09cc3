"""The worker side of ``voxpy serve``: a loopback HTTP control API inside ``voxpy run``.

``voxpy run SCENARIO --control-port N`` (an internal flag the supervisor passes) serves, on
127.0.0.1 only and behind the bearer token from ``VOXPY_CONTROL_TOKEN``:

=========================================  ==================================================
``GET /status``                             pid, live calls, sessions, draining, counters
``POST /drain``                             refuse new INVITEs (503) and new sessions
``POST /sessions`` {"custom_data"}          ``engine.start_session`` -> 201 {"session_id"}
``GET /sessions``, ``GET /sessions/{id}``   sessions with their live calls and states
``DELETE /sessions/{id}``                   ``session.terminate()`` -> 202
``POST /sessions/{id}/request``             ``session.http_request``; the reply is the HTTP
                                            answer the public API passes on unchanged
=========================================  ==================================================

It runs on the engine's loop, so handlers touch sessions exactly as backend signals do.
"""

from __future__ import annotations

import ctypes
import hmac
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from voxpy.errors import ScenarioError
from voxpy.runtime.engine import Engine
from voxpy.runtime.session import Session
from voxpy.server.metrics import WorkerCounters

TOKEN_ENV = "VOXPY_CONTROL_TOKEN"
SUPERVISOR_PID_ENV = "VOXPY_SUPERVISOR_PID"
CONTROL_HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, message: str) -> web.Response:
    """The one error shape of both APIs: ``{"error": "..."}``."""
    return web.json_response({"error": message}, status=status)


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
    """A session as the API shows it: id, wall-clock start, custom data, live calls."""
    age = engine.clock.now() - session.started_at
    return {
        "session_id": session.id,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - age)),
        "custom_data": session.custom_data(),
        "ending": session.ending,
        "calls": [
            {
                "call_id": call.id(),
                "state": call.state(),
                "status": call.status,
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

    def __init__(self, engine: Engine, token: str | None, log: Any) -> None:
        self.engine = engine
        self.draining = False
        self.counters = WorkerCounters()
        engine.observers.append(self.counters.observe)
        self._token = token
        self._log = log
        self._contact = engine.backend.contact_uri  # the backend forgets it once stopped
        self._runner: web.AppRunner | None = None
        self.app = web.Application(middlewares=[self._auth])
        self.app.router.add_get("/status", self._status)
        self.app.router.add_post("/drain", self._drain)
        self.app.router.add_post("/sessions", self._start)
        self.app.router.add_get("/sessions", self._list)
        self.app.router.add_get("/sessions/{id}", self._get)
        self.app.router.add_delete("/sessions/{id}", self._terminate)
        self.app.router.add_post("/sessions/{id}/request", self._request)

    async def start(self, port: int) -> None:
        """Listen on 127.0.0.1:``port``."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, CONTROL_HOST, port).start()
        self._log.info("control_started", port=port, auth=self._token is not None)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._token is not None:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self._token}".encode()):
                return error(401, "missing or wrong control token")
        return await handler(request)

    def _session(self, request: web.Request) -> Session | None:
        return self.engine.sessions.get(request.match_info["id"])

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "pid": os.getpid(),
                "contact": self._contact,
                "live_calls": self.engine.live_legs(),
                "sessions": len(self.engine.sessions),
                "max_calls": self.engine.backend.max_calls,
                "draining": self.draining,
                "counters": self.counters.snapshot(),
            }
        )

    async def _drain(self, request: web.Request) -> web.Response:
        if not self.draining:
            self.draining = True
            self.engine.backend.stop_accepting()
            self._log.info("worker_draining", live_calls=self.engine.live_legs())
        return web.json_response({"draining": True, "live_calls": self.engine.live_legs()})

    async def _start(self, request: web.Request) -> web.Response:
        if self.draining:
            return error(503, "this worker is draining")
        body = await request.json()
        custom_data = body.get("custom_data") if isinstance(body, dict) else None
        try:
            session = self.engine.start_session(custom_data)
        except ScenarioError as exc:
            self._log.error("session_start_failed", error=str(exc))
            return error(500, f"the scenario failed to start: {exc}")
        session.log.info("session_started_by_api")
        return web.json_response({"session_id": session.id}, status=201)

    async def _list(self, request: web.Request) -> web.Response:
        sessions = [describe(s, self.engine) for s in list(self.engine.sessions.values())]
        return web.json_response({"sessions": sessions})

    async def _get(self, request: web.Request) -> web.Response:
        session = self._session(request)
        if session is None:
            return error(404, "no such session")
        return web.json_response(describe(session, self.engine))

    async def _terminate(self, request: web.Request) -> web.Response:
        session = self._session(request)
        if session is None:
            return error(404, "no such session")
        session.log.info("session_terminate_requested")
        session.terminate()
        return web.json_response({"session_id": session.id, "terminating": True}, status=202)

    async def _request(self, request: web.Request) -> web.Response:
        session = self._session(request)
        if session is None or session.ending:
            return error(404, "no such session (it may have ended)")
        data = await request.json()
        try:
            result = await session.http_request(
                str(data.get("method", "POST")),
                str(data.get("path", "/")),
                str(data.get("body", "")),
                {str(k): str(v) for k, v in dict(data.get("headers") or {}).items()},
            )
        except Exception as exc:  # noqa: BLE001 - the handler's failure is the caller's answer
            return error(500, f"the HttpRequest handler raised {type(exc).__name__}: {exc}")
        return reply_for(result)
