"""The edge guard's policy, admission budget and log budget, as pure functions."""

from __future__ import annotations

import pytest

from voxpy.core.admission import ConnectionCount, KeyBudget
from voxpy.core.edge import inspect_request, sdp_problem
from voxpy.core.ratelimit import LogBudget
from voxpy.core.sipraw import stateless_response

SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 {c}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
)


def request(
    method: str = "INVITE",
    *,
    extra: str = "",
    cseq: str | None = None,
    to_tag: str = "",
    body: str | None = None,
) -> bytes:
    if body is None:
        body = SDP.format(c="127.0.0.1") if method == "INVITE" else ""
    ctype = "Content-Type: application/sdp\r\n" if body else ""
    head = (
        f"{method} sip:100@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n"
        "From: <sip:a@127.0.0.1>;tag=1\r\n"
        f"To: <sip:100@127.0.0.1>{to_tag}\r\n"
        "Call-ID: c1\r\n"
        f"CSeq: {cseq or '1 ' + method}\r\n"
        "Max-Forwards: 70\r\n"
        f"{extra}{ctype}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body.encode()


def code_of(raw: bytes, *, datagram: bool = True, truncated: bool = False) -> int | None:
    refusal = inspect_request(raw, datagram=datagram, truncated=truncated)
    return None if refusal is None else refusal.code


class TestPolicy:
    def test_a_plain_invite_and_its_dialog_pass(self) -> None:
        assert code_of(request()) is None
        for method in ("ACK", "CANCEL", "OPTIONS"):
            assert code_of(request(method)) is None
        for method in ("BYE", "INFO", "REFER", "NOTIFY", "UPDATE", "MESSAGE", "INVITE"):
            assert code_of(request(method, to_tag=";tag=9")) is None

    @pytest.mark.parametrize(
        ("raw", "code"),
        [
            (request(cseq="4294967296 INVITE"), 400),
            (request(cseq="2147483648 INVITE"), 400),
            (request(cseq="1 BYE"), 400),
            (request(cseq="abc INVITE"), 400),
            (request(extra="Min-SE: garbage\r\n"), 400),
            (request(extra="Session-Expires: 99999999999999\r\n"), 400),
            (request(extra="x: 90;refresher=uac\r\n"), None),
            (request(extra="Replaces: xyz\r\n"), 400),
            (request(extra="Replaces: abc;to-tag=1;from-tag=2\r\n"), None),
            (request().replace(b"Max-Forwards: 70", b"Max-Forwards: 0"), 483),
            (request(to_tag=";tag=9").replace(b"Max-Forwards: 70", b"Max-Forwards: 0"), None),
            (request().replace(b"Max-Forwards: 70", b"Max-Forwards: seventy"), 400),
            (request(body=SDP.format(c="127.0.0.1").replace("c=IN", "c=in")), None),
            (request(body=SDP.format(c="127.0.0.1").replace("c=IN IP4", "c=")), 488),
            (request(body=SDP.format(c="1.2.3.4") + "a=rtcp:4001 IN IP4 host.example\r\n"), 488),
            (request("REGISTER"), 405),
            (request("PUBLISH"), 405),
            (request("BYE"), 481),
            (request("SUBSCRIBE", extra="Event: presence\r\n"), 489),
            (request("SUBSCRIBE", extra="Event: presence\r\n", to_tag=";tag=9"), 489),
            (request("SUBSCRIBE", extra="Event: refer\r\n", to_tag=";tag=9"), None),
            (request("FOO"), 501),
            (request("OPTIONS", to_tag=";tag=9"), 200),
            (request(body=SDP.format(c="a" * 300)), 488),
            (request(body=SDP.format(c="example.com")), 488),
            (
                request(body=SDP.format(c="127.0.0.1").replace("IN IP4 127.0.0.1", "IN IP6 ::1")),
                488,
            ),
            (request("UPDATE", to_tag=";tag=9", body=SDP.format(c="b" * 254)), 488),
        ],
    )
    def test_refusals(self, raw: bytes, code: int | None) -> None:
        assert code_of(raw) == code

    def test_non_utf8_headers_and_oversize(self) -> None:
        assert code_of(request().replace(b"sip:a@", b"sip:\xff\xfe@")) == 400
        assert code_of(request(), truncated=True) == 513
        assert code_of(request(extra="X-Pad: 1\r\n" * 101)) == 400

    def test_content_length_beyond_the_datagram(self) -> None:
        raw = request().replace(b"Content-Length: ", b"Content-Length: 9")
        assert code_of(raw) == 400
        assert code_of(raw, datagram=False) is None  # TCP frames by Content-Length itself

    def test_405_and_501_say_what_is_allowed(self) -> None:
        for method in ("REGISTER", "FOO"):
            refusal = inspect_request(request(method), datagram=True)
            assert refusal is not None
            assert dict(refusal.headers)["Allow"].startswith("INVITE, ACK, BYE")

    def test_sdp_problem_reads_rtcp_and_origin(self) -> None:
        assert sdp_problem(b"a=rtcp:4001 IN IP4 " + b"x" * 260) is not None
        assert sdp_problem(b"o=- 1 1 IN IP6 ::1") is not None
        assert sdp_problem(SDP.format(c="10.0.0.1/127").encode()) is None


class TestStatelessResponse:
    def test_echoes_the_transaction_headers_and_adds_a_to_tag(self) -> None:
        raw = request(cseq="4294967296 INVITE").replace(b"sip:a@", b"sip:\xff@")
        response = stateless_response(raw, code=400, reason="Bad Request", server="voxpy")
        assert response is not None
        lines = response.split(b"\r\n")
        assert lines[0] == b"SIP/2.0 400 Bad Request"
        assert b"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1" in lines
        assert b"From: <sip:\xff@127.0.0.1>;tag=1" in lines
        assert b"CSeq: 4294967296 INVITE" in lines
        assert any(line.startswith(b"To: <sip:100@127.0.0.1>;tag=") for line in lines)
        assert b"Server: voxpy" in lines
        assert response.endswith(b"Content-Length: 0\r\n\r\n")

    def test_nothing_for_ack_responses_or_requests_without_call_id(self) -> None:
        assert stateless_response(request("ACK"), code=400, reason="x", server="v") is None
        assert (
            stateless_response(b"SIP/2.0 200 OK\r\n\r\n", code=400, reason="x", server="v") is None
        )
        no_cid = request().replace(b"Call-ID: c1\r\n", b"")
        assert stateless_response(no_cid, code=400, reason="x", server="v") is None


class TestKeyBudget:
    def test_a_burst_is_cut_before_the_keys_run_out(self) -> None:
        budget = KeyBudget(total=64, reserve=6, hold_s=1.0)
        uses = [budget.admit(i / 100, calls=min(i, 4), transports=2, key=i) for i in range(100)]
        # No final response yet: every admitted INVITE may hold its 2 keys.
        assert all(use.keys <= 64 for use in uses if use.admitted)
        assert sum(use.admitted for use in uses) == 24
        assert not uses[-1].admitted

    def test_a_rejected_invite_holds_its_keys_until_they_are_free_again(self) -> None:
        budget = KeyBudget(total=8, reserve=0, hold_s=1.0)
        assert [budget.admit(0.0, calls=0, transports=0, key=k).admitted for k in "abcd"] == [
            True,
            True,
            True,
            True,
        ]
        assert not budget.admit(0.0, calls=0, transports=0, key="e").admitted
        for key in "abcd":
            budget.settle(0.5, key, answered=False)  # 488: the media closes now
        assert not budget.admit(1.0, calls=0, transports=0, key="e").admitted
        assert budget.admit(1.6, calls=0, transports=0, key="e").admitted

    def test_an_answered_invite_counts_as_a_call_until_the_call_ends(self) -> None:
        budget = KeyBudget(total=3, reserve=0, hold_s=1.0)
        assert budget.admit(0.0, calls=0, transports=0, key="a").admitted
        budget.settle(0.1, "a", answered=True)
        assert not budget.admit(0.2, calls=1, transports=0, key="b").admitted  # 2 + 2 > 3
        budget.call_ended(5.0)  # its keys are closing
        assert not budget.admit(5.1, calls=0, transports=0, key="b").admitted
        assert budget.admit(6.1, calls=0, transports=0, key="b").admitted

    def test_a_lost_invite_stops_counting_after_its_transaction_time(self) -> None:
        budget = KeyBudget(total=2, reserve=0, hold_s=1.0, pending_s=32.0)
        assert budget.admit(0.0, calls=0, transports=0, key="a").admitted
        assert "a" in budget
        assert not budget.admit(31.0, calls=0, transports=0, key="b").admitted
        assert not budget.admit(33.1, calls=0, transports=0, key="b").admitted  # closing now
        assert budget.admit(34.2, calls=0, transports=0, key="b").admitted

    def test_outbound_legs_are_calls_at_once(self) -> None:
        budget = KeyBudget(total=4, reserve=0, hold_s=1.0)
        assert budget.admit(0.0, calls=0, transports=0).admitted
        assert budget.admit(0.0, calls=1, transports=0).admitted
        assert not budget.admit(0.0, calls=2, transports=0).admitted


class TestConnectionCount:
    def test_gate_closes_at_the_limit_and_reopens_after_the_hold(self) -> None:
        count = ConnectionCount(gate_at=3, hold_s=1.0)
        for connection in (1, 2):
            count.opened(connection)
        assert count.should_accept(0.0)
        count.opened(3)
        assert not count.should_accept(0.0)
        count.closed(0.5, 3)
        assert not count.should_accept(1.0)  # its key is still closing
        assert count.should_accept(1.6)
        count.closed(2.0, 99)  # never counted: ignored
        assert count.keys(2.0) == 2


def test_log_budget_counts_what_it_suppressed() -> None:
    budget = LogBudget(rate=1.0, burst=2)
    assert [budget.take(0.0) for _ in range(4)] == [0, 0, None, None]
    assert budget.take(1.0) == 2
