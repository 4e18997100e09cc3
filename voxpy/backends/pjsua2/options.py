"""Settings of one pjsua2 endpoint (one per process: the wheel allows a single Endpoint)."""

from __future__ import annotations

from dataclasses import dataclass

from voxpy.core.bridge_rate import (
    CLOCK_RATES,
    DEFAULT_RESAMPLE_QUALITY,
    WIDEBAND,
)
from voxpy.core.limits import MAX_CALLS
from voxpy.core.overload import OverloadThresholds
from voxpy.errors import ConfigError

MAX_CALLS_LIMIT = MAX_CALLS
"PJSUA_MAX_CALLS of the pjsua2-python wheel (owned by :mod:`voxpy.core.limits`)."

MIN_SE_FLOOR = 90
"RFC 4028 section 4: Min-SE is never below 90 s."

SESSION_TIMER_USES = ("off", "optional", "required", "always")
"In the order of pjsua's PJSUA_SIP_TIMER_INACTIVE .. PJSUA_SIP_TIMER_ALWAYS."

_USER_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/"
)


MAX_CLOCK_PRIORITY = 49
"Below the kernel's threaded interrupt handlers (SCHED_FIFO 50)."


@dataclass(frozen=True, slots=True, kw_only=True)
class PjsuaOptions:
    """How the pjsua2 backend listens and dials.

    ``port=0`` binds UDP on an ephemeral port and TCP on that same port. ``public_address`` is
    the address written into Contact, Via and SDP when the host is behind NAT. ``codecs`` is the
    preferred order (``"PCMU/8000"`` or ``"PCMU"``); every codec not listed is disabled.
    ``rtp_port_range=0`` lets pjsua use any port above ``rtp_port``. ``sip_log_level`` (1-6)
    forwards pjsip's own log lines to the logger; 0 keeps pjsip quiet. ``measure_rx_audio``
    counts the seconds of non-silent audio each leg receives, for ``ReportAudio`` (the test
    peer turns it on; it costs a Python callback per leg every 20 ms). ``clock_rate`` is the
    conference bridge's (and the null sound device's) clock, already resolved from
    ``media.clock_rate`` (:func:`voxpy.core.bridge_rate.resolve_clock_rate`);
    ``resample_quality`` is pjsua's medConfig.quality (1-2 linear, 3-4 small filter, 5-10
    large filter).
    """

    host: str = "127.0.0.1"
    port: int = 5060
    public_address: str | None = None
    rtp_port: int = 10000
    rtp_port_range: int = 1000
    codecs: tuple[str, ...] = ("PCMU/8000", "PCMA/8000", "G722/16000")
    max_calls: int = MAX_CALLS_LIMIT
    user: str = "voxpy"
    outbound_proxy: str | None = None
    user_agent: str = "voxpy"
    sip_log_level: int = 0
    tcp: bool = True
    poll_ms: int = 20
    "How long one libHandleEvents() may block while calls, players or deferred work exist."
    freeze_heap: bool = False
    """Freeze what exists once the stack listens (``gc.freeze``), for a process that lives and
    dies with its endpoint (``voxpy run`` ends by ``os._exit``): later full collections skip it.
    Off for a library user (tests, peers): frozen cycles would never be freed."""
    idle_poll_ms: int = 1000
    """How long it may block while nothing of ours is due (no call, player, probe or closed
    TCP gate). pjsip clamps the wait to its next timer, and every producer of work (SIP
    traffic, send(), a player's end, stop()) wakes it; 20 ms polls cost 0.5 % of a core idle."""
    measure_rx_audio: bool = False
    edge_guard: bool = True
    "Refuse hostile requests before pjsua sees them (``guard.py``); off only to study pjsua."
    telephone_event: bool = True
    "Offer RFC 2833 telephone-event in SDP; off, far ends must send DTMF by INFO or in-band."
    session_timer: str = "optional"
    "RFC 4028 use: off, optional, required or always (pjsua's timerUse)."
    session_expires: int = 1800
    min_se: int = MIN_SE_FLOOR
    overload: OverloadThresholds | None = None
    "Refuse new INVITEs (503 + Retry-After) while overloaded (``core.overload``); needs edge_guard."
    clock_rate: int = WIDEBAND
    "The bridge's clock (Hz): prompts are prepared at it, ports at other rates are resampled."
    resample_quality: int = DEFAULT_RESAMPLE_QUALITY
    clock_priority: int = 0
    """SCHED_RR priority (1-49) for pjmedia's clock thread, which sends every call's RTP
    (``clockthread.py``); 0 leaves it at normal scheduling. Refused without CAP_SYS_NICE or an
    RLIMIT_RTPRIO at least this. At most 49: the kernel's threaded interrupt handlers run at
    50, and a media clock must not outrank the network card's."""

    def __post_init__(self) -> None:
        # Accept any sequence from config loaders but keep the frozen value hashable.
        object.__setattr__(self, "codecs", tuple(self.codecs))
        if not self.host:
            raise ConfigError("must not be empty", field="host")
        _check_range("port", self.port, 0, 65535)
        _check_range("rtp_port", self.rtp_port, 0, 65535)
        _check_range("rtp_port_range", self.rtp_port_range, 0, 65535)
        _check_range("max_calls", self.max_calls, 1, MAX_CALLS_LIMIT)
        _check_range("sip_log_level", self.sip_log_level, 0, 6)
        _check_range("poll_ms", self.poll_ms, 1, 1000)
        if self.clock_rate not in CLOCK_RATES or isinstance(self.clock_rate, bool):
            raise ConfigError(
                f"must be one of {', '.join(map(str, CLOCK_RATES))}, got {self.clock_rate!r}",
                field="clock_rate",
            )
        _check_range("resample_quality", self.resample_quality, 1, 10)
        _check_range("clock_priority", self.clock_priority, 0, MAX_CLOCK_PRIORITY)
        _check_range("idle_poll_ms", self.idle_poll_ms, self.poll_ms, 10000)
        if self.session_timer not in SESSION_TIMER_USES:
            raise ConfigError(
                f"must be one of {', '.join(SESSION_TIMER_USES)}, got {self.session_timer!r}",
                field="session_timer",
            )
        _check_range("min_se", self.min_se, MIN_SE_FLOOR, 86400)
        _check_range("session_expires", self.session_expires, self.min_se, 86400)
        if not self.user or not set(self.user) <= _USER_CHARS:
            raise ConfigError(f"{self.user!r} is not a valid SIP user part", field="user")
        if not self.codecs or not all(isinstance(c, str) and c for c in self.codecs):
            raise ConfigError("needs at least one codec name like 'PCMU/8000'", field="codecs")
        if self.outbound_proxy is not None and not self.outbound_proxy.startswith(
            ("sip:", "sips:")
        ):
            raise ConfigError(
                f"{self.outbound_proxy!r} is not a SIP URI (sip:host[:port][;lr])",
                field="outbound_proxy",
            )

    @property
    def advertised_host(self) -> str | None:
        """The host other agents should use for us, if known before binding."""
        if self.public_address:
            return self.public_address
        return None if self.host in ("0.0.0.0", "") else self.host

    @property
    def bind_host(self) -> str:
        """The address pjsua binds to; empty means every interface."""
        return "" if self.host in ("0.0.0.0", "") else self.host

    @property
    def wake_host(self) -> str:
        """Where a datagram reaches our own SIP UDP socket from this machine."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"must be an integer in {low}..{high}, got {value!r}", field=name)


DEFAULTS = PjsuaOptions()
"""The backend's defaults, which :mod:`voxpy.config` shares (host aside: a library endpoint
binds loopback, a configured server every interface)."""
