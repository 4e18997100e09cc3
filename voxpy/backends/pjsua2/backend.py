"""PjsuaBackend: the runtime's Backend port on a pjsua2 Endpoint run by one owner thread.

pjsua2 itself is imported only by ``start()``: importing this package stays cheap and keeps
the native library out of processes (and test runs) that never start a real endpoint.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from voxpy.backends.pjsua2.logsupport import Logger, as_logger
from voxpy.backends.pjsua2.options import PjsuaOptions
from voxpy.backends.refusal import refusal
from voxpy.core.commands import Command
from voxpy.core.overload import OverloadGate
from voxpy.core.ports import SignalSink
from voxpy.errors import BackendError, InvalidStateError

if TYPE_CHECKING:
    from voxpy.backends.pjsua2.owner import Owner

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0

# pjsua2 allows one Endpoint per process; a second one would abort it.
_process_lock = threading.Lock()


class PjsuaBackend:
    """A SIP user agent on pjsua2 (one per process, at most 4 concurrent legs).

    Signals are delivered by calling the sink from the owner thread; the sink must hand them
    over to its own loop (``loop.call_soon_threadsafe``) and return quickly.
    """

    def __init__(self, options: PjsuaOptions | None = None, logger: Any = None) -> None:
        self.options = options or PjsuaOptions()
        self.max_calls = self.options.max_calls
        self._logger: Logger = as_logger(logger)
        self._owner: Owner | None = None
        self._sink: SignalSink | None = None
        self._holds_process_lock = False
        self._stopped = False

    @property
    def contact_uri(self) -> str:
        """``sip:voxpy@127.0.0.1:5060``: where other agents reach us (known after start)."""
        if self._owner is None or not self._owner.contact_uri:
            raise InvalidStateError("contact_uri is known only after start()")
        return self._owner.contact_uri

    @property
    def overload(self) -> OverloadGate | None:
        """The edge guard's overload gate (its counters for ``/status``); None when off."""
        guard = self._owner.guard if self._owner is not None else None
        return guard.overload.gate if guard is not None and guard.overload is not None else None

    @property
    def port(self) -> int:
        """The SIP port actually bound (useful with ``port=0``); 0 before start."""
        return self._owner.port if self._owner is not None else 0

    async def start(self, sink: SignalSink) -> None:
        """Start the owner thread and wait until it listens; raises BackendError on failure."""
        if self._owner is not None or self._stopped:
            raise InvalidStateError("a PjsuaBackend can be started only once")
        if not _process_lock.acquire(blocking=False):
            raise BackendError(
                "another PjsuaBackend is running in this process "
                "(pjsua2 allows one endpoint per process)",
                op="start",
            )
        self._holds_process_lock = True
        from voxpy.backends.pjsua2.owner import Owner

        owner = Owner(self.options, sink, self._logger)
        self._sink = sink
        owner.start()
        ready = await asyncio.to_thread(owner.ready.wait, START_TIMEOUT_S)
        if not ready:
            owner.request_stop()
            self._owner = owner
            raise BackendError(f"pjsua2 did not start within {START_TIMEOUT_S:.0f} s", op="start")
        if owner.start_error is not None:
            await asyncio.to_thread(owner.join, STOP_TIMEOUT_S)
            self._release_process_lock()
            self._stopped = True
            raise owner.start_error
        self._owner = owner

    def send(self, command: Command) -> None:
        """Queue ``command`` for the owner thread and wake it; never blocks."""
        owner = self._owner
        if owner is not None:
            owner.submit(command)
            return
        if self._sink is None:
            raise InvalidStateError("send() before start()")
        self._sink(refusal(command, "backend is stopped"))

    def stop_accepting(self) -> None:
        """New INVITEs get 503 from now on; live legs are untouched."""
        if self._owner is not None:
            self._owner.accepting = False

    async def stop(self) -> None:
        """Hang up every leg (bounded wait for their Ended), release pjsua2, join the thread.

        Safe to call twice, before start() and after a failed start().
        """
        owner, self._owner = self._owner, None
        self._stopped = True
        if owner is None:
            return
        owner.request_stop()
        await asyncio.to_thread(owner.join, STOP_TIMEOUT_S)
        if owner.is_alive():
            # Keep the process lock: the endpoint is still alive and a new one would abort.
            self._logger.error("owner_thread_did_not_stop")
            return
        self._release_process_lock()

    def _release_process_lock(self) -> None:
        if self._holds_process_lock:
            self._holds_process_lock = False
            _process_lock.release()
