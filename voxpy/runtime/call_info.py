"""What a :class:`~voxpy.runtime.call.Call` leg is: its parties, headers and custom data
(VoxEngine's getters). A base class of the Call, apart so that the facade keeps to its size
bound; the values are the Call's, set when it is built.
"""

from __future__ import annotations

from typing import Any

from voxpy.core.headers import Headers
from voxpy.core.state import CallMachine
from voxpy.runtime.signalling import caller_info

_UNSET: Any = object()


class CallInfo:
    """The getters of a leg that read what the INVITE said."""

    _machine: CallMachine
    _callerid: str
    _display_name: str
    _number: str
    _headers: Headers
    _from_uri: str
    _custom_data: Any

    def incoming(self) -> bool:
        return self._machine.incoming

    def direction(self) -> str:
        return "INCOMING" if self._machine.incoming else "OUTGOING"

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
