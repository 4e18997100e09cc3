"""The public HTTP management API of ``voxpy serve`` (aiohttp).

Every route but ``/healthz`` needs ``Authorization: Bearer <server.token>``; with no token
configured there is no authentication and the API binds 127.0.0.1 only. Errors are JSON,
``{"error": "..."}``, including aiohttp's own 404/405. Session requests are passed to the
worker that runs the session through its control API; a session's HttpRequest reply comes
back unchanged (status, Content-Type, body). A WebSocket opened at
``/sessions/{id}/websocket`` is relayed to the session's worker (voxpy.server.wsproxy).
``/sessions/{id}/journal`` is the worker's journal of the session; ``/sessions/{id}/flow.svg``
draws it here (voxpy.core.journal), under a CSP that forbids scripts.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from voxpy.config import ServerSettings
from voxpy.core.journal import SVG_HEADERS, flow_svg
from voxpy.errors import InvalidArgumentError
from voxpy.log import get_logger
from voxpy.server.console import Console
from voxpy.server.guard import (
    MAX_BODY_BYTES,
    NOT_FORWARDED,
    BadRequest,
    Handler,
    bearer_auth,
    body_text,
    error,
    json_errors,
    json_object,
    optional_str,
    server_logger,
    unavailable,
)
from voxpy.server.metrics import CONTENT_TYPE
from voxpy.server.pool import NoFreeWorker, Pool, SessionStartFailed
from voxpy.server.workers import CONTROL_ERRORS, ControlError, Worker
from voxpy.server.wsproxy import relay

_SESSION_FIELDS = ("scenario", "custom_data")


def custom_data_text(body: dict[str, Any]) -> str | None:
    """``custom_data`` as the scenario receives it: a string passes unchanged; any other JSON
    value (object, array, number, true/false) arrives JSON-encoded, for the scenario to
    ``json.loads``; null or absent is no data.

    A string, not the value itself: VoxEngine's ``customData`` is a string, and so is
    ``VoxEngine.custom_data()`` for ``voxpy call --custom-data`` and for inbound calls, so a
    scenario reads it one way whoever started it.
    """
    value = body.get("custom_data")
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class ApiHost(Protocol):
    """What the API reads from the process that serves it (the Supervisor).

    A protocol rather than the Supervisor class: the supervisor builds the API, so importing
    it here would close an import cycle.
    """

    @property
    def pool(self) -> Pool | None: ...
    @property
    def scenario(self) -> Path: ...
    @property
    def scenario_name(self) -> str: ...
    @property
    def draining(self) -> bool: ...
    def health(self) -> dict[str, Any]: ...
    async def metrics(self) -> str: ...
    def conference_pieces(self) -> dict[str, dict[str, str | None]]: ...


class PublicApi:
    """Routes of the management API, served by an aiohttp AppRunner."""

    def __init__(
        self, supervisor: ApiHost, settings: ServerSettings, *, recordings_dir: Path | None = None
    ) -> None:
        self._sup = supervisor
        self._token = settings.token
        self._timeout = settings.request_timeout
        self._retry_after = settings.retry_after
        self._log = get_logger("voxpy.api")
        self.host = settings.http_host if settings.token else "127.0.0.1"
        if not settings.token and settings.http_host != "127.0.0.1":
            self._log.warning("api_loopback_only", reason="server.token is empty")
        self.port = settings.http_port
        self._runner: web.AppRunner | None = None
        # Outermost first: JSON for every refusal, then the token, before any handler runs.
        auth = bearer_auth(
            settings.token,
            "missing or wrong bearer token (Authorization: Bearer ...)",
            open_paths=frozenset({"/healthz"}),
        )
        # The web console (/console, /recordings): its pages also take a cookie set once from
        # ?token= (voxpy.server.console.auth); every other route is checked by `auth`.
        console = Console(supervisor, recordings_dir=recordings_dir)
        auth = console.middleware(settings.token, auth)
        app = web.Application(
            middlewares=[json_errors, self._worker_errors, auth],
            client_max_size=MAX_BODY_BYTES,
        )
        console.add_routes(app.router)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/workers", self._workers)
        app.router.add_get("/conferences", self._conferences)
        app.router.add_post("/sessions", self._start)
        app.router.add_get("/sessions", self._list)
        app.router.add_get("/sessions/{id}", self._get)
        app.router.add_delete("/sessions/{id}", self._terminate)
        app.router.add_get("/sessions/{id}/websocket", self._websocket)
        app.router.add_get("/sessions/{id}/journal", self._journal)
        app.router.add_get("/sessions/{id}/flow.svg", self._flow)
        app.router.add_route("*", "/sessions/{id}/request", self._request)
        app.router.add_route("*", "/sessions/{id}/request/{tail:.*}", self._request)
        self.app = app

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def _pool(self) -> Pool:
        assert self._sup.pool is not None
        return self._sup.pool

    async def start(self) -> None:
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, logger=server_logger()
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:  # port 0: learn the one the OS picked
            self.port = int(sockets[0].getsockname()[1])
        self._log.info("api_started", url=self.url, auth=self._token is not None)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- middlewares -------------------------------------------------------------------------

    @web.middleware
    async def _worker_errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as exc:  # the worker answered with an error: pass it on
            return error(exc.status, str(exc))
        except CONTROL_ERRORS as exc:  # the worker died or hung while we asked it
            return error(502, f"the worker did not answer: {exc!r}")

    # -- routes ------------------------------------------------------------------------------

    async def _conferences(self, request: web.Request) -> web.Response:
        """Named conferences spanning workers: {name: {worker: parent worker or null}}."""
        return web.json_response(self._sup.conference_pieces())

    async def _healthz(self, request: web.Request) -> web.Response:
        health = self._sup.health()
        return web.json_response(health, status=200 if health["ok"] else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        text = await self._sup.metrics()
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})

    async def _workers(self, request: web.Request) -> web.Response:
        workers = [
            {
                "worker": w.index,
                "pid": w.pid,
                "ready": w.ready,
                "draining": w.draining,
                "restarts": w.restarts,
                "sip_uri": w.sip_uri,
                "last_exit": w.last_exit,
            }
            for w in self._pool.workers
        ]
        return web.json_response({"workers": workers})

    async def _start(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        unknown = sorted(set(body) - set(_SESSION_FIELDS))
        if unknown:
            raise BadRequest(f"unknown field {', '.join(unknown)}; expected scenario, custom_data")
        scenario, custom_data = optional_str(body, "scenario"), custom_data_text(body)
        name = self._sup.scenario_name
        if scenario is not None and scenario not in (name, f"{name}.py", str(self._sup.scenario)):
            return error(404, f"unknown scenario {scenario!r}: this server runs {name!r}")
        if self._sup.draining:
            return unavailable("the server is draining", self._retry_after)
        try:
            worker, session_id = await self._pool.start_session(custom_data)
        except NoFreeWorker as exc:
            return unavailable(str(exc), self._retry_after)
        except SessionStartFailed as exc:
            return error(500, str(exc))
        url = f"{request.scheme}://{request.host}/sessions/{session_id}/request"
        self._log.info("session_created", session_id=session_id, worker=worker.index)
        return web.json_response(
            {"session_id": session_id, "worker": worker.index, "media_session_access_url": url},
            status=201,
        )

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response({"sessions": await self._pool.sessions()})

    async def _owner(self, request: web.Request) -> Worker:
        worker = await self._pool.find(request.match_info["id"])
        if worker is None:
            raise web.HTTPNotFound(reason="no such session (it may have ended)")
        return worker

    async def _get(self, request: web.Request) -> web.Response:
        worker = await self._owner(request)
        data = await worker.call_json("GET", f"/sessions/{request.match_info['id']}")
        return web.json_response({**data, "worker": worker.index})

    async def _terminate(self, request: web.Request) -> web.Response:
        worker = await self._owner(request)
        data = await worker.call_json("DELETE", f"/sessions/{request.match_info['id']}")
        return web.json_response(data, status=202)

    async def _request(self, request: web.Request) -> web.Response:
        session_id = request.match_info["id"]
        text = await body_text(request)  # a malformed body is refused before any worker is asked
        worker = await self._owner(request)
        path = "/" + request.match_info.get("tail", "")
        if request.query_string:
            path += "?" + request.query_string
        payload = {
            "method": request.method,
            "path": path,
            "body": text,
            "headers": {k: v for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED},
        }
        try:
            status, content_type, body = await worker.call(
                "POST", f"/sessions/{session_id}/request", payload, timeout=self._timeout
            )
        except TimeoutError:
            return error(504, f"the session did not answer in {self._timeout:g} s")
        except CONTROL_ERRORS as exc:
            return error(502, f"worker {worker.index} did not answer: {exc}")
        if status == 204:
            return web.Response(status=204)
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        """An incoming WebSocket, relayed to the worker that runs the session
        (voxpy.server.wsproxy): the scenario gets it as AppEvents.WebSocket."""
        worker = await self._owner(request)  # 404 before any upgrade
        return await relay(request, worker, request.match_info["id"], self._log)

    async def _journal(self, request: web.Request) -> web.Response:
        worker = await self._owner(request)
        data = await worker.call_json("GET", f"/sessions/{request.match_info['id']}/journal")
        return web.json_response({**data, "worker": worker.index})

    async def _flow(self, request: web.Request) -> web.Response:
        """The journal drawn as SVG; drawing a long one takes milliseconds: off the loop."""
        worker = await self._owner(request)
        data = await worker.call_json("GET", f"/sessions/{request.match_info['id']}/journal")
        loop = asyncio.get_running_loop()
        try:
            svg = await loop.run_in_executor(None, flow_svg, data.get("entries") or [])
        except (InvalidArgumentError, AttributeError, TypeError) as exc:
            return error(502, f"worker {worker.index} sent a journal that is not one: {exc}")
        return web.Response(text=svg, content_type="image/svg+xml", headers=SVG_HEADERS)
