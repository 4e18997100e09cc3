"""The pjsua2 Endpoint: library start-up, transports, codec order, pjsip's own log lines.

Everything here runs on the owner thread, which must also be the thread that calls
``libCreate`` (with ``mainThreadOnly`` the DTMF/log callbacks are only run by that thread).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator
from typing import Any

import pjsua2 as pj

from voxpy.backends.pjsua2.errors import is_address_in_use, listen_failure, reason_of
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.native import native
from voxpy.backends.pjsua2.options import PjsuaOptions
from voxpy.backends.pjsua2.pjtypes import LogEntry
from voxpy.errors import BackendError

_EPHEMERAL_ATTEMPTS = 5
G722_PCM_SHIFT = 1
"""pjmedia's G.722 scales PCM by 2**shift around the codec (default 2: the 14-bit input of
the G.722 recommendation). Every other G.722 we know (spandsp, so baresip and Asterisk;
ffmpeg; linphone's) feeds the QMF 16-bit PCM and halves it there, which is shift 1: with 2 a
prompt reached them 6 dB quieter than over G.711, and they sounded 6 dB louder to us."""
_HAS_TELEPHONE_EVENT_FLAG = 0
"PJMEDIA_ENDPT_HAS_TELEPHONE_EVENT_FLAG in enum pjmedia_endpt_flag."


def disable_telephone_event() -> None:
    """Leave RFC 2833 telephone-event out of our SDP (the far end must use INFO or in-band).

    pjsua2 has no setting for it; the wheel links pjmedia statically and exports its symbols,
    so the flag is set on pjsua's media endpoint through ctypes. Call after libInit.
    """
    lib = ctypes.CDLL(pj._pjsua2.__file__)
    lib.pjsua_get_pjmedia_endpt.restype = ctypes.c_void_p
    lib.pjmedia_endpt_set_flag.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.pjmedia_endpt_set_flag.restype = ctypes.c_int
    endpt = lib.pjsua_get_pjmedia_endpt()
    value = ctypes.c_int(0)
    status = lib.pjmedia_endpt_set_flag(endpt, _HAS_TELEPHONE_EVENT_FLAG, ctypes.byref(value))
    if status != 0:
        raise BackendError(f"cannot disable telephone-event (status {status})", op="start")


class SipLogWriter(pj.LogWriter):  # type: ignore[misc]
    """Forwards pjsip log lines to the structured logger instead of stdout."""

    def __init__(self, logger: Logger) -> None:
        super().__init__()
        self._logger = logger

    def write(self, entry: LogEntry) -> None:  # name fixed by pjsua2
        try:
            line = str(entry.msg).rstrip("\r\n")
            level = int(entry.level)
            if level <= 1:
                self._logger.warning("sip", line=line, level=level)
            else:
                self._logger.debug("sip", line=line, level=level)
        except Exception:  # a director exception would only be printed by SWIG
            self._logger.exception("sip_log_writer_failed")


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Point fd 1 at /dev/null: libCreate prints its banner before any log config applies.

    stdout may carry a JSON protocol or JSON logs, so the banner must never reach it. pjlib
    writes with stdio, which is block-buffered on a pipe: flush it before restoring fd 1.
    """
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class Stack:
    """Owns the ``pj.Endpoint`` and its transports. Use only from the owner thread."""

    def __init__(self, options: PjsuaOptions, logger: Logger) -> None:
        self.options = options
        self.logger = logger
        self.ep: Any = None
        self.port = 0
        self.published_host = ""
        self._created = False

    def boot(self) -> None:
        """libCreate, libInit, null audio, codecs, transports, libStart; raises BackendError."""
        self.ep = pj.Endpoint()
        try:
            with quiet_stdout():
                self.ep.libCreate()
            self._created = True
            self.ep.libInit(self._config())
            # "auto" resolved: the one line that says which clock this worker's calls run on.
            self.logger.info(
                "bridge_clock",
                clock_rate=self.options.clock_rate,
                resample_quality=self.options.resample_quality,
            )
            self.ep.audDevManager().setNullDev()
            self._set_codecs()
            self._interop()
            if not self.options.telephone_event:
                disable_telephone_event()
            self._listen()
            self.ep.libStart()
        except pj.Error as exc:
            raise BackendError(f"pjsua2 start failed: {reason_of(exc)}", op="start") from None

    def _config(self) -> Any:
        o = self.options
        cfg = pj.EpConfig()
        ua = cfg.uaConfig
        ua.threadCnt = 0
        ua.mainThreadOnly = True
        ua.maxCalls = o.max_calls
        ua.userAgent = o.user_agent
        log = cfg.logConfig
        log.level = o.sip_log_level
        log.consoleLevel = o.sip_log_level
        # The endpoint deletes its writer in libDestroy: hand ownership to C++ so Python
        # never frees it a second time.
        log.writer = SipLogWriter(self.logger).__disown__()
        med = cfg.medConfig
        med.noVad = True
        # The bridge's clock: G.711 ports on a 16 kHz bridge are resampled both ways every
        # 20 ms (issue 15: ~30 % of all CPU at 400 calls with quality 8's large filter).
        med.clockRate = o.clock_rate
        med.sndClockRate = o.clock_rate  # the null device ticks the bridge: no resampler there
        med.quality = o.resample_quality
        return cfg

    def _set_codecs(self) -> None:
        wanted = [c.lower() for c in self.options.codecs]
        infos = self.ep.codecEnum2()
        ids = [str(info.codecId) for info in infos]
        del infos
        used: set[int] = set()
        for codec_id in ids:
            lowered = codec_id.lower()
            rank = next(
                (i for i, w in enumerate(wanted) if lowered == w or lowered.startswith(w + "/")),
                None,
            )
            if rank is not None:
                used.add(rank)
            self.ep.codecSetPriority(codec_id, 0 if rank is None else 255 - rank)
        missing = [self.options.codecs[i] for i in range(len(wanted)) if i not in used]
        if not used:
            raise BackendError(
                f"none of the configured codecs {list(self.options.codecs)} is available; "
                f"this pjsua2 build has {ids}",
                op="start",
            )
        if missing:
            self.logger.warning("codecs_not_available", missing=missing, available=ids)

    def _interop(self) -> None:
        """pjsip settings pjsua2 does not expose (see :mod:`.native`); each one that this
        build cannot take is one warning line, and the stack runs with pjsip's default."""
        lib = native()
        for what, status in (
            ("port_in_from_to", lib.allow_port_in_fromto()),
            ("g722_pcm_shift", lib.set_g722_pcm_shift(G722_PCM_SHIFT)),
        ):
            if status != 0:
                self.logger.warning("pjsip_setting_not_applied", setting=what, status=status)

    def _listen(self) -> None:
        o = self.options
        attempts = _EPHEMERAL_ATTEMPTS if o.port == 0 else 1
        for attempt in range(attempts):
            udp = self._transport(pj.PJSIP_TRANSPORT_UDP, "udp", o.port)
            info = self.ep.transportGetInfo(udp)
            host, _, port = str(info.localName).rpartition(":")
            del info
            self.port, self.published_host = int(port), host
            if not o.tcp:
                return
            try:
                self._transport(pj.PJSIP_TRANSPORT_TCP, "tcp", self.port)
                return
            except BackendError as exc:
                # An ephemeral UDP port may be taken on TCP: pick another pair.
                if o.port != 0 or attempt == attempts - 1 or not is_address_in_use(exc):
                    raise
                self.ep.transportClose(udp)

    def _transport(self, kind: int, name: str, port: int) -> int:
        o = self.options
        tc = pj.TransportConfig()
        tc.port = port
        tc.boundAddress = o.bind_host
        if o.public_address:
            tc.publicAddress = o.public_address
        try:
            return int(self.ep.transportCreate(kind, tc))
        except pj.Error as exc:
            raise listen_failure(exc, name, o.host, port) from None

    def destroy(self) -> None:
        """libDestroy; every Call/Account/player object must already be gone."""
        ep, self.ep = self.ep, None
        if ep is None or not self._created:
            return
        self._created = False
        try:
            # BYEs went out during stop(); skipping network shutdown saves about a second.
            ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        except pj.Error as exc:
            self.logger.error("lib_destroy_failed", error=reason_of(exc))
