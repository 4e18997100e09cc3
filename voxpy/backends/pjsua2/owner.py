"""The owner thread: the only thread that ever touches pjsua2.

It calls libCreate (so ``mainThreadOnly`` callbacks run here), polls ``libHandleEvents`` and
drains a command queue between polls. Other threads enqueue and wake its select() with a bare
CRLF keep-alive datagram sent to our own SIP UDP port, which pjsip ignores. A poll lasts
``poll_ms`` while calls or deferred work exist and up to ``idle_poll_ms`` otherwise
(:meth:`Owner._poll_ms` says why that is safe).

Teardown order matters because asserts are compiled in: hang up, poll until every leg has
ended (bounded), end the REFER subscriptions we serve (``signalling``), destroy players and
tone generators (Python media ports are parked, see ``portpool``; recordings are closed off
this thread), drop every Call and Account, collect cycles, and only then ``libDestroy``.
"""

from __future__ import annotations

import gc
import queue
import socket
import threading
import time

from voxpy.backends.pjsua2.account import Accounts
from voxpy.backends.pjsua2.dispatch import Calls
from voxpy.backends.pjsua2.endpoint import Stack
from voxpy.backends.pjsua2.guard import EdgeGuard
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.media import Media
from voxpy.backends.pjsua2.native import native
from voxpy.backends.pjsua2.options import PjsuaOptions
from voxpy.backends.pjsua2.signalling import Signalling
from voxpy.backends.refusal import refusal
from voxpy.core.commands import Command
from voxpy.core.ports import SignalSink
from voxpy.core.signals import Signal
from voxpy.errors import BackendError

WAKE = b"\r\n\r\n"
STOP_GRACE_S = 2.0
_SHUTDOWN_POLL_MS = 20


class Owner(threading.Thread):
    """Runs one pjsua2 Endpoint. ``ready`` is set once it listens or failed (``start_error``)."""

    def __init__(self, options: PjsuaOptions, sink: SignalSink, logger: Logger) -> None:
        # Daemon: a forgotten stop() must not hang interpreter exit (the process aborts then,
        # as pjsua2 does whenever libDestroy is skipped).
        super().__init__(name="pjsua2-owner", daemon=True)
        self.options = options
        self.ready = threading.Event()
        self.start_error: BackendError | None = None
        self.contact_uri = ""
        self.port = 0
        self.accepting = True
        self._sink = sink
        self._logger = logger
        self._queue: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._stop_requested = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._wake_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._wake_sock.setblocking(False)
        self._calls: Calls | None = None
        self.guard: EdgeGuard | None = None

    # -- any thread ------------------------------------------------------------------------

    def submit(self, command: Command) -> None:
        """Queue ``command`` for the owner thread; refuse it at once if the thread is gone."""
        with self._lock:
            if not self._closed:
                self._queue.put(command)
                self._wake()
                return
        self._emit(refusal(command, "backend is stopped"))

    def request_stop(self) -> None:
        """Ask the thread to hang up everything and exit; returns immediately."""
        self.accepting = False
        self._stop_requested.set()
        self._wake()

    def _wake(self) -> None:
        if self.port:
            try:
                self._wake_sock.sendto(WAKE, (self.options.wake_host, self.port))
            except OSError as exc:
                # Only latency suffers: the poll returns within idle_poll_ms anyway.
                self._logger.debug("wake_datagram_failed", error=str(exc))

    def _emit(self, signal: Signal) -> None:
        try:
            self._sink(signal)
        except Exception:  # a broken sink must not kill the SIP thread
            self._logger.exception("signal_sink_failed", signal=type(signal).__name__)

    # -- owner thread ----------------------------------------------------------------------

    def run(self) -> None:
        # Python's cyclic GC runs on whichever thread happens to allocate. A pjsua2 object in
        # a reference cycle freed on any other thread calls pjlib from an unregistered thread,
        # and the compiled-in assert aborts the process (seen under say+hangup load). So while
        # this endpoint lives, automatic collection is off and this thread collects instead.
        # The switch is process-wide (CPython has no per-thread GC), which is the point: every
        # thread's cycles are then freed here. What the rest of the process sees: the same
        # thresholds (_collect_if_due, one generation per poll, so at most idle_poll_ms late), none
        # during shutdown (bounded by STOP_GRACE_S), a full collection before libDestroy, and
        # the old setting back at exit. Code that calls gc.enable() meanwhile reopens the abort.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._run()
        finally:
            gc.collect()
            if gc_was_enabled:
                gc.enable()

    def _run(self) -> None:
        stack = Stack(self.options, self._logger)
        try:
            self._boot(stack)
        except BackendError as exc:
            self.start_error = exc
        except Exception as exc:  # reported to start() as a BackendError
            self._logger.exception("pjsua2_start_failed")
            self.start_error = BackendError(f"pjsua2 start failed: {exc}", op="start")
        if self.start_error is not None:
            self._release(stack)
            self._close_queue()
            self.ready.set()
            return
        if self.options.freeze_heap:
            # In a worker what exists now (imports, the scenario, the stack) lives as long as
            # the process: freezing it keeps every later full collection to what came after.
            # Measured on an idle worker: each full gc.collect() 43 -> ~1 ms CPU (two run at
            # shutdown; 100 workers stopping at once on 2 cores waited on each other's CPU).
            # The young generations are collected first, so boot's garbage is freed here; the
            # old one is not walked, so pages a forking parent shares stay clean.
            gc.collect(1)
            gc.freeze()
        self.ready.set()
        try:
            self._loop(stack)
        except Exception:  # fall through to an orderly shutdown
            self._logger.exception("pjsua2_poll_loop_failed")
        finally:
            try:
                self._shutdown(stack)
            finally:
                self._release(stack)
                self._close_queue()

    def _boot(self, stack: Stack) -> None:
        stack.boot()
        native().report(self._logger)  # which ctypes features this wheel allows
        if self.options.edge_guard:
            # Lives as long as this object: pjsip calls into its thunks until libDestroy.
            self.guard = EdgeGuard(
                user_agent=self.options.user_agent,
                logger=self._logger,
                overload=self.options.overload,
            )
            self.guard.install(tcp_port=stack.port if self.options.tcp else 0)
        self.port = stack.port
        host = self.options.advertised_host or stack.published_host
        self.contact_uri = f"sip:{self.options.user}@{host}:{self.port}"
        calls = Calls(self.options, host, self._emit, lambda: self.accepting, self._logger)
        self._calls = calls
        calls.accounts = Accounts(self.options, self.contact_uri, calls.on_incoming, self._logger)
        calls.media = Media(self.options, self._emit, calls.legs.get, self._wake, self._logger)
        calls.signalling = Signalling(calls.legs.get, self._emit, self._logger)
        if self.guard is not None and self.guard.enabled:
            calls.admit_dial = self.guard.admit_dial
            calls.leg_ended = self.guard.leg_ended
        self._logger.info(
            "pjsua2_listening",
            contact_uri=self.contact_uri,
            tcp=self.options.tcp,
            max_calls=self.options.max_calls,
        )

    def _loop(self, stack: Stack) -> None:
        self._drain()  # commands queued before the port was known sent no wake
        while not self._stop_requested.is_set():
            stack.ep.libHandleEvents(self._poll_ms())
            _collect_if_due()
            if self.guard is not None:
                self.guard.poll(time.monotonic())
            self._drain()
            if self._calls is not None:
                self._calls.poll()

    def _poll_ms(self) -> int:
        """The short poll while anything of ours may fall due without a wake, else the long one.

        Without a wake: pjsua2's PendingJobs (DTMF, media events, queued on the media thread
        with mainThreadOnly) run only when libHandleEvents returns, probes and doomed BYEs are
        checked between polls, buried media objects and a closed TCP gate wait for time. All
        of that needs a call, a player or the gate. Otherwise nothing is due that does not wake
        the poll: SIP traffic is read by the select() itself, pjsip clamps the wait to its next
        timer (pjsip_endpt_handle_events2), and submit(), request_stop() and a player's end
        send the wake datagram. Automatic GC (_collect_if_due) then runs at most idle_poll_ms
        late. Measured on an idle worker: 50 -> 1 owner wake-ups/s (bench/idle.py).
        """
        calls, guard = self._calls, self.guard
        if calls is None or calls.legs or calls.probes:
            return self.options.poll_ms
        if (calls.media is not None and not calls.media.quiet) or (
            guard is not None and guard.gate_closed
        ):
            return self.options.poll_ms
        return self.options.idle_poll_ms

    def _drain(self) -> None:
        calls = self._calls
        while True:
            try:
                command = self._queue.get_nowait()
            except queue.Empty:
                return
            if calls is None:
                self._emit(refusal(command, "backend is stopped"))
                continue
            try:
                calls.handle(command)
            except Exception as exc:  # report, keep the loop alive
                self._logger.exception("command_failed", command=type(command).__name__)
                self._emit(refusal(command, f"internal error: {exc}"))

    def _shutdown(self, stack: Stack) -> None:
        calls = self._calls
        if calls is None or stack.ep is None:
            return
        self.accepting = False
        self._drain()  # commands sent before stop() still run (a final Bye with headers)
        calls.hangup_all()
        stack.ep.hangupAllCalls()
        deadline = time.monotonic() + STOP_GRACE_S
        while calls.legs and time.monotonic() < deadline:
            stack.ep.libHandleEvents(_SHUTDOWN_POLL_MS)
        if calls.legs:
            self._logger.warning("legs_did_not_end", count=len(calls.legs))
        calls.abandon_all("Backend stopped")

    def _release(self, stack: Stack) -> None:
        calls, self._calls = self._calls, None
        try:
            if calls is not None:
                calls.release()
            del calls
            # Leg/Account objects in reference cycles must die now, not after libDestroy.
            gc.collect()
        finally:
            if self.guard is not None:
                self.guard.release()
            stack.destroy()
            self._logger.info("pjsua2_stopped")

    def _close_queue(self) -> None:
        with self._lock:
            self._closed = True
        while True:
            try:
                command = self._queue.get_nowait()
            except queue.Empty:
                break
            self._emit(refusal(command, "backend is stopped"))
        self._wake_sock.close()


def _collect_if_due() -> None:
    """Do the collection Python would have done by now (same counters and thresholds)."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if thresholds[generation] and counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return
