"""What both HTTP APIs (the public one and each worker's control API) check before a handler.

A malformed request gets a 4xx JSON answer, ``{"error": "..."}``, never a 500 and never a
traceback in the log: the bearer token is checked by a middleware before any handler runs,
aiohttp's own refusals (404, 405, 413) are turned into JSON, and bodies are read bounded in
size, decoded with a charset Python knows, and scanned for nesting depth before ``json.loads``
(which recurses, so 100,000 ``[`` raise RecursionError inside it).
"""

from __future__ import annotations

import codecs
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from itertools import accumulate
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware

from voxpy.errors import VoxpyError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_BODY_BYTES = 1 << 20
"The public API's body limit (aiohttp's client_max_size): sessions take a few short strings."
MAX_JSON_DEPTH = 32
"Deepest nesting of a JSON body we parse; our bodies are flat objects."
NOT_FORWARDED = frozenset(
    {"authorization", "host", "content-length", "connection", "transfer-encoding", "keep-alive"}
)
"""A request's headers that are not passed on when it is relayed (to a worker or a worker
host): the caller's token, and what only described its own hop."""

# A JSON string with its escapes, as an unrolled loop; an unterminated one (with or without a
# last lone backslash) runs to the end. Every match attempt from a quote succeeds, so the
# scan is linear: a plain '"..."' pattern fails on an unterminated string and is retried
# from each escaped quote inside it: quadratic, 6.5 s for 64 KiB of 'x\\"' (half an hour for
# 1 MiB); this one takes 25 ms for that 1 MiB.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BadRequest(VoxpyError):
    """A client error; ``status`` (400 unless said) and the message are what the caller gets."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class _ProtocolLogger(logging.Logger):
    """aiohttp's server logger, but bytes that are not even HTTP (a NUL in a header, a broken
    request line) are the client's error: one warning line, no error and no traceback.

    aiohttp answers those itself (400, text/plain) before any middleware can run; what it
    logs is ours to choose. A handler's own exception is still an error with its traceback.
    """

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            reason = " ".join(str(exc.message).split())[:200]
            self.warning("%s: %s", str(msg) % args, reason)
            return
        super().exception(msg, *args, **kwargs)


def server_logger() -> logging.Logger:
    """The logger to hand aiohttp's AppRunner (``logger=``) in both APIs."""
    logger = _ProtocolLogger("aiohttp.server")
    logger.parent = logging.getLogger("aiohttp")  # not registered: route it like the real one
    return logger


def error(status: int, message: str) -> web.Response:
    """The one error shape of both APIs: ``{"error": "..."}``."""
    return web.json_response({"error": message}, status=status)


def unavailable(message: str, retry_after: int) -> web.Response:
    """503 with Retry-After: full or draining, come back later."""
    response = error(503, message)
    response.headers["Retry-After"] = str(retry_after)
    return response


def token_matches(header: str, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>``, in constant time.

    Compared as bytes: aiohttp decodes header bytes that are not UTF-8 to lone surrogates,
    which ``str.encode()`` refuses (that was a 500 for a request with no valid token at all).
    """
    given = header.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(given, f"Bearer {token}".encode("utf-8", "surrogatepass"))


def bearer_auth(
    token: str | None, message: str, *, open_paths: frozenset[str] = frozenset()
) -> Middleware:
    """A middleware that answers 401 unless the request carries the token (None: no auth)."""

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "")
        if token is not None and request.path not in open_paths and not token_matches(given, token):
            response = error(401, message)
            response.headers["WWW-Authenticate"] = 'Bearer realm="voxpy"'
            return response
        return await handler(request)

    return auth


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """BadRequest and aiohttp's own 4xx/5xx answers as JSON like ours."""
    try:
        return await handler(request)
    except BadRequest as exc:
        return error(exc.status, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error(exc.status, exc.reason)


async def body_text(request: web.Request) -> str:
    """The body decoded with its declared charset (UTF-8 if none); raises BadRequest."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:  # its text says the limit and the size
        raise BadRequest(exc.text or "request body too large", status=413) from None
    charset = request.charset or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        raise BadRequest(f"unknown charset {charset!r} in Content-Type", status=415) from None
    try:
        return raw.decode(charset)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"request body is not valid {charset} (byte {exc.start})") from None


def check_depth(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise BadRequest if brackets outside strings nest deeper than ``limit``.

    Linear and without recursion; malformed JSON may be counted wrong, but then ``json.loads``
    refuses it anyway.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    # All in C (map, accumulate, max): about 50 ms for 1 MiB of "[]", the worst case.
    if brackets and max(accumulate(map(_STEP.__getitem__, brackets))) > limit:
        raise BadRequest(f"request body nests deeper than {limit} levels")


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object (an empty body is ``{}``); raises BadRequest saying why not."""
    text = await body_text(request)
    if not text.strip():
        return {}
    check_depth(text)
    try:
        data = json.loads(text)
    except ValueError as exc:  # also an integer of more than 4300 digits
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"request body must be a JSON object, not {type(data).__name__}")
    return data


def optional_str(body: dict[str, Any], field: str) -> str | None:
    """``body[field]`` if it is a string or absent/null; else BadRequest naming the field."""
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{field} must be a string, not {type(value).__name__}")
    return value
