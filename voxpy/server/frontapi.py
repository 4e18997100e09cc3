"""The management API of a front (``voxpy serve --role front``): hosts join, sessions are
passed on.

Worker hosts report themselves with ``POST /hosts`` every second (the same bearer token as
every client; see voxpy.server.hostagent) and say goodbye with ``DELETE /hosts/{id}``.
Session routes are passed to the API of the worker host that runs the session, over HTTP: a
session id at the front is ``<host>.<id on that host>``, so ``/sessions/{id}/...`` reaches its
host without a lookup, and ``GET /sessions`` merges every host's list. ``POST /sessions``
goes to the host with the most free call slots (from its last report), then the next one
when a host refuses with 503 or does not answer (it filled up, began draining or died since
it reported). A WebSocket to a session is relayed to its host's API (voxpy.server.wsproxy).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from voxpy.config import ServerSettings
from voxpy.core.hostreg import BadReport, HostRegistry, HostReport, parse_report
from voxpy.core.journal import SVG_HEADERS
from voxpy.log import get_logger
from voxpy.server.guard import (
    MAX_BODY_BYTES,
    NOT_FORWARDED,
    bearer_auth,
    body_text,
    error,
    json_errors,
    json_object,
    server_logger,
    unavailable,
)
from voxpy.server.metrics import CONTENT_TYPE
from voxpy.server.wsproxy import relay

SEPARATOR = "."
"Between the host id (no dots: voxpy.core.hostreg.HOST_ID) and the host's own session id."
HOST_SOCKET_TIMEOUT_S = 10.0
"How long a worker host may take to accept a relayed WebSocket."
CONNECT_TIMEOUT_S = 2.0
"How long a worker host's API may take to accept a connection (it is on the same network)."
LIST_TIMEOUT_S = 6.0
"""How long GET /sessions waits for one host's list: longer than a host waits for its own
hung worker (5 s), so one slow worker does not hide its host's sessions; a host that takes
longer is left out of the list."""
START_TIMEOUT_S = 12.0
"""How long POST /sessions waits for one host before it tries the next: a host asks its
workers' status, then one or two workers (5 s each at most)."""


class FrontHost(Protocol):
    """What the API reads from the front process (voxpy.server.front.Front)."""

    @property
    def registry(self) -> HostRegistry: ...
    def health(self) -> dict[str, Any]: ...
    def metrics(self) -> str: ...
    def hosts_changed(self) -> None: ...
    def now(self) -> float: ...


def front_id(host: str, session_id: str) -> str:
    return f"{host}{SEPARATOR}{session_id}"


class FrontApi:
    """Routes of the front's API, served by an aiohttp AppRunner."""

    def __init__(self, front: FrontHost, settings: ServerSettings) -> None:
        assert settings.token, "a front needs server.token (checked by voxpy.server.front)"
        self._front = front
        self._token = settings.token
        self._timeout = aiohttp.ClientTimeout(
            total=settings.request_timeout, sock_connect=CONNECT_TIMEOUT_S
        )
        self._list_timeout = min(settings.request_timeout, LIST_TIMEOUT_S)
        self._start_timeout = min(settings.request_timeout, START_TIMEOUT_S)
        self._retry_after = settings.retry_after
        self._log = get_logger("voxpy.front.api")
        self.host, self.port = settings.http_host, settings.http_port
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        auth = bearer_auth(
            settings.token,
            "missing or wrong bearer token (Authorization: Bearer ...)",
            open_paths=frozenset({"/healthz"}),
        )
        app = web.Application(
            middlewares=[json_errors, self._host_errors, auth], client_max_size=MAX_BODY_BYTES
        )
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/hosts", self._hosts)
        app.router.add_post("/hosts", self._beat)
        app.router.add_delete("/hosts/{host}", self._leave)
        app.router.add_post("/sessions", self._start)
        app.router.add_get("/sessions", self._list)
        app.router.add_get("/sessions/{id}/websocket", self._websocket)
        app.router.add_route("GET", "/sessions/{id}", self._pass)
        app.router.add_route("GET", "/sessions/{id}/journal", self._pass)
        app.router.add_route("GET", "/sessions/{id}/flow.svg", self._pass)
        app.router.add_route("DELETE", "/sessions/{id}", self._pass)
        app.router.add_route("*", "/sessions/{id}/request", self._pass)
        app.router.add_route("*", "/sessions/{id}/request/{tail:.*}", self._pass)
        self.app = app

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=self._timeout)
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, logger=server_logger()
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(getattr(site, "_server", None), "sockets", None) or []
        if sockets:  # port 0: learn the one the OS picked
            self.port = int(sockets[0].getsockname()[1])
        self._log.info("front_api_started", url=self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    @web.middleware
    async def _host_errors(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except TimeoutError:
            return error(504, "the worker host did not answer in time")
        except aiohttp.ClientError as exc:  # the host died or is unreachable
            return error(502, f"the worker host did not answer: {exc}")

    # -- hosts -------------------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        health = self._front.health()
        return web.json_response(health, status=200 if health["ok"] else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self._front.metrics().encode()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _hosts(self, request: web.Request) -> web.Response:
        hosts = [
            {
                "host": r.host,
                "api": r.api,
                "free": r.free,
                "draining": r.draining,
                "workers": [
                    {"uri": w.uri, "duid": w.duid, "ready": w.ready, "draining": w.draining}
                    for w in r.workers
                ],
            }
            for r in self._front.registry.hosts()
        ]
        return web.json_response({"hosts": hosts})

    async def _beat(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        try:
            report = parse_report(body)
            new = self._front.registry.beat(report, self._front.now())
        except BadReport as exc:
            self._log.warning("host_report_refused", peer=request.remote, error=str(exc))
            return error(400, f"bad host report: {exc}")
        if new:
            self._log.info("host_joined", host=report.host, api=report.api,
                           workers=[w.uri for w in report.workers])  # fmt: skip
        self._front.hosts_changed()
        return web.json_response({"ok": True})

    async def _leave(self, request: web.Request) -> web.Response:
        host = request.match_info["host"]
        if not self._front.registry.leave(host):
            return error(404, f"no host {host!r}")
        self._log.info("host_left", host=host)
        self._front.hosts_changed()
        return web.json_response({"ok": True})

    # -- sessions ----------------------------------------------------------------------------

    async def _ask(
        self, report: HostReport, method: str, path: str, *, data: bytes | None = None,
        headers: dict[str, str] | None = None, bound: float | None = None,
    ) -> tuple[int, str, bytes]:  # fmt: skip
        """One request to a host's API; ``bound`` (seconds) replaces request_timeout."""
        assert self._http is not None
        sent = {**(headers or {}), "Authorization": f"Bearer {self._token}"}
        timeout = self._timeout if bound is None else aiohttp.ClientTimeout(
            total=bound, sock_connect=CONNECT_TIMEOUT_S
        )  # fmt: skip
        async with self._http.request(
            method, report.api + path, data=data, headers=sent, timeout=timeout
        ) as r:
            return r.status, r.headers.get("Content-Type", "application/json"), await r.read()

    async def _start(self, request: web.Request) -> web.Response:
        body = await json_object(request)  # malformed: refused here, before any host is asked
        data = json.dumps(body).encode()
        refusal = "no worker host has a free call slot"
        for report in self._front.registry.placement():
            try:
                status, _, raw = await self._ask(
                    report, "POST", "/sessions", data=data,
                    headers={"Content-Type": "application/json"}, bound=self._start_timeout,
                )  # fmt: skip
            except (aiohttp.ClientError, TimeoutError) as exc:  # died since its last report
                self._log.warning("host_unreachable", host=report.host, error=repr(exc))
                refusal = f"{report.host} did not answer"
                continue
            if status == 503:  # full or draining since its last report: the next host
                refusal = f"{report.host}: {_message(raw)}"
                continue
            answer = _json(raw)
            if status != 201:
                return web.json_response(answer, status=status)
            own_id = answer.get("session_id") if isinstance(answer, dict) else None
            if not isinstance(own_id, str) or not own_id:
                self._log.warning("host_bad_answer", host=report.host, answer=raw[:200])
                return error(502, f"worker host {report.host} answered 201 without a session_id")
            self._front.registry.claim(report.host)
            session_id = front_id(report.host, own_id)
            url = f"{request.scheme}://{request.host}/sessions/{session_id}/request"
            self._log.info("session_created", session_id=session_id, host=report.host)
            return web.json_response(
                {**answer, "session_id": session_id, "host": report.host,
                 "media_session_access_url": url},
                status=201,
            )  # fmt: skip
        return unavailable(refusal, self._retry_after)

    async def _list(self, request: web.Request) -> web.Response:
        hosts = self._front.registry.hosts()
        answers = await asyncio.gather(
            *(self._ask(r, "GET", "/sessions", bound=self._list_timeout) for r in hosts),
            return_exceptions=True,
        )
        found: list[dict[str, Any]] = []
        for report, answer in zip(hosts, answers, strict=True):
            if isinstance(answer, BaseException):  # left out of the list, said why
                self._log.warning("host_list_failed", host=report.host, error=repr(answer))
                continue
            listing = _json(answer[2]) if answer[0] == 200 else None
            sessions = listing.get("sessions") if isinstance(listing, dict) else None
            if not isinstance(sessions, list):
                self._log.warning("host_list_failed", host=report.host, status=answer[0],
                                  error=f"not a session list: {answer[2][:200]!r}")  # fmt: skip
                continue
            for s in sessions:
                if not isinstance(s, dict):
                    self._log.warning("host_list_entry_skipped", host=report.host,
                                      entry=repr(s)[:200])  # fmt: skip
                    continue
                sid = front_id(report.host, str(s.get("session_id")))
                found.append({**s, "session_id": sid, "host": report.host})
        return web.json_response({"sessions": found})

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        """A WebSocket to the session, relayed to its host's API (which relays it to the
        worker): the scenario gets it as AppEvents.WebSocket, as on one host."""
        host, sep, own_id = request.match_info["id"].partition(SEPARATOR)
        report = self._front.registry.get(host) if sep and own_id else None
        if report is None:
            return error(404, "no such session (its host is unknown or gone)")
        assert self._http is not None
        upstream = _HostSocket(report, self._http, self._token)
        return await relay(request, upstream, own_id, self._log)

    async def _pass(self, request: web.Request) -> web.StreamResponse:
        """A session route, passed to the session's host unchanged but for the id."""
        host, sep, own_id = request.match_info["id"].partition(SEPARATOR)
        report = self._front.registry.get(host) if sep and own_id else None
        # The raw (still percent-encoded) path, so the host decodes what the client sent.
        raw_id, slash, rest = request.rel_url.raw_path.removeprefix("/sessions/").partition("/")
        raw_host, raw_sep, raw_own = raw_id.partition(SEPARATOR)
        if report is None or raw_host != host or not raw_sep:
            return error(404, "no such session (its host is unknown or gone)")
        await body_text(request)  # refused here as the host would: too large, bad charset
        body = await request.read()  # passed on as sent: its Content-Type names its charset
        path = f"/sessions/{raw_own}{slash}{rest}"
        if request.query_string:
            path += "?" + request.rel_url.raw_query_string
        headers = {k: v for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED}
        status, content_type, raw = await self._ask(
            report, request.method, path, data=body or None, headers=headers
        )
        if status == 204:
            return web.Response(status=204)
        answer = _json(raw) if not slash else None  # GET or DELETE /sessions/{id}: our id
        if isinstance(answer, dict) and "session_id" in answer:
            answer = {**answer, "session_id": request.match_info["id"], "host": host}
            return web.json_response(answer, status=status)
        svg = SVG_HEADERS if content_type.startswith("image/svg") else {}
        return web.Response(status=status, body=raw, headers={"Content-Type": content_type, **svg})


class _HostSocket:
    """A worker host's API as the end of a relayed WebSocket (voxpy.server.wsproxy)."""

    def __init__(self, report: HostReport, http: aiohttp.ClientSession, token: str) -> None:
        self.index = report.host
        self._api, self._http, self._token = report.api, http, token

    async def websocket(
        self, path: str, headers: Mapping[str, str], protocols: Sequence[str], max_msg_size: int
    ) -> aiohttp.ClientWebSocketResponse:
        sent = {**headers, "Authorization": f"Bearer {self._token}"}
        return await asyncio.wait_for(
            self._http.ws_connect(
                self._api + path, headers=sent, protocols=protocols, max_msg_size=max_msg_size
            ),
            HOST_SOCKET_TIMEOUT_S,
        )


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _message(raw: bytes) -> str:
    data = _json(raw)
    if isinstance(data, dict):
        return str(data.get("error"))
    return raw[:200].decode("utf-8", "replace")
