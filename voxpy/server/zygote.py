"""The zygote: a warm parent that forks `voxpy serve`'s workers (gunicorn's ``preload`` idea).

``python -m voxpy.server.zygote FD MODULE...`` imports the MODULEs (voxpy, aiohttp, pydantic,
the pjsua2 wrapper: what every worker imports anyway), freezes the heap (``gc.freeze()``: the
collector then never writes to those objects' headers, so their pages stay shared after a
fork), and serves fork requests on the listening unix socket FD it inherited. It runs no
thread, no event loop and no pjsua2 endpoint, so a fork of it is as clean as a new process.

Why: 100 workers each importing everything at once on 2 cores took 34-160 s to be ready, and
each held 39.5 MB PSS, mostly its own copy of the same imported modules (a bare pjsua2 process
holds 12.2 MB). Measured in bench/workers_start.py.

One request per connection (SOCK_SEQPACKET, so one message is one request): a JSON object
``{"argv": ["-m", MODULE, ARG...], "env": {...}}`` with two file descriptors, the child's
stderr and its ready pipe. The zygote answers ``pid N`` once forked, then ``exit N`` (the
return code, negative for a signal) once the child ended and was reaped, and closes. A bad
request gets ``error TEXT``. The child runs ``python -m MODULE ARG...`` in-process: its own
process group, the given environment, stdin and stdout on /dev/null, every other inherited
descriptor closed.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import importlib
import json
import os
import pkgutil
import runpy
import selectors
import signal
import socket
import sys
import threading
import traceback
from typing import Any

from voxpy.server.conferences import WORKER_ENV
from voxpy.server.control import SUPERVISOR_PID_ENV, die_with_parent
from voxpy.server.procs import READY_FD_ENV

MAX_REQUEST = 1 << 20
"A request's size at most (argv and environment: a few kB)."
_PR_SET_NAME = 15
READY_FD = 3
"Where the child finds its ready pipe (what a fork gets, an exec gets in READY_FD_ENV too)."


def main(argv: list[str]) -> int:
    if not argv or not argv[0].isdigit():
        sys.stderr.write("usage: python -m voxpy.server.zygote LISTEN_FD [MODULE...]\n")
        return 2
    die_with_parent()  # the supervisor gone: so are we, and our children with us
    listener = socket.socket(fileno=int(argv[0]))
    for name in _expand(argv[1:]):
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a worker imports it again and reports it
            _say("zygote_preload_failed", module=name, error=repr(exc))
    gc.collect()
    gc.freeze()
    threads = len(os.listdir("/proc/self/task"))
    if threads > 1:  # a fork carries only this one: a lock another thread held stays locked
        _say("zygote_threads", threads=threads, error="a preloaded module started a thread")
    _say("zygote_ready", pid=os.getpid(), modules=len(sys.modules), threads=threads)
    _serve(listener)
    return 0


def _expand(names: list[str]) -> list[str]:
    """``pkg.*`` stands for the package and every module in it (not its subpackages)."""
    found: list[str] = []
    for name in names:
        if not name.endswith(".*"):
            found.append(name)
            continue
        package = importlib.import_module(name[:-2])
        found.append(package.__name__)
        found += [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    return found


def _serve(listener: socket.socket) -> None:
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    children: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, its connection)
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                conn, _ = listener.accept()
                child = _spawn(conn)
                if child is None:
                    conn.close()
                    continue
                pidfd = os.pidfd_open(child)
                children[pidfd] = (child, conn)
                selector.register(pidfd, selectors.EVENT_READ)
                continue
            pidfd = int(key.fd)
            pid, conn = children.pop(pidfd)
            selector.unregister(pidfd)
            os.close(pidfd)
            _, status = os.waitpid(pid, 0)
            with contextlib.suppress(OSError):
                conn.send(f"exit {os.waitstatus_to_exitcode(status)}".encode())
            conn.close()


def _spawn(conn: socket.socket) -> int | None:
    """Fork the child ``conn`` asks for; its pid, or None after answering why not."""
    # The supervisor sends its request right after connecting; a client that sends nothing
    # holds this loop this long at most (only our uid may connect: the socket is 0600).
    conn.settimeout(5.0)
    fds: list[int] = []
    try:
        data, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 2)
        request = json.loads(data)
        module, args, env = _check(request, len(fds))
    except (OSError, ValueError, TypeError) as exc:
        for fd in fds:
            os.close(fd)
        _say("zygote_bad_request", error=str(exc))
        with contextlib.suppress(OSError):
            conn.send(f"error {exc}".encode())
        return None
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the child writes our buffered lines again
    try:
        pid = os.fork()
    except OSError as exc:
        for fd in fds:
            os.close(fd)
        with contextlib.suppress(OSError):
            conn.send(f"error fork: {exc}".encode())
        return None
    if pid == 0:
        _child(module, args, env, fds[0], fds[1])  # never returns
    for fd in fds:
        os.close(fd)
    try:
        conn.send(f"pid {pid}".encode())
    except OSError as exc:  # the supervisor gave up waiting: nobody would ever stop it
        _say("zygote_child_unclaimed", pid=pid, error=f"killed: {exc}")
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # it may not have its own process group yet
            os.waitpid(pid, 0)
        return None
    return pid


def _check(request: Any, nfds: int) -> tuple[str, list[str], dict[str, str]]:
    if not isinstance(request, dict):
        raise ValueError("request is not a JSON object")
    argv, env = request.get("argv"), request.get("env")
    if not isinstance(argv, list) or len(argv) < 2 or argv[0] != "-m":
        raise ValueError("argv must start with -m MODULE")
    if not all(isinstance(a, str) for a in argv):
        raise ValueError("argv must be strings")
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise ValueError("env must map strings to strings")
    if nfds != 2:
        raise ValueError(f"expected 2 file descriptors (stderr, ready), got {nfds}")
    return argv[1], argv[2:], env


def _child(module: str, args: list[str], env: dict[str, str], stderr: int, ready: int) -> None:
    """In the forked child: become ``python -m module args`` and exit with its status."""
    code: Any = 1
    try:
        os.setpgid(0, 0)  # signals to the supervisor's group (Ctrl-C) must not skip the drain
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(stderr, 2)
        os.dup2(ready, READY_FD)
        os.closerange(READY_FD + 1, os.sysconf("SC_OPEN_MAX"))  # our listener, pidfds, conns
        os.environ.clear()
        # The parent whose death must stop the worker (control.die_with_parent) is us.
        os.environ.update(
            {**env, READY_FD_ENV: str(READY_FD), SUPERVISOR_PID_ENV: str(os.getppid())}
        )
        sys.argv = [module, *args]
        _name(f"voxpy-{env.get(WORKER_ENV, 'worker')}")
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # noqa: BLE001 - reported as python -m would, then exit 1
        traceback.print_exc()
    finally:
        if code is not None and not isinstance(code, int):
            sys.stderr.write(f"{code}\n")
            code = 1
        # What the interpreter's exit does, but not its teardown of every module and object:
        # join the threads that are not daemons (an executor's pending work), then atexit.
        # With 50 or 100 workers stopping at once on 2 cores, every exec'd worker outlived the
        # supervisor's 9 s after its engine had stopped and was killed; forked ones exited in
        # 1-4 s (bench/workers_start.py). Daemon threads die here as they do at any exit.
        with contextlib.suppress(BaseException):
            getattr(threading, "_shutdown", lambda: None)()
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code or 0)


def _name(name: str) -> None:
    """Name the process for ps -o comm and top (``voxpy-w7``); its command line stays the
    zygote's (a fork cannot change it without a C extension)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def _say(event: str, **fields: Any) -> None:
    """One JSON log line on stderr (the supervisor relays it like a worker's)."""
    line = {"event": event, "logger": "voxpy.zygote", "level": "info", **fields}
    if "error" in fields:
        line["level"] = "error"
    sys.stderr.write(json.dumps(line) + "\n")
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
