"""Hosts for multi-host tests: network namespaces on one machine, joined by a bridge.

``Hosts`` makes namespaces ``<prefix>a``, ``b``, ``c`` (the pid in the prefix: parallel runs
do not meet), a bridge in ``a`` with every namespace on it through a veth pair, and one more
veth into the test's own namespace, so the test talks to every host as a fifth machine
would (10.<x>.0.9). Host ``i`` has 10.<x>.0.<i+1>. Everything is removed on exit, also
after a failure: deleting a namespace deletes its veth ends, and the root end is deleted
by name.

``HostProcess`` runs ``voxpy serve`` in one namespace (``ip netns exec`` execs it: same pid)
and kills what it started by pid, as tests.server.serve_process does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import aiohttp

from tests.server.serve_process import ServeProcess


def netns_unavailable() -> str | None:
    """Why these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is missing"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _ip_quiet(*args: str) -> None:
    """Clean-up: what is already gone is not an error."""
    subprocess.run(["ip", *args], check=False, capture_output=True, timeout=10)


class Hosts:
    """Three namespaces on one bridge, and the test's own address on it."""

    def __init__(self, count: int = 3) -> None:
        pid = os.getpid()
        self.prefix = f"vx{pid}"
        self.names = [f"{self.prefix}{chr(ord('a') + i)}" for i in range(count)]
        self.subnet = f"10.{100 + pid % 150}.0"
        self.addresses = [f"{self.subnet}.{i + 1}" for i in range(count)]
        self.client = f"{self.subnet}.9"
        self._root_link = f"{self.prefix}r"
        self._made: list[str] = []

    def __enter__(self) -> Hosts:
        try:
            self._build()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _build(self) -> None:
        for name in self.names:
            _ip("netns", "add", name)
            self._made.append(name)
            _ip("-n", name, "link", "set", "lo", "up")
        hub = self.names[0]
        _ip("-n", hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub, "addr", "add", f"{self.addresses[0]}/24", "dev", "br0")
        _ip("-n", hub, "link", "set", "br0", "up")
        for i, name in enumerate(self.names[1:], start=1):
            port = f"p{i}"
            _ip("link", "add", f"{self.prefix}t{i}", "netns", hub, "type", "veth",
                "peer", "name", "eth0", "netns", name)  # fmt: skip
            _ip("-n", hub, "link", "set", f"{self.prefix}t{i}", "name", port)
            _ip("-n", hub, "link", "set", port, "master", "br0", "up")
            _ip("-n", name, "addr", "add", f"{self.addresses[i]}/24", "dev", "eth0")
            _ip("-n", name, "link", "set", "eth0", "up")
        _ip("link", "add", self._root_link, "type", "veth", "peer", "name", "up0", "netns", hub)
        _ip("-n", hub, "link", "set", "up0", "master", "br0", "up")
        _ip("addr", "add", f"{self.client}/24", "dev", self._root_link)
        _ip("link", "set", self._root_link, "up")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _ip_quiet("link", "del", self._root_link)
        for name in reversed(self._made):
            _ip_quiet("netns", "del", name)
        self._made.clear()


class HostProcess(ServeProcess):
    """``voxpy serve SCENARIO ARGS`` in namespace ``ns`` (None: this one), JSON log, token
    and test environment from ServeProcess."""

    def __init__(
        self, ns: str | None, scenario: Path, args: list[str], *, workers: int = 0
    ) -> None:
        super().__init__(scenario, workers=workers)
        self.name = f"voxpy serve in {ns or 'this namespace'}"
        enter = ["ip", "netns", "exec", ns] if ns else []
        serve = [sys.executable, "-m", "voxpy", "serve", str(scenario), "--log-format", "json"]
        self.argv = [*enter, *serve, *args]

    async def start(self) -> HostProcess:
        await self.spawn(start_new_session=True)
        self._http = aiohttp.ClientSession()
        ready = await self.wait_log(lambda line: line.get("event") == "serve_ready", timeout=40)
        self.url = str(ready["http"])
        self.sip_port = int(ready["sip_port"])
        return self
