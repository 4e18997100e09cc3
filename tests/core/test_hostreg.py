"""The front's registry of worker hosts: reports, expiry, placement and dispatcher steps."""

from __future__ import annotations

from typing import Any

import pytest

from voxpy.core.hostreg import (
    EXPIRY_S,
    MAX_HOSTS,
    BadReport,
    Destination,
    HostRegistry,
    parse_report,
    plan,
)


def report(host: str = "b", *, free: int = 4, **worker: Any) -> dict[str, Any]:
    address = {"b": "10.1.0.2", "c": "10.1.0.3"}.get(host, "10.1.0.7")
    w = {"uri": f"sip:{address}:5071", "duid": f"{host}-w0", "ready": True, "draining": False}
    return {
        "host": host,
        "api": f"http://{address}:8080",
        "workers": [{**w, **worker}],
        "free": free,
        "draining": False,
    }


def beat(reg: HostRegistry, now: float, host: str = "b", **kw: Any) -> bool:
    return reg.beat(parse_report(report(host, **kw)), now)


class TestParse:
    def test_a_good_report(self) -> None:
        parsed = parse_report(report())
        assert (parsed.host, parsed.free, parsed.workers[0].uri) == ("b", 4, "sip:10.1.0.2:5071")

    @pytest.mark.parametrize(
        ("change", "says"),
        [
            ({"host": "a.b"}, "host"),  # a dot would split session ids in the wrong place
            ({"host": "x" * 33}, "host"),
            ({"host": 7}, "host"),
            ({"api": "http://h:80/path"}, "api"),
            ({"api": "file:///etc/passwd"}, "api"),
            ({"free": -1}, "free"),
            ({"free": True}, "free"),
            ({"free": 10**9}, "free"),
            ({"draining": "no"}, "draining"),
            ({"max_calls": 0}, "max_calls"),
            ({"max_calls": 10**9}, "max_calls"),
            ({"max_calls": "4"}, "max_calls"),
            ({"max_calls": True}, "max_calls"),
            ({"workers": "sip:h:1"}, "workers"),
            ({"workers": [1]}, "workers"),
            ({"workers": [{"uri": "sip:h:1"}] * 4097}, "workers"),
        ],
    )
    def test_malformed_reports_are_refused(self, change: dict[str, Any], says: str) -> None:
        with pytest.raises(BadReport, match=says):
            parse_report({**report(), **change})

    def test_max_calls_is_each_destinations_maxload(self) -> None:
        reg = HostRegistry()
        reg.beat(parse_report({**report(), "max_calls": 7}), 0.0)
        assert reg.wanted()["sip:10.1.0.2:5071"].max_calls == 7
        older = parse_report(report("c"))  # a host from before max_calls was reported
        assert older.max_calls is None

    @pytest.mark.parametrize(
        "uri", ["sips:h:1", "sip:h", "sip:h:1;transport=tcp", "sip:h:1\r\nX: y", "sip:a@h:1"]
    )
    def test_worker_uris_are_plain_host_and_port(self, uri: str) -> None:
        with pytest.raises(BadReport, match="uri"):
            parse_report(report(uri=uri))

    def test_a_uri_twice_is_refused(self) -> None:
        data = report()
        data["workers"] = data["workers"] * 2
        with pytest.raises(BadReport, match="twice"):
            parse_report(data)

    def test_not_an_object(self) -> None:
        with pytest.raises(BadReport):
            parse_report([report()])


class TestExpiry:
    def test_a_host_expires_after_its_reports_stop(self) -> None:
        reg = HostRegistry()
        assert beat(reg, 0.0) is True
        assert beat(reg, 1.0) is False
        assert reg.next_expiry() == 1.0 + EXPIRY_S
        assert reg.expire(1.0 + EXPIRY_S - 0.01) == []
        assert reg.expire(1.0 + EXPIRY_S) == ["b"]
        assert reg.hosts() == [] and reg.next_expiry() is None
        assert beat(reg, 9.0) is True  # it may come back

    def test_leave_forgets_at_once(self) -> None:
        reg = HostRegistry()
        beat(reg, 0.0)
        assert reg.leave("b") and not reg.leave("b")
        assert reg.wanted() == {}


class TestConflicts:
    def test_another_hosts_uri_is_refused_and_nothing_changes(self) -> None:
        reg = HostRegistry()
        beat(reg, 0.0, "b")
        with pytest.raises(BadReport, match="belongs to host b"):
            beat(reg, 0.0, "c", uri="sip:10.1.0.2:5071")
        assert [h.host for h in reg.hosts()] == ["b"]

    def test_a_host_id_in_use_from_another_address_is_refused(self) -> None:
        reg = HostRegistry()
        beat(reg, 0.0, "b")
        stolen = {**report("b"), "api": "http://10.1.0.99:8080"}
        with pytest.raises(BadReport, match="taken"):
            reg.beat(parse_report(stolen), 0.5)
        reg.expire(EXPIRY_S)
        reg.beat(parse_report(stolen), EXPIRY_S)  # once the first one is gone, it may

    def test_the_number_of_hosts_is_bounded(self) -> None:
        reg = HostRegistry()
        for i in range(MAX_HOSTS):
            data = report(f"h{i}")
            data["workers"][0]["uri"] = f"sip:10.2.{i // 250}.{i % 250}:5071"
            data["api"] = f"http://10.2.{i // 250}.{i % 250}:8080"
            reg.beat(parse_report(data), 0.0)
        with pytest.raises(BadReport, match="hosts already"):
            beat(reg, 0.0, "one-more")
        again = {**report("h0"), "api": "http://10.2.0.0:8080"}
        again["workers"] = [{**again["workers"][0], "uri": "sip:10.2.0.0:5071"}]
        assert reg.beat(parse_report(again), 1.0) is False  # a known host still reports


class TestPlacement:
    def test_most_free_first_then_by_id_and_claims_count(self) -> None:
        reg = HostRegistry()
        beat(reg, 0.0, "c", free=2)
        beat(reg, 0.0, "b", free=2)
        beat(reg, 0.0, "d", free=0)
        assert [r.host for r in reg.placement()] == ["b", "c"]
        reg.claim("b")
        assert [r.host for r in reg.placement()] == ["c", "b"]
        reg.claim("b")
        reg.claim("b")  # not below zero
        assert [r.host for r in reg.placement()] == ["c"]
        beat(reg, 1.0, "b", free=3)  # a report replaces the guess
        assert reg.placement()[0].host == "b"

    def test_a_draining_host_takes_nothing(self) -> None:
        reg = HostRegistry()
        reg.beat(parse_report({**report("b"), "draining": True}), 0.0)
        assert reg.placement() == []
        assert reg.wanted()["sip:10.1.0.2:5071"].state == "d"


class TestPlan:
    def dest(self, duid: str = "b-w0", state: str = "ap") -> Destination:
        return Destination(uri="sip:10.1.0.2:5071", duid=duid, state=state)  # type: ignore[arg-type]

    def test_wanted_states(self) -> None:
        reg = HostRegistry()
        beat(reg, 0.0, "b", ready=False)
        beat(reg, 0.0, "c", draining=True)
        states = {uri: d.state for uri, d in reg.wanted().items()}
        assert states == {"sip:10.1.0.2:5071": "ip", "sip:10.1.0.3:5071": "d"}

    def test_steps(self) -> None:
        uri = "sip:10.1.0.2:5071"
        assert [s.op for s in plan({}, {uri: self.dest()})] == ["add"]
        assert plan({uri: self.dest()}, {uri: self.dest()}) == []
        assert [s.op for s in plan({uri: self.dest()}, {uri: self.dest("b-w0.1")})] == ["renew"]
        assert [s.op for s in plan({uri: self.dest()}, {uri: self.dest(state="ip")})] == ["state"]
        assert [s.op for s in plan({uri: self.dest()}, {})] == ["remove"]

    def test_removals_come_first(self) -> None:
        old = Destination(uri="sip:10.1.0.3:5071", duid="c-w0", state="ap")
        steps = plan({old.uri: old}, {self.dest().uri: self.dest()})
        assert [s.op for s in steps] == ["remove", "add"]


def test_a_host_with_a_hundred_workers_can_report() -> None:
    """Issue 15 asks for 100-worker hosts: the report's bound must not refuse them (it was 64)."""
    data = report()
    w = data["workers"][0]
    data["workers"] = [
        {**w, "uri": f"sip:10.1.0.2:{5071 + i}", "duid": f"b-w{i}"} for i in range(100)
    ]
    assert len(parse_report(data).workers) == 100
