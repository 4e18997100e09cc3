"""Which host names voxpy settings accept: IPv4 addresses and DNS names, never IPv6.

Kept apart from :mod:`voxpy.config` (the settings models) because it is a rule about
addresses, not about settings; it raises pydantic's error type so that a settings
validator can use it as is.
"""

from __future__ import annotations

import ipaddress
import re

from pydantic_core import PydanticCustomError

_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _is_hostname(text: str) -> bool:
    labels = text.removesuffix(".").split(".")
    if len(text) > 253 or all(label.isdigit() for label in labels):  # 999.1.1.1 is no name
        return False
    return all(_LABEL.match(label) for label in labels)


def check_host(value: str) -> str:
    """``value`` stripped if it is an IPv4 address or a hostname; a pydantic error otherwise.

    IPv6 is refused: this PJSIP build does not support it."""
    text = value.strip()
    try:
        addr = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        addr = None
    if isinstance(addr, ipaddress.IPv6Address) or ":" in text:
        raise PydanticCustomError(
            "ipv6_unsupported",
            "IPv6 is not supported by this PJSIP build; use an IPv4 address or a hostname",
        )
    if addr is None and not _is_hostname(text):
        raise PydanticCustomError("host", "should be an IPv4 address or a hostname")
    return text
