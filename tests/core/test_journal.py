"""The journal's pure parts: the SIP picture of commands and signals, bounds, JSON lines,
and the ladder diagram (lanes, escaping hostile text, a valid SVG)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.headers import Headers
from voxpy.core.journal import (
    Entry,
    JournalBuffer,
    JournalLimits,
    SipMapper,
    event_entry,
    flow_svg,
    flow_text,
    make_fields,
    parse_journal,
)
from voxpy.core.journal.lanes import lanes_of
from voxpy.errors import InvalidArgumentError

SVG = "{http://www.w3.org/2000/svg}"


def arrows(entries: list[Entry]) -> list[str]:
    """``label src>dst`` of each arrow, lanes by role (leg/far), notes as ``[label]``."""
    out = []
    for e in entries:
        if e.kind == "party":
            continue
        if e.arrow:
            out.append(f"{e.label} {e.src.split(':')[0]}>{e.dst.split(':')[0]}")
        else:
            out.append(f"[{e.label}]")
    return out


def incoming(call_id: str = "a", **headers: str) -> sig.IncomingCall:
    return sig.IncomingCall(
        call_id=call_id,
        from_uri="sip:+15550100@10.0.0.1",
        to_uri="sip:100@10.0.0.2",
        callerid="+15550100",
        destination="100",
        headers=Headers(headers),
    )


class TestSipPicture:
    def test_inbound_answered_then_we_hang_up(self) -> None:
        m = SipMapper()
        out = m.signal(incoming(**{"X-Tenant": "acme", "X-Voxpy-Link": "secret-proof"}))
        out += m.command(cmd.Provisional(call_id="a", code=180))
        out += m.signal(sig.Progress(call_id="a", code=180))  # reported back: drawn once
        out += m.command(cmd.Answer(call_id="a"))
        out += m.signal(sig.Answered(call_id="a"))
        out += m.command(cmd.Bye(call_id="a", headers=Headers({"X-Why": "done"})))
        out += m.signal(sig.Ended(call_id="a", code=200))
        assert arrows(out) == [
            "INVITE far>leg",
            "180 Ringing leg>far",
            "200 OK leg>far",
            "ACK far>leg",
            "BYE leg>far",
            "200 OK far>leg",
        ]
        parties = [e for e in out if e.kind == "party"]
        assert [p.label for p in parties] == ["leg 1 (in)", "caller +15550100"]
        invite = out[2]
        assert invite.field("X-Tenant") == "acme" and invite.field("To") == "sip:100@10.0.0.2"
        assert invite.field("X-Voxpy-Link") == ""  # voxpy's own proofs stay out
        assert out[-2].field("X-Why") == "done"

    def test_caller_hangs_up_and_caller_gives_up(self) -> None:
        m = SipMapper()
        out = m.signal(incoming("a")) + m.command(cmd.Answer(call_id="a"))
        out += m.signal(sig.Answered(call_id="a")) + m.signal(sig.Ended(call_id="a", code=200))
        assert arrows(out)[-2:] == ["BYE far>leg", "200 OK leg>far"]
        out = m.signal(incoming("b")) + m.signal(sig.Ended(call_id="b", code=487))
        assert arrows(out)[-2:] == ["CANCEL far>leg", "487 Request Terminated leg>far"]

    def test_reject_and_redirect(self) -> None:
        m = SipMapper()
        out = m.signal(incoming("a"))
        out += m.command(cmd.Reject(call_id="a", code=486, headers=Headers({"X-Reason": "b"})))
        out += m.signal(sig.Ended(call_id="a", code=486))
        assert arrows(out)[1:] == ["486 Busy Here leg>far", "ACK far>leg"]
        assert out[3].field("X-Reason") == "b"
        out = m.signal(incoming("c")) + m.command(
            cmd.Reject(call_id="c", code=302, contact="sip:desk@10.0.0.7")
        )
        assert out[-1].label == "302 Moved Temporarily"
        assert out[-1].field("Contact") == "sip:desk@10.0.0.7"

    def test_outbound_busy_cancelled_and_answered(self) -> None:
        m = SipMapper()
        dial = cmd.Dial(call_id="o", uri="sip:200@pbx", callerid="+1555", headers=Headers())
        out = m.command(dial)
        out += m.signal(sig.Progress(call_id="o", code=183, reason="Session Progress"))
        out += m.signal(sig.Ended(call_id="o", code=486, reason="Busy Here"))
        assert arrows(out) == ["INVITE leg>far", "183 Session Progress far>leg",
                               "486 Busy Here far>leg", "ACK leg>far"]  # fmt: skip
        assert [p.label for p in out if p.kind == "party"] == ["leg 1 (out)", "callee 200"]
        out = m.command(dial) + m.command(cmd.Cancel(call_id="o", code=408))
        out += m.signal(sig.Ended(call_id="o", code=408))
        assert arrows(out)[1:] == ["CANCEL leg>far", "200 OK far>leg",
                                   "408 Request Timeout far>leg", "ACK leg>far"]  # fmt: skip
        out = m.command(dial) + m.signal(sig.Answered(call_id="o"))
        out += m.signal(sig.Ended(call_id="o", code=200))
        assert arrows(out)[1:] == ["200 OK far>leg", "ACK leg>far", "BYE far>leg",
                                   "200 OK leg>far"]  # fmt: skip

    def test_in_dialog_and_media(self) -> None:
        m = SipMapper()
        m.signal(incoming("a"))
        m.command(cmd.Dial(call_id="b", uri="sip:200@pbx"))
        out = m.command(cmd.Hold(call_id="a", on=True))
        out += m.signal(sig.SipReInviteReceived(call_id="a", mime_type="application/sdp",
                                                body="v=0\r\na=sendonly\r\n"))  # fmt: skip
        out += m.signal(sig.HoldChanged(call_id="a", on_hold=True))  # the event says it
        out += m.command(cmd.SendDigits(call_id="a", digits="12#"))
        out += m.signal(sig.DtmfReceived(call_id="a", tone="5", method="info"))
        out += m.command(cmd.SendInfo(call_id="a", mime_type="application/json", body="{}"))
        out += m.signal(sig.TransferRequested(call_id="a", to="sip:x@y"))
        out += m.command(cmd.Play(call_id="a", playback_id="p", path="/cache/abc.wav"))
        out += m.command(cmd.SendMedia(call_id="a", to_call_id="b"))
        out += m.command(cmd.StartRecording(call_id="a", recording_id="r", path="/r.mp3"))
        out += m.command(cmd.ReportStats(call_id="a")) + m.command(cmd.FeedAudio(
            call_id="a", feed_id="f", pcm=b"\0\0"))  # fmt: skip
        out += m.signal(sig.CommandFailed(call_id="a", op="Hold", message="no dialog"))
        assert arrows(out) == [
            "re-INVITE hold leg>far",
            "re-INVITE far>leg",
            "DTMF 12# leg>far",
            "INFO dtmf 5 far>leg",
            "INFO leg>far",
            "REFER far>leg",
            "202 Accepted leg>far",
            "play leg>far",
            "media leg>leg",
            "[record]",
            "[Hold failed: no dialog]",
        ]
        assert out[1].field("a") == "sendonly" and out[7].field("file") == "abc.wav"
        assert out[-1].kind == "error" and out[7].kind == "media"


class TestNotes:
    def test_events_errors_and_skipped(self) -> None:
        said = event_entry("Call.PlaybackStarted", "leg:a", "a", make_fields({"text": "Hi"}))
        assert said is not None and said.label == 'Call.PlaybackStarted say "Hi"'
        failed = event_entry("Application.HandlerError", "session", "",
                             make_fields({"error": "ZeroDivisionError()"}))  # fmt: skip
        assert failed is not None and failed.kind == "error"
        assert event_entry("Call.Volume", "leg:a", "a", ()) is None
        bad = event_entry("Call.PlaybackFinished", "leg:a", "a", make_fields({"error": "404"}))
        assert bad is not None and bad.kind == "error"


class TestBuffer:
    def test_numbered_timed_and_serialised_once(self) -> None:
        b = JournalBuffer("s1", started=10.0, wall="2026-11-30T08:00:00Z", limits=JournalLimits())
        b.add(Entry(kind="event", label="x", src="session"), 10.25)
        assert [(e.seq, e.t) for e in b.entries] == [(0, 0.0), (1, 0.25)]
        assert b.text().count("\n") == 2 and b.size == len(b.text().encode())
        assert parse_journal(b.text()) == b.entries

    @pytest.mark.parametrize(
        "limits", [JournalLimits(max_entries=10), JournalLimits(max_entries=10**4, max_bytes=2048)]
    )
    def test_bounded_with_a_final_truncated_entry(self, limits: JournalLimits) -> None:
        b = JournalBuffer("s1", started=0.0, wall="", limits=limits)
        for i in range(500):
            b.add(Entry(kind="event", label=f"event {i}", src="session"), i / 10)
        b.close()
        assert len(b.entries) <= limits.max_entries and b.size <= limits.max_bytes
        last = b.entries[-1]
        assert last.kind == "truncated" and int(last.field("dropped")) == 502 - len(b.entries)
        assert sum(e.kind == "truncated" for e in b.entries) == 1
        assert b.size == len(b.text().encode())

    def test_limits_refuse_nonsense(self) -> None:
        with pytest.raises(InvalidArgumentError):
            JournalLimits(max_entries=1)


class TestJson:
    def test_round_trip_and_bad_lines(self) -> None:
        entry = Entry(seq=3, t=1.5, kind="sip", label="INVITE", src="far:a", dst="leg:a",
                      call_id="a", fields=(("X-A", "1"),))  # fmt: skip
        assert parse_journal(entry.to_json() + "\n\n") == [entry]
        for bad, why in [
            ("{", "line 1"),
            ('{"kind": "sip", "label": 3}', "label must be a string"),
            ('{"kind": "nope", "label": ""}', "unknown kind"),
            ('{"kind": "sip", "label": "", "t": "soon"}', "t must be a number"),
            ('{"kind": "sip", "label": "", "fields": {"a": 1}}', "fields must be"),
            ("[1]", "expected a JSON object"),
        ]:
            with pytest.raises(InvalidArgumentError, match=why):
                parse_journal(entry.to_json() + "\n" + bad if why != "line 1" else bad)


HOSTILE = '<script>alert("x")</script>&\x00\x1b[31m\ud800'


def journal(*extra: Entry) -> list[Entry]:
    m = SipMapper()
    b = JournalBuffer("s1", started=0.0, wall="2026-11-30T08:00:00Z", limits=JournalLimits())
    steps: list[Entry] = [
        *m.signal(incoming("a", **{"X-Evil": HOSTILE})),
        *m.command(cmd.Answer(call_id="a")),
        *m.signal(sig.Answered(call_id="a")),
        *m.command(cmd.Dial(call_id="b", uri="sip:200@pbx")),
        *m.signal(sig.Answered(call_id="b")),
        *m.command(cmd.SendMedia(call_id="a", to_call_id="b")),
        *extra,
        *m.command(cmd.Bye(call_id="a")),
    ]
    for i, e in enumerate(steps):
        b.add(e, i * 0.01)
    return b.entries


def texts_of(entry: Entry) -> list[str]:
    root = ET.fromstring(flow_svg(journal(entry)))
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


class TestDiagram:
    def test_lanes_caller_left_callee_right(self) -> None:
        lanes = [lane.label for lane in lanes_of(journal())]
        assert lanes == ["caller +15550100", "leg 1 (in)", "session (scenario)", "leg 2 (out)",
                         "callee 200"]  # fmt: skip

    def test_valid_svg_with_every_row(self) -> None:
        entries = journal(Entry(kind="error", label="Application.HandlerError", src="session"))
        root = ET.fromstring(flow_svg(entries).encode())
        assert root.tag == f"{SVG}svg"
        texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
        assert "INVITE" in texts and "BYE" in texts and "+20 ms" in texts and "+120 ms" in texts
        notes = [g for g in root.iter(f"{SVG}g") if "error" in (g.get("class") or "")]
        assert len(notes) == 1
        assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "sip"]) == 7
        assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "media"]) == 1

    def test_hostile_text_is_inert(self) -> None:
        """A header value or say text with markup and control characters: still one valid
        document, no element but ours, the text shown escaped."""
        said = Entry(kind="event", label=f"Call.PlaybackStarted say {HOSTILE}", src="leg:a",
                     fields=(("text", HOSTILE),))  # fmt: skip
        text = flow_svg(journal(said))
        root = ET.fromstring(text.encode())
        tags = {el.tag.removeprefix(SVG) for el in root.iter()}
        assert tags <= {"svg", "title", "style", "defs", "marker", "path", "rect", "text", "g",
                        "line"}  # fmt: skip
        assert "<script" not in text and "&lt;script&gt;" in text
        assert "\x00" not in text and "\x1b" not in text

    def test_short_field_values_are_shown(self) -> None:
        """A one-character INFO body or a status digit is a detail line, not dropped as if the
        label said it (the check clipped the value's last character off, leaving "")."""
        info = Entry(kind="sip", label="INFO", src="caller", dst="leg:a",
                     fields=(("body", "1"), ("status", "4")))  # fmt: skip
        assert "body: 1  status: 4" in texts_of(info)
        said = Entry(kind="event", label="Call.PlaybackStarted say hello", src="leg:a",
                     fields=(("text", "hello"),))  # fmt: skip
        assert not any("text: hello" in t for t in texts_of(said))

    def test_diagram_of_json_objects_and_text(self) -> None:
        entries = journal()
        objects = [json.loads(e.to_json()) for e in entries]
        assert flow_svg(objects) == flow_svg(entries)
        text = flow_text(entries)
        assert "caller +15550100 -> leg 1 (in)" in text and "INVITE" in text
        assert "\x00" not in text and "\x1b" not in text  # control characters shown escaped
        with pytest.raises(InvalidArgumentError):
            flow_svg([{"kind": "sip", "label": 5}])
