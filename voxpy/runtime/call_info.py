"""What a :class:`~voxpy.runtime.call.Call` leg is: its parties, headers and custom data
(VoxEngine's getters). A base class of the Call with its own state and initialiser, apart so
that the facade keeps to its size bound; it reads nothing of the Call's.
"""

from __future__ import annotations

from typing import Any

from voxpy.core.headers import Headers
from voxpy.runtime.signalling import caller_info

_UNSET: Any = object()


class CallInfo:
    """The getters of a leg that read what the INVITE said. It owns these values, set once
    by its initialiser (only ``custom_data`` changes later, through its setter)."""

    def __init__(
        self,
        *,
        incoming: bool,
        callerid: str,
        number: str,
        display_name: str,
        headers: Headers,
        from_uri: str,
    ) -> None:
        self._incoming = incoming
        self._callerid = callerid
        self._number = number
        self._display_name = display_name
        self._headers = headers
        self._from_uri = from_uri
        self._custom_data: Any = None

    def incoming(self) -> bool:
        return self._incoming

    def direction(self) -> str:
        return "INCOMING" if self._incoming else "OUTGOING"

    def callerid(self) -> str:
        """The caller's number (user part of From)."""
        return self._callerid

    def display_name(self) -> str:
        return self._display_name

    def number(self) -> str:
        """The dialled number: the To user of an inbound leg, the target of an outbound one."""
        return self._number

    def headers(self) -> Headers:
        """Custom headers (X-*, User-to-User) of the initial INVITE (inbound legs)."""
        return self._headers

    def custom_data(self, value: Any = _UNSET) -> Any:
        """Get this leg's custom data, or set it when ``value`` is given."""
        if value is not _UNSET:
            self._custom_data = value
        return self._custom_data

    def caller_info(self) -> dict[str, bool] | None:
        """STIR/SHAKEN: ``{"is_verified": ...}`` from a ``verstat`` parameter in
        P-Asserted-Identity or From; None when the network sent none."""
        return caller_info(self._headers, self._from_uri)
