"""Reading raw SIP text (what pjsua2 hands us as ``rdata.wholeMsg``); pure Python, no pjsua2."""

from __future__ import annotations

from urllib.parse import quote

from voxpy.core.headers import Headers, custom_headers, parse_headers
from voxpy.core.signals import IncomingCall

# RFC 3261 compact forms of the headers we read.
_COMPACT = {
    "from": "f",
    "to": "t",
    "call-id": "i",
    "contact": "m",
    "refer-to": "r",
    "content-type": "c",
}
_USER_SAFE = "-_.!~*'()&=+$,;?/"


def header(pairs: list[tuple[str, str]], name: str) -> str:
    """First value of ``name`` (or its compact form), or ""."""
    wanted = {name.lower(), _COMPACT.get(name.lower(), name.lower())}
    for key, value in pairs:
        if key.lower() in wanted:
            return value
    return ""


def name_addr(value: str) -> tuple[str, str]:
    """Split ``"Alice" <sip:a@h>;tag=x`` into (display name, URI); header params are dropped."""
    value = value.strip()
    if "<" in value and ">" in value:
        display, rest = value.split("<", 1)
        uri = rest.split(">", 1)[0].strip()
        display = display.strip()
        if len(display) >= 2 and display[0] == display[-1] == '"':
            display = display[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return display, uri
    # addr-spec without brackets: every ';' belongs to the header, not to the URI
    return "", value.split(";", 1)[0].strip()


def user_part(uri: str) -> str:
    """``sip:1001@host;x`` -> ``1001``; ``tel:+123`` -> ``+123``; no user -> ""."""
    scheme, sep, rest = uri.partition(":")
    if not sep:
        return ""
    if scheme.lower() == "tel":
        return rest.split(";", 1)[0]
    if "@" not in rest:
        return ""
    return rest.split("@", 1)[0].split(";", 1)[0]


def host_part(uri: str) -> str:
    """``sip:u@example.com:5070;transport=tcp`` -> ``example.com:5070``."""
    rest = uri.partition(":")[2]
    rest = rest.split("@", 1)[1] if "@" in rest else rest
    for stop in (";", "?", ">"):
        rest = rest.split(stop, 1)[0]
    return rest


def request_uri(message: str) -> str:
    """The Request-URI of a request's first line, or ""."""
    parts = message.split("\r\n", 1)[0].split(" ")
    return parts[1] if len(parts) == 3 and not parts[0].startswith("SIP/") else ""


def parse_invite(message: str, *, call_id: str = "") -> IncomingCall:
    """The IncomingCall a raw INVITE announces, for the runtime's ``call_id``."""
    pairs = parse_headers(message)
    display, from_uri = name_addr(header(pairs, "From"))
    _, to_uri = name_addr(header(pairs, "To"))
    destination = user_part(to_uri) or user_part(request_uri(message))
    return IncomingCall(
        call_id=call_id,
        from_uri=from_uri,
        to_uri=to_uri,
        callerid=user_part(from_uri),
        destination=destination,
        display_name=display,
        headers=custom_headers(pairs),
        sip_call_id=header(pairs, "Call-ID"),
    )


def body_of(message: str) -> str:
    """The body of a raw SIP message ("" without one)."""
    return message.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in message else ""


def content_type(message: str) -> str:
    """The Content-Type of a raw SIP message, as written ("" without one)."""
    return header(parse_headers(message), "Content-Type")


def status_line(message: str) -> tuple[int, str]:
    """(code, reason) of a response's first line; (0, "") for a request."""
    parts = message.split("\r\n", 1)[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("SIP/") or not parts[1].isdigit():
        return 0, ""
    return int(parts[1]), parts[2] if len(parts) > 2 else ""


def refer_to(message: str) -> str:
    """The Refer-To URI of a REFER, as written: ``tel:`` stays ``tel:``, ``?Replaces=`` kept.

    Without ``<...>`` the whole value is taken as the URI: senders (pjsua among them) write a
    bare URI with its own parameters (``tel:+1555;phone-context=x``) far more often than a
    bare URI followed by Refer-To header parameters.
    """
    value = header(parse_headers(message), "Refer-To").strip()
    return name_addr(value)[1] if "<" in value else value


def refer_target(uri: str) -> str:
    """A Refer-To value for ``uri``: in ``<...>`` when it has parameters or headers, so that
    they stay part of the URI (RFC 3261 section 20)."""
    uri = uri.strip()
    if uri.startswith("<") or not any(char in uri for char in ";?,"):
        return uri
    return f"<{uri}>"


def contact_uris(message: str) -> list[str]:
    """Every Contact URI of a message, in order (several per header line allowed)."""
    wanted = {"contact", "m"}
    uris: list[str] = []
    for name, value in parse_headers(message):
        if name.lower() not in wanted:
            continue
        # Commas separate contacts only outside <...> and quotes.
        depth, quoted, start = 0, False, 0
        for i, char in enumerate(value + ","):
            if char == '"':
                quoted = not quoted
            elif not quoted and char in "<>":
                depth += 1 if char == "<" else -1
            elif char == "," and not quoted and depth == 0:
                uri = name_addr(value[start:i])[1]
                if uri:
                    uris.append(uri)
                start = i + 1
    return uris


def message_headers(message: str | None) -> Headers:
    """The custom headers (X-*, User-to-User) of a raw SIP message; empty for None."""
    return custom_headers(parse_headers(message)) if message else Headers()


def local_uri(callerid: str | None, display_name: str | None, user: str, host: str) -> str:
    """A From value for an outbound leg: ``"Name" <sip:callerid@host>``."""
    uri = f"sip:{quote(callerid or user, safe=_USER_SAFE)}@{host}"
    if not display_name:
        return f"<{uri}>"
    escaped = display_name.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r", " ").replace("\n", " ")
    return f'"{escaped}" <{uri}>'
