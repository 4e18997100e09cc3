"""The web console of ``voxpy serve``: ``/console`` on the management API.

Server-rendered pages (voxpy.server.console.pages) with one small ES module for the live
parts, no build step: the overview (workers, charts of the Prometheus figures, live and
finished sessions) polls ``/console/state.json`` every 1.5 s; a session's page shows its
calls, timeline, recordings (``<audio>`` on ``/recordings/{name}``) and its call-flow diagram
(``/sessions/{id}/flow.svg``, or a "no journal" note when that is 404). Who may see it:
voxpy.server.console.auth.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from voxpy.log import get_logger
from voxpy.server.console import pages
from voxpy.server.console.auth import (
    console_auth,
    refusal_page,
    security_headers,
)
from voxpy.server.console.data import (
    SESSION_ID,
    ConsoleHost,
    overview,
    recording_file,
    session_recordings,
)

STATIC = Path(__file__).with_name("static")
_TYPES = {".js": "text/javascript", ".css": "text/css"}
STATIC_MAX_AGE = 86400
"Static files are cached a day; pages link them with ``?v=<hash>``, so a new one is fetched."


class _Static:
    """One file of ``static/``, read once: its bytes, type and version (a content hash)."""

    __slots__ = ("body", "content_type", "version")

    def __init__(self, path: Path) -> None:
        self.body = path.read_bytes()
        self.content_type = _TYPES[path.suffix]
        self.version = hashlib.sha256(self.body).hexdigest()[:12]


class Console:
    """The console's routes on the API's aiohttp app."""

    def __init__(self, host: ConsoleHost, *, recordings_dir: Path | None) -> None:
        self._host = host
        self._recordings = recordings_dir
        self._log = get_logger("voxpy.console")
        self._static = {p.name: _Static(p) for p in STATIC.iterdir() if p.suffix in _TYPES}
        self._versions = {"css": self._static["console.css"].version,
                          "js": self._static["console.js"].version}  # fmt: skip

    @staticmethod
    def middleware(token: str | None, fallback: Middleware) -> Middleware:
        """The API's auth: console routes take the cookie too (voxpy.server.console.auth)."""
        return console_auth(token, fallback)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/console", self._overview)
        router.add_get("/console/state.json", self._state)
        router.add_get("/console/static/{name}", self._static_file)
        router.add_get("/console/sessions/{id}", self._session)
        router.add_get("/console/sessions/{id}/state.json", self._session_state)
        router.add_get("/recordings/{name}", self._recording)

    # -- pages -------------------------------------------------------------------------------

    def _html(self, title: str, name: str, body: str) -> web.Response:
        text = pages.page(title, name, body, pages.health_text(self._host.health()), self._versions)
        response = web.Response(text=text, content_type="text/html")
        response.headers.update(security_headers())
        return response

    async def _overview(self, request: web.Request) -> web.Response:
        state = await overview(self._host)
        return self._html("Overview", "overview", pages.overview_body(state))

    async def _state(self, request: web.Request) -> web.Response:
        response = web.json_response(await overview(self._host))
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _find(self, session_id: str) -> dict[str, Any] | None:
        """The session as ``GET /sessions/{id}`` shows it (running or finished), or None."""
        pool = self._host.pool
        if pool is None or not SESSION_ID.fullmatch(session_id):
            return None
        worker = await pool.find(session_id)
        if worker is None:
            return None
        data = await worker.call_json("GET", f"/sessions/{session_id}")
        return {**data, "worker": worker.index}

    async def _session(self, request: web.Request) -> web.Response:
        session_id = request.match_info["id"]
        session = await self._find(session_id)
        if session is None:
            return refusal_page(
                404, "404: no such session",
                "It may have ended longer ago than server.session_results_ttl.",
            )  # fmt: skip
        # Listing a large recordings folder must not stall the API's loop (health checks too).
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, session_recordings, self._recordings, session_id)
        body = pages.session_body(session, found)
        return self._html(f"Session {session_id}", "session", body)

    async def _session_state(self, request: web.Request) -> web.Response:
        session = await self._find(request.match_info["id"])
        if session is None:
            raise web.HTTPNotFound(reason="no such session (it may have ended)")
        response = web.json_response({"state": session.get("state")})
        response.headers["Cache-Control"] = "no-store"
        return response

    # -- files -------------------------------------------------------------------------------

    async def _static_file(self, request: web.Request) -> web.Response:
        found = self._static.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound(reason="no such file")
        etag = f'"{found.version}"'
        headers = {
            "Cache-Control": f"public, max-age={STATIC_MAX_AGE}",
            "ETag": etag,
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=found.body, content_type=found.content_type, headers=headers)

    async def _recording(self, request: web.Request) -> web.StreamResponse:
        """A finished recording, with Range support (the ``<audio>`` element seeks)."""
        name = request.match_info["name"]
        path = recording_file(self._recordings, name)
        if path is None:
            self._log.warning("recording_refused", name=name[:200], peer=request.remote)
            raise web.HTTPNotFound(reason="no such recording")
        return web.FileResponse(
            path, headers={"Cache-Control": "private, max-age=3600",
                           "X-Content-Type-Options": "nosniff"},
        )  # fmt: skip


__all__ = ["Console"]
