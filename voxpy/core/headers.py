"""SIP header values handed between scenarios and backends.

Inbound, a scenario sees the *custom* headers of a message: ``X-*`` and ``User-to-User``.
Outbound, it may add any header except those the SIP stack owns (Via, From, To, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from voxpy.errors import InvalidArgumentError

STACK_OWNED = frozenset(
    name.lower()
    for name in (
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Length",
        "Content-Type",
        "Max-Forwards",
        "Route",
        "Record-Route",
        "Allow",
        "Supported",
        "Require",
    )
)
_TOKEN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")


class Headers(Mapping[str, str]):
    """An immutable header map: names compare case-insensitively and keep their spelling."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            self._items[name.lower()] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {k.lower(): v for k, v in self.items()} == {
            str(k).lower(): v for k, v in other.items()
        }

    def __hash__(self) -> int:
        return hash(frozenset((k.lower(), v) for k, v in self.items()))

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


SHOWN = frozenset(("user-to-user", "p-asserted-identity", "diversion"))


def is_custom(name: str) -> bool:
    """True for the headers a scenario sees on inbound messages: X-*, User-to-User, and the
    identity headers a telephony scenario needs (P-Asserted-Identity, Diversion)."""
    lowered = name.lower()
    return lowered.startswith("x-") or lowered in SHOWN


def custom_headers(pairs: Iterable[tuple[str, str]]) -> Headers:
    """Keep the custom headers of a parsed message (the first value of each name wins)."""
    seen: dict[str, tuple[str, str]] = {}
    for name, value in pairs:
        if is_custom(name) and name.lower() not in seen:
            seen[name.lower()] = (name, value)
    return Headers(seen.values())


def outgoing_headers(headers: Mapping[str, str] | None) -> Headers:
    """Validate headers a scenario wants to send; raise InvalidArgumentError naming the bad one."""
    if not headers:
        return Headers()
    for name, value in headers.items():
        if not isinstance(name, str) or not name or not set(name) <= _TOKEN:
            raise InvalidArgumentError(f"invalid SIP header name {name!r}")
        if name.lower() in STACK_OWNED:
            raise InvalidArgumentError(
                f"header {name!r} is set by the SIP stack and cannot be sent"
            )
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            raise InvalidArgumentError(f"header {name!r} needs a one-line string value")
    return Headers(headers)


def parse_headers(message: str) -> list[tuple[str, str]]:
    """Split the header block of a raw SIP message into (name, value) pairs, unfolding lines."""
    head = message.split("\r\n\r\n", 1)[0].replace("\r\n", "\n")
    pairs: list[tuple[str, str]] = []
    for line in head.split("\n")[1:]:
        if line[:1] in (" ", "\t") and pairs:
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, value = line.split(":", 1)
            pairs.append((name.strip(), value.strip()))
    return pairs


_URI_FORBIDDEN = frozenset(' \t\r\n<>",')
"Characters a bare URI in a Contact we write cannot hold (they would change the header)."


def redirect_target(code: object, contact: object) -> str | None:
    """Validate the final status and Contact of a refusal: a 3xx needs a ``sip:``, ``sips:``
    or ``tel:`` URI to redirect to, a 4xx-6xx takes none. Returns the contact (None for
    4xx-6xx); raises InvalidArgumentError otherwise."""
    if isinstance(code, bool) or not isinstance(code, int) or not 300 <= code <= 699:
        raise InvalidArgumentError(
            f"reject code must be an int in 400..699 (or 300..399 with contact=), got {code!r}"
        )
    if code >= 400:
        if contact is not None:
            raise InvalidArgumentError(f"contact= is for a 3xx redirect, not for {code}")
        return None
    if contact is None:
        raise InvalidArgumentError(f"a {code} redirect needs contact= (the URI to redirect to)")
    if (
        not isinstance(contact, str)
        or not contact.lower().startswith(("sip:", "sips:", "tel:"))
        or len(contact) > 256
        or _URI_FORBIDDEN & set(contact)
    ):
        raise InvalidArgumentError(
            f"contact must be one sip:, sips: or tel: URI (at most 256 characters, no spaces "
            f"or <>), got {contact!r}"
        )
    return contact
