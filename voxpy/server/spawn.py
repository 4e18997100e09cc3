"""How the supervisor starts a worker process: forked by the zygote (default) or exec'd.

Both give a :class:`Child`: its pid, its stderr as a stream, a wait for its exit that polls
nothing (the zygote's ``exit N`` message, or a pidfd), and signals. Each worker gets a ready
pipe (:data:`~voxpy.server.procs.READY_FD_ENV`) and writes one line to it once its control API
listens, so the supervisor never polls ``/status`` while a worker starts.

``server.spawn = "exec"`` keeps the old path (``python -m voxpy run`` per worker): slower to
start and 2.5x the memory, but it shares nothing with a long-lived parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from voxpy.log import get_logger
from voxpy.server.control import SUPERVISOR_PID_ENV
from voxpy.server.procs import READY_FD_ENV, LineRelay, wait_exit, wait_pidfd

PRELOAD = (
    "voxpy.cli",
    # The backend imports its modules (and the pjsua2 wrapper: a 2 MB SWIG module, thousands
    # of Python objects) only when it starts: the zygote imports them all, but creates no
    # endpoint (that starts pjsua's threads, which a fork would not carry).
    "voxpy.backends.pjsua2.*",
    "voxpy.backends.streams",
    "voxpy.core.*",
    "voxpy.media.library",
    "voxpy.media.recording",
    "voxpy.server.control",
    "voxpy.server.conferences",
    "voxpy.server.results",
    "concurrent.futures.thread",
)
"""What every worker imports (``python -X importtime -m voxpy run``): loaded once in the
zygote, its pages shared by every fork of it (``pkg.*``: the package and its modules)."""
REPLY_TIMEOUT_S = 10.0
LOST = 255
"The return code reported when the zygote died before it could say how its child ended."


class Child(Protocol):
    pid: int
    stderr: asyncio.StreamReader

    @property
    def returncode(self) -> int | None: ...

    async def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, signum: int) -> None: ...

    def close(self) -> None: ...


class Launcher(Protocol):
    forked: bool

    async def start_child(
        self, argv: Sequence[str], env: Mapping[str, str], ready_fd: int
    ) -> Child: ...

    async def close(self) -> None: ...


class ExecChild:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc, self.pid = proc, proc.pid
        assert proc.stderr is not None
        self.stderr = proc.stderr

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    async def wait(self, timeout: float | None = None) -> int:
        return await wait_exit(self.proc, timeout)

    def send_signal(self, signum: int) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signum)

    def close(self) -> None:
        pass


class ExecLauncher:
    """``python -m voxpy run ...`` per worker, as before the zygote."""

    forked = False

    async def start_child(
        self, argv: Sequence[str], env: Mapping[str, str], ready_fd: int
    ) -> Child:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env={**env, READY_FD_ENV: str(ready_fd)},
            pass_fds=(ready_fd,),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            process_group=0,  # signals to our group (Ctrl-C) must not skip the drain
        )
        return ExecChild(proc)

    async def close(self) -> None:
        pass


class ForkedChild:
    """A worker the zygote forked: not our child, so its end comes as the zygote's message
    (or, if the zygote died first, as its pidfd becoming readable)."""

    def __init__(self, pid: int, conn: socket.socket, stderr: asyncio.StreamReader) -> None:
        self.pid, self.stderr, self._conn = pid, stderr, conn
        self._pidfd = os.pidfd_open(pid)
        self._code: int | None = None
        self._ended = asyncio.ensure_future(self._wait_end())

    @property
    def returncode(self) -> int | None:
        return self._code

    async def _wait_end(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(OSError):
            reply = (await loop.sock_recv(self._conn, 256)).decode("ascii", "replace")
            if reply.startswith("exit "):
                self._code = int(reply[5:])
                return
        await wait_pidfd(self._pidfd)  # the zygote died: ours gets SIGTERM (PDEATHSIG)
        self._code = LOST

    async def wait(self, timeout: float | None = None) -> int:
        await asyncio.wait_for(asyncio.shield(self._ended), timeout)
        assert self._code is not None
        return self._code

    def send_signal(self, signum: int) -> None:
        if self._code is None:  # pidfd: never a recycled pid
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signum)

    def close(self) -> None:
        self._ended.cancel()
        self._conn.close()
        os.close(self._pidfd)


class Zygote:
    """Runs ``python -m voxpy.server.zygote`` and asks it for workers; restarts it if it died."""

    forked = True

    def __init__(
        self, path: Path, env: Mapping[str, str], preload: Sequence[str] = PRELOAD
    ) -> None:
        # numpy's OpenBLAS starts a thread pool as it loads (one thread per core but one):
        # a fork would carry none of it. Workers' numpy work is small frames (hearing).
        self.env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **env}
        self.path, self.preload = path, tuple(preload)
        self.pid: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._relay: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._log = get_logger("voxpy.supervisor")

    async def _ensure(self) -> None:
        async with self._lock:
            if self._proc is not None and self._proc.returncode is None:
                return
            if self._proc is not None:
                self._log.error("zygote_exited", pid=self._proc.pid, code=self._proc.returncode)
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                listener.bind(str(self.path))
                # The zygote runs whatever module and environment it is asked to: only our uid
                # may ask (a configured server.run_dir may be readable by others).
                os.chmod(self.path, 0o600)
                listener.listen(1024)
                self._proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "voxpy.server.zygote",
                    str(listener.fileno()), *self.preload,
                    env=self.env,
                    pass_fds=(listener.fileno(),),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                    process_group=0,
                )  # fmt: skip
            finally:
                listener.close()  # the zygote's copy is the one that accepts
            self.pid = self._proc.pid
            assert self._proc.stderr is not None
            self._relay = asyncio.create_task(LineRelay("zygote", {}).run(self._proc.stderr))
            self._log.info("zygote_started", pid=self.pid, preload=list(self.preload))

    async def start_child(
        self, argv: Sequence[str], env: Mapping[str, str], ready_fd: int
    ) -> Child:
        """Fork ``argv`` (``python -m MODULE ...``: the interpreter is dropped) in the zygote;
        raises OSError when it cannot (the caller retries after a backoff)."""
        await self._ensure()
        loop = asyncio.get_running_loop()
        payload = json.dumps({"argv": list(argv[1:]), "env": dict(env)}).encode()
        err_r, err_w = os.pipe()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        conn.setblocking(False)
        try:
            await loop.sock_connect(conn, str(self.path))
            socket.send_fds(conn, [payload], [err_w, ready_fd])
            os.close(err_w)
            err_w = -1
            reply = await asyncio.wait_for(loop.sock_recv(conn, 4096), REPLY_TIMEOUT_S)
            text = reply.decode("utf-8", "replace")
            if not text.startswith("pid "):
                raise OSError(f"zygote refused: {text or 'no answer'}")
            pid = int(text[4:])
            reader = asyncio.StreamReader()
            pipe = os.fdopen(err_r, "rb", 0)
            err_r = -1
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
            return ForkedChild(pid, conn, reader)
        except BaseException:
            conn.close()
            raise
        finally:
            for fd in (err_r, err_w):
                if fd >= 0:
                    os.close(fd)

    async def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await wait_exit(proc, 5.0)
            except TimeoutError:
                proc.kill()
                await wait_exit(proc)
        if self._relay is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._relay, 1.0)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def start_slots() -> int:
    """How many workers start at once: two per core. Each start is CPU-bound (settings, the
    scenario's test run, the pjsua2 endpoint); more at once only makes every one of them
    slower, and a start waiting for its slot has no READY_TIMEOUT_S clock running."""
    return 2 * max(1, len(os.sched_getaffinity(0)))


def launcher(spawn: str, socket_path: Path) -> Launcher:
    """The launcher ``server.spawn`` names: the zygote (its socket at ``socket_path``, started
    on the first worker's start) or exec."""
    if spawn == "exec":
        return ExecLauncher()
    return Zygote(socket_path, {**os.environ, SUPERVISOR_PID_ENV: str(os.getpid())})
