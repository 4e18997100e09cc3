"""One request per row of the edge guard's policy table."""

from __future__ import annotations

from tests.edge.corpus.base import ANSWERED, DROPPED, UNPARSED, Case, case, request

# ---------------------------------------------------------------------------------------------
# The edge-guard policy table, one request a row
# ---------------------------------------------------------------------------------------------

POLICY: list[Case] = [
    case("ood-invite", request(), ANSWERED, transports=("udp", "tcp")),
    case("ood-options", request("OPTIONS"), {200}, transports=("udp", "tcp")),
    case("ood-ack", request("ACK"), {DROPPED}, timeout=1.0),
    case("ood-cancel", request("CANCEL"), {481}),
    case("unknown-method", request("FOO"), {501}, {501}, transports=("udp", "tcp")),
    case(
        "indialog-options",
        request("OPTIONS", to_tag=True),
        {200},
        set(),  # an answer, not a refusal: no edge_refused line
        allow_header=True,
        note="in-dialog OPTIONS: 200 with Allow (no dialog needed)",
    ),
    *[
        case(
            f"subscribe-{event or 'no-event'}",
            request("SUBSCRIBE", extra=[("Event", event)] if event else []),
            {489},
            {489},
        )
        for event in ("presence", "dialog", "message-summary", "refer", "")
    ],
    case(
        "subscribe-indialog",
        request("SUBSCRIBE", to_tag=True, extra=[("Event", "presence")]),
        {489},
        {489},
    ),
    *[
        case(f"ood-{method.lower()}", request(method), {405}, {405}, allow_header=True)
        for method in (
            "REGISTER",
            "INFO",
            "REFER",
            "UPDATE",
            "MESSAGE",
            "NOTIFY",
            "PRACK",
            "PUBLISH",
        )
    ],
    case(
        "ood-register-tcp",
        request("REGISTER"),
        {405},
        {405},
        allow_header=True,
        transports=("tcp",),
    ),
    case(
        "cseq-2^31",
        request(replace={"CSeq": "2147483648 INVITE"}),
        UNPARSED,
        {400},
    ),
    case(
        "cseq-2^32",
        request(replace={"CSeq": "4294967296 INVITE"}),
        UNPARSED,
        {400},
    ),
    case("cseq-2^31-1", request(replace={"CSeq": "2147483647 INVITE"}), ANSWERED),
    case(
        "nonutf8-from-user",
        request(replace={"From": b'"Edge" <sip:\xff\xfe\xc3\x28@$LHOST:$LPORT>;tag=$TAG'}),
        UNPARSED,
        {400},
    ),
    case(
        "nonutf8-from-display",
        request(replace={"From": b'"\xc0\xaf\xed\xa0\x80" <sip:edge@$LHOST:$LPORT>;tag=$TAG'}),
        {400},
        {400},
    ),
    case(
        "nonutf8-ruri-user",
        request(ruri=b"sip:\xff\xfe@$HOST:$PORT"),
        UNPARSED,
        {400},
    ),
    case(
        "session-expires-garbage",
        request(extra=[("Session-Expires", "abc;refresher=uac")]),
        UNPARSED,
        {400},
    ),
    case("session-expires-float", request(extra=[("Session-Expires", "1800.5")]), UNPARSED, {400}),
    case("min-se-garbage", request(extra=[("Min-SE", "%n%n%n")]), UNPARSED, {400}),
    case("min-se-negative", request(extra=[("Min-SE", "-90")]), UNPARSED, {400}),
    case("replaces-garbage", request(extra=[("Replaces", ";;;@@==;")]), UNPARSED, {400}),
    case("replaces-no-tags", request(extra=[("Replaces", "abc@host")]), {400}, {400}),
    case(
        "replaces-empty-tags",
        request(extra=[("Replaces", "abc@host;to-tag=;from-tag=")]),
        {400},
        {400},
    ),
]
