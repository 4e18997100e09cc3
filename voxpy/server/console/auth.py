"""Who may see the console: the API's token, as a bearer header or once as ``?token=``.

A browser cannot send an ``Authorization`` header for a page it navigates to, nor for the
``<img>`` of a diagram or the ``<audio>`` of a recording. So ``/console?token=T`` with the
right token answers 303 to the same URL without ``token`` and sets a cookie: HttpOnly (no
script reads it), SameSite=Strict (no other site's page makes the browser send it). The token
leaves the address bar and the history at once, and is never written into a page or a log.

The cookie holds an HMAC of the token, not the token: a cookie store that leaks gives no API
token for other clients. It is accepted only on the console's own GET routes (its pages, its
JSON, ``/recordings/...`` and the diagrams ``/sessions/{id}/flow.svg``): every other route
still wants the bearer header, so the cookie cannot start or end a session.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from html import escape

from aiohttp import web
from aiohttp.typedefs import Middleware

from voxpy.log import get_logger
from voxpy.server.guard import Handler, error, token_matches

COOKIE = "voxpy_console"
_FLOW = re.compile(r"^/sessions/[^/]+/flow\.svg$")
_SAFE = frozenset({"GET", "HEAD"})


def is_console_path(path: str) -> bool:
    """The routes a console cookie opens (GET and HEAD only)."""
    return (
        path == "/console"
        or path.startswith(("/console/", "/recordings/"))
        or _FLOW.fullmatch(path) is not None
    )


def cookie_value(token: str) -> str:
    """What the console cookie holds for ``token``: an HMAC of it, never the token."""
    return hmac.new(token.encode(), b"voxpy-console-cookie", hashlib.sha256).hexdigest()


def _raw(text: str) -> bytes:
    """Bytes to compare in constant time; a lone surrogate (undecodable input) is no error."""
    return text.encode("utf-8", "surrogatepass")


def refusal_page(status: int, title: str, text: str) -> web.Response:
    """A small HTML page for a refused console request (401, 404): nothing of the request
    is echoed, so it cannot carry a script or a token."""
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><link rel=stylesheet href=/console/static/console.css>"
        f"</head><body><main><h1>{escape(title)}</h1><p>{escape(text)}</p></main></body></html>"
    )
    response = web.Response(status=status, text=body, content_type="text/html")
    response.headers.update(security_headers())
    return response


def security_headers() -> dict[str, str]:
    """Headers of every console page: scripts and styles from this server only (no inline
    script runs, so markup smuggled into a field would stay inert even if escaping failed)."""
    return {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "media-src 'self'; connect-src 'self'; object-src 'self'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def console_auth(token: str | None, fallback: Middleware) -> Middleware:
    """The API's auth middleware: console routes as above, every other one by ``fallback``
    (the bearer check)."""
    log = get_logger("voxpy.console")
    expected = cookie_value(token) if token is not None else ""

    def unauthorized(request: web.Request, why: str) -> web.Response:
        log.warning("console_refused", path=request.path, reason=why)
        if request.path.endswith(".json"):
            response = error(401, "missing or wrong token")
        else:
            response = refusal_page(
                401,
                "401: not signed in",
                "Open /console?token=... with the server's API token, or send it as "
                "Authorization: Bearer ...",
            )
        response.headers["WWW-Authenticate"] = 'Bearer realm="voxpy"'
        return response

    def token_in_url(request: web.Request) -> web.Response:
        """``?token=``: right, 303 to the URL without it and the cookie; wrong, 401."""
        given = request.query.getall("token")
        if token is not None and not (
            len(given) == 1 and hmac.compare_digest(_raw(given[0]), _raw(token))
        ):
            return unauthorized(request, "wrong token in the URL")
        rest = request.rel_url.query.copy()
        rest.popall("token")
        location = str(request.rel_url.with_query(rest))
        response = web.Response(status=303, headers={"Location": location})
        if token is not None:
            response.set_cookie(
                COOKIE, expected, httponly=True, samesite="Strict", path="/",
                secure=request.secure,
            )  # fmt: skip
        return response

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_console_path(request.path):
            return await fallback(request, handler)
        if request.path.startswith("/console/static/"):  # the script and style: no secret
            return await handler(request)
        if "token" in request.query:
            return token_in_url(request)
        if token is None or token_matches(request.headers.get("Authorization", ""), token):
            return await handler(request)
        cookie = request.cookies.get(COOKIE, "")
        if request.method in _SAFE and cookie and hmac.compare_digest(_raw(cookie), _raw(expected)):
            return await handler(request)
        return unauthorized(request, "no token" if not cookie else "wrong cookie")

    return auth
