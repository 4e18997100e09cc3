"""The zygote on its own: it forks what it is asked, with the environment, stderr and ready
pipe it is given, reports each child's end, and refuses a bad request without dying."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from voxpy.server.spawn import Child, Zygote

ROOT = Path(__file__).resolve().parents[2]
CHILD = ("python", "-m", "tests.server.ready_child")


@pytest.fixture
async def zygote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Zygote]:
    monkeypatch.chdir(ROOT)  # the zygote finds tests.server.ready_child from its cwd
    zygote = Zygote(tmp_path / "zygote.sock", dict(os.environ), preload=("json",))
    yield zygote
    await zygote.close()


async def start(zygote: Zygote, *args: str) -> tuple[Child, bytes, int]:
    ready_r, ready_w = os.pipe()
    try:
        child = await zygote.start_child((*CHILD, *args), {"GREETING": "hello"}, ready_w)
    finally:
        os.close(ready_w)
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, os.read, ready_r, 64)
    os.close(ready_r)
    return child, line, child.pid


async def test_forks_a_child_and_reports_its_exit(zygote: Zygote) -> None:
    child, line, pid = await start(zygote, "3")
    assert line == b"ready\n"
    said = (await child.stderr.readline()).decode()
    assert said == f"hello pgid={pid} pid={pid}\n"  # its own process group
    assert await child.wait(10) == 3
    child.close()


async def test_signals_reach_the_child_and_its_end_is_reported(zygote: Zygote) -> None:
    child, _, pid = await start(zygote, "wait")
    assert Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(zygote.pid)
    child.send_signal(signal.SIGTERM)
    assert await child.wait(10) == -signal.SIGTERM
    child.send_signal(signal.SIGTERM)  # gone: nothing happens (a pidfd, not a pid)
    child.close()


async def test_a_bad_request_is_refused_and_the_zygote_lives_on(zygote: Zygote) -> None:
    await start(zygote, "0")  # the zygote runs
    for request, fds in ((b"not json", []), (b'{"argv": ["x"], "env": {}}', []),
                         (b'{"argv": ["-m", "json"], "env": {}}', [])):  # fmt: skip
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
            conn.connect(str(zygote.path))
            socket.send_fds(conn, [request], fds)
            conn.settimeout(10)
            assert conn.recv(4096).startswith(b"error ")
    child, line, _ = await start(zygote, "0")
    assert line == b"ready\n"
    assert await child.wait(10) == 0


def test_the_zygote_needs_its_socket() -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "voxpy.server.zygote"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "usage" in result.stderr


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            if stat.rsplit(")", 1)[1].split()[1] == str(pid):
                found.append(int(entry.name))
    return found


async def test_a_child_nobody_waits_for_is_killed(zygote: Zygote) -> None:
    """The supervisor gave up (closed its connection) before the zygote said ``pid N``: the
    child, which nobody would ever stop, is killed and reaped, not left holding its ports."""
    child, _, _ = await start(zygote, "0")
    assert await child.wait(10) == 0
    child.close()
    assert zygote.pid is not None
    request = json.dumps({"argv": ["-m", "tests.server.ready_child", "wait"],
                          "env": dict(os.environ)}).encode()  # fmt: skip
    err_r, err_w = os.pipe()
    ready_r, ready_w = os.pipe()
    os.kill(zygote.pid, signal.SIGSTOP)  # it reads the request only after we hung up
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
            conn.connect(str(zygote.path))
            socket.send_fds(conn, [request], [err_w, ready_w])
    finally:
        os.close(err_w)
        os.close(ready_w)
        os.kill(zygote.pid, signal.SIGCONT)
    loop = asyncio.get_running_loop()

    def until_closed() -> None:  # every writer gone: the child (60 s if kept) has ended
        while os.read(ready_r, 64):
            pass

    await loop.run_in_executor(None, until_closed)
    os.close(ready_r)
    os.close(err_r)
    assert _children_of(zygote.pid) == []  # reaped, not a zombie
