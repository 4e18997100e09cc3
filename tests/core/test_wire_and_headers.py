"""Wire codec round trips and header rules."""

from __future__ import annotations

import json

import pytest

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.headers import Headers, custom_headers, outgoing_headers, parse_headers
from voxpy.core.wire import from_wire, to_wire
from voxpy.errors import InvalidArgumentError

SAMPLES = [
    sig.IncomingCall(
        call_id="a",
        from_uri="sip:1@h",
        to_uri="sip:2@h",
        callerid="1",
        destination="2",
        headers=Headers({"X-A": "b"}),
    ),
    sig.Ended(call_id="a", code=486, reason="Busy", headers=Headers({"X-Why": "x"})),
    cmd.Dial(call_id="b", uri="sip:x@127.0.0.1", headers=Headers({"User-to-User": "00ff"})),
    cmd.Cancel(call_id="b", code=408),
    cmd.Bye(call_id="b"),
]


@pytest.mark.parametrize("value", SAMPLES, ids=lambda v: type(v).__name__)
def test_round_trip_through_json(value: object) -> None:
    assert from_wire(json.loads(json.dumps(to_wire(value)))) == value


def test_unknown_type_and_field_rejected() -> None:
    with pytest.raises(ValueError, match="unknown message type"):
        from_wire({"type": "Explode"})
    with pytest.raises(ValueError, match="unknown fields"):
        from_wire({"type": "Answer", "call_id": "a", "bogus": 1})


def test_headers_case_insensitive_and_custom_only() -> None:
    raw = (
        "INVITE sip:100@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nX-Tenant: acme\r\n"
        "User-to-User: 04ab\r\n ;encoding=hex\r\nSubject: hi\r\n\r\nv=0\r\n"
    )
    got = custom_headers(parse_headers(raw))
    assert got == {"x-tenant": "acme", "User-to-User": "04ab ;encoding=hex"}
    assert "X-TENANT" in got and "Subject" not in got


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Via": "x"}, "set by the SIP stack"),
        ({"Bad Name": "x"}, "invalid SIP header name"),
        ({"X-A": "line\r\nInjected: 1"}, "one-line string"),
    ],
)
def test_outgoing_headers_refused(headers: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        outgoing_headers(headers)
