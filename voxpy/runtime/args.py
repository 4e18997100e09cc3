"""Argument checks of the public Call/Session API: one place, so every method refuses alike.

VoxEngine takes options as one object (``callSIP(to, {callerid: ...})``,
``startPlayback(url, {loop: true})``); voxpy takes them as keyword arguments. A user porting a
scenario writes the dict anyway, and without a check Python reads it as the next positional
parameter: the caller ID becomes a dict, a truthy dict turns looping on. :func:`options` turns
that into a TypeError that names the keywords to use, before anything happens.

The other checks raise :class:`~voxpy.errors.InvalidArgumentError` naming the method and the
argument, before the method changes anything.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from voxpy.errors import InvalidArgumentError

P = ParamSpec("P")
R = TypeVar("R")

MAPPING_PARAMS = frozenset({"headers"})
"Positional parameters that do take a mapping (VoxEngine's extraHeaders)."
_BLANK = re.compile(r"\s")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def options(fn: Callable[P, R]) -> Callable[P, R]:
    """Refuse a mapping passed positionally where keyword arguments are expected (a VoxEngine
    options object), with a TypeError naming the keywords; otherwise call ``fn`` unchanged."""
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keywords = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    known = {p.name for p in params} - {"self"}
    name = fn.__name__

    @functools.wraps(fn)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        for index, value in enumerate(args):
            if not isinstance(value, Mapping):
                continue
            param = positional[index] if index < len(positional) else None
            if param is None or param not in MAPPING_PARAMS:
                raise TypeError(_dict_message(name, index, param, value, keywords, known))
        return fn(*args, **kwargs)

    return checked


def _dict_message(
    name: str,
    index: int,
    param: str | None,
    value: Mapping[Any, Any],
    keywords: list[str],
    known: set[str],
) -> str:
    where = f"as {param!r}" if param is not None else "positionally"
    wanted = ", ".join(
        f"{_snake(str(k))}={v!r}" for k, v in value.items() if _snake(str(k)) in known
    )
    lead = "..., " if index > 1 else ""  # index 0 is self: the dict came after an argument
    hint = f"; e.g. {name}({lead}{wanted})" if wanted else ""
    allowed = ", ".join(keywords) or "none"
    return (
        f"{name}() got a dict {where}: voxpy takes options as keyword arguments, not a "
        f"VoxEngine options object (keywords: {allowed}){hint}"
    )


def _snake(key: str) -> str:
    """VoxEngine's camelCase option name as voxpy's keyword (``hdAudio`` -> ``hd_audio``)."""
    return _CAMEL.sub("_", key).lower()


# -- value checks (each raises InvalidArgumentError naming method and argument) ---------------


def text(method: str, arg: str, value: object, *, empty: bool = True) -> str:
    """A str (non-empty unless ``empty``)."""
    if not isinstance(value, str) or (not empty and not value):
        kind = "a non-empty str" if not empty else "a str"
        raise InvalidArgumentError(f"{method}: {arg} must be {kind}, got {value!r}")
    return value


def optional_text(method: str, arg: str, value: object) -> str | None:
    return None if value is None else text(method, arg, value)


def flag(method: str, arg: str, value: object) -> bool:
    """A bool (a truthy dict or string is refused: it is almost always a misread option)."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{method}: {arg} must be True or False, got {value!r}")
    return value


def number(
    method: str, arg: str, value: object, *, low: float = 0.0, positive: bool = False
) -> float:
    """A finite int or float (not a bool, not a numeric string), at least ``low`` (or above
    it when ``positive``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        got = float(value)
        if math.isfinite(got) and (got > low if positive else got >= low):
            return got
    bound = f"> {low:g}" if positive else f">= {low:g}"
    raise InvalidArgumentError(f"{method}: {arg} must be a number {bound}, got {value!r}")


def integer(method: str, arg: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidArgumentError(
            f"{method}: {arg} must be an int in {low}..{high}, got {value!r}"
        )
    return value


def instances(method: str, kind: type[Any], *values: object) -> None:
    """Each value is a ``kind`` (a Call, for the methods that link legs)."""
    for value in values:
        if not isinstance(value, kind):
            raise InvalidArgumentError(f"{method}: needs a {kind.__name__}, got {value!r}")


def dial(
    to: object, callerid: object, display_name: object, auth_user: object, password: object
) -> None:
    """``call_sip``'s arguments: a SIP URI, a caller ID without blanks, optional strs."""
    sip_uri("call_sip", "to", to)
    if callerid is not None and (not isinstance(callerid, str) or _BLANK.search(callerid)):
        raise InvalidArgumentError(
            f"call_sip: callerid must be a str without spaces, got {callerid!r}"
        )
    for arg, value in (
        ("display_name", display_name),
        ("auth_user", auth_user),
        ("password", password),
    ):
        optional_text("call_sip", arg, value)


def headers(method: str, value: object) -> Mapping[str, str] | None:
    """None or a mapping (the header checks themselves are the core's)."""
    if value is not None and not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"{method}: headers must be a dict of header name to value, got {value!r}"
        )
    return value


SIP_URI = re.compile(r"^sips?:(?:[^@\s]+@)?[^@\s;?:]+(?::\d{1,5})?(?:[;?][^\s]*)?$")
TEL_URI = re.compile(r"^tel:\+?[0-9A-Fa-f*#().\-]+(?:;[^\s]*)?$")


def sip_uri(method: str, arg: str, value: object, *, tel: bool = False) -> str:
    """A sip:/sips: URI with a host and no whitespace (``tel:`` too when ``tel``)."""
    if isinstance(value, str) and (SIP_URI.fullmatch(value) or (tel and TEL_URI.fullmatch(value))):
        return value
    schemes = "sip:, sips: or tel:" if tel else "sip: or sips:"
    raise InvalidArgumentError(
        f"{method}: {arg} must be a {schemes} URI such as sip:alice@example.com, got {value!r}"
    )


MIME_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[\w.+-]+$")


def mime_type(method: str, value: object, *, arg: str = "mime_type") -> str:
    """A ``type/subtype`` media type (``application/json``)."""
    if not isinstance(value, str) or not MIME_TYPE.match(value):
        raise InvalidArgumentError(
            f"{method}: {arg} must be a type/subtype such as application/json, got {value!r}"
        )
    return value
