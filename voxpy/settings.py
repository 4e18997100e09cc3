"""The settings models of voxpy: one frozen pydantic section per concern, and their defaults.

Only the shapes and the rules of single values live here; where values come from (TOML,
env, command line) and how errors name their source is :mod:`voxpy.config`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

# Pure values, no pjsua2: the wheel's call cap and the SIP defaults have their owner there.
from voxpy.backends.pjsua2.options import DEFAULTS as PJ
from voxpy.backends.pjsua2.options import MAX_CALLS_LIMIT, MIN_SE_FLOOR, PjsuaOptions
from voxpy.core.bridge_rate import (
    DEFAULT_RESAMPLE_QUALITY,
    ClockRateSetting,
    resolve_clock_rate,
)
from voxpy.core.overload import OverloadThresholds
from voxpy.core.quality import Thresholds
from voxpy.core.timeouts import Timeouts
from voxpy.hosts import check_host
from voxpy.settings_base import OptionalStr, PositiveSeconds, Section
from voxpy.settings_journal import JournalSettings

SECRET_KEYS = ("server.token",)
"Settings that :meth:`Settings.summary` masks."

_CODEC = re.compile(r"^[A-Za-z0-9._-]+/\d+(/\d+)?$")


class SipSettings(Section):
    """SIP transport and signalling."""

    host: str = "0.0.0.0"
    port: int = Field(default=PJ.port, ge=0, le=65535)
    public_address: OptionalStr = None
    tcp: bool = PJ.tcp
    outbound_proxy: OptionalStr = None
    user_agent: str = Field(default=PJ.user_agent, min_length=1)
    codecs: tuple[str, ...] = PJ.codecs
    max_calls: int = Field(default=MAX_CALLS_LIMIT, ge=1)
    session_timer: Literal["off", "optional", "required", "always"] = "optional"
    "RFC 4028: optional = offered, and used whenever the far end asks (see voxpy.toml)."
    session_expires: int = Field(default=PJ.session_expires, ge=MIN_SE_FLOOR, le=86400)
    min_se: int = Field(default=MIN_SE_FLOOR, ge=MIN_SE_FLOOR, le=86400)

    @field_validator("min_se")
    @classmethod
    def _min_se(cls, value: int, info: ValidationInfo) -> int:
        expires = info.data.get("session_expires")
        if expires is not None and value > expires:
            raise PydanticCustomError(
                "min_se", "should be at most session_expires ({expires})", {"expires": expires}
            )
        return value

    @field_validator("host", "public_address")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        return None if value is None else check_host(value)

    @field_validator("outbound_proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith("sip:"):
            raise PydanticCustomError("sip_uri", 'should be a SIP URI starting with "sip:"')
        return value

    @field_validator("codecs", mode="before")
    @classmethod
    def _split_codecs(cls, value: Any) -> Any:
        if isinstance(value, str):  # from an env var: "PCMU/8000,PCMA/8000"
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("codecs")
    @classmethod
    def _codecs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise PydanticCustomError("codecs", "at least one codec is needed")
        for codec in value:
            if codec.split("/")[0].lower() == "opus":
                raise PydanticCustomError(
                    "codec", "{codec}: this PJSIP build has no opus codec", {"codec": codec}
                )
            if not _CODEC.match(codec):
                raise PydanticCustomError(
                    "codec", "{codec}: should look like NAME/RATE, e.g. PCMU/8000", {"codec": codec}
                )
        return value

    @field_validator("max_calls")
    @classmethod
    def _max_calls(cls, value: int) -> int:
        if value > MAX_CALLS_LIMIT:
            raise PydanticCustomError(
                "max_calls",
                "should be at most {limit}: the pjsua2 wheel caps a process at {limit} calls",
                {"limit": MAX_CALLS_LIMIT},
            )
        return value


class RtpSettings(Section):
    """RTP media ports: ``port`` .. ``port + port_range``."""

    port: int = Field(default=PJ.rtp_port, ge=1024, le=65535)
    port_range: int = Field(default=PJ.rtp_port_range, ge=0, le=50000)


class TimeoutSettings(Section):
    """Timeouts, in seconds."""

    no_answer: PositiveSeconds = 60.0
    dial: PositiveSeconds = 60.0
    session_grace: float = Field(default=60.0, ge=0, allow_inf_nan=False)
    shutdown: PositiveSeconds = 4.0
    max_call_duration: float = Field(default=4 * 3600.0, ge=0, allow_inf_nan=False)

    def timeouts(self) -> Timeouts:
        """The runtime's view (``shutdown`` is how long terminating sessions wait for calls)."""
        return Timeouts(
            no_answer=self.no_answer,
            dial=self.dial,
            session_grace=self.session_grace,
            terminate_wait=self.shutdown,
            max_call_duration=self.max_call_duration,
        )


class LogSettings(Section):
    """Logging: level and output format ("auto" = JSON unless stderr is a TTY)."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"

    @field_validator("level", "format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class ScenarioSettings(Section):
    """Scenario defaults."""

    custom_data: OptionalStr = None
    reload: bool = False
    "Load the scenario file again when it changes, for new sessions (`voxpy run --reload`)."


class MediaSettings(Section):
    """Speech, playback media, recordings, and the conference bridge's clock."""

    tts_provider: Literal["espeak", "gtts"] = "espeak"
    cache_dir: str = Field(default=".voxpy-cache", min_length=1)
    recordings_dir: str = Field(default="recordings", min_length=1)
    fetch_timeout: PositiveSeconds = 12.0
    clock_rate: ClockRateSetting = "auto"
    """The bridge's clock (Hz), which prompts are prepared at: auto = 8000 when every codec in
    sip.codecs is narrowband (G.711, GSM...), 16000 when a wideband one (G722...) is enabled."""
    resample_quality: int = Field(default=DEFAULT_RESAMPLE_QUALITY, ge=1, le=10)
    "pjsua's medConfig.quality: 1-2 linear resampling, 3-4 small filter, 5-10 large filter."
    clock_priority: int = Field(default=10, ge=0, le=49)
    """Real-time (SCHED_RR) priority of the thread that sends every call's RTP, so media leaves
    on time on a busy machine; 0 = normal scheduling; at most 49 (below the kernel's interrupt
    threads). Needs an RLIMIT_RTPRIO at least this (docker --ulimit rtprio, LimitRTPRIO) or
    CAP_SYS_NICE: without either, `voxpy serve` logs clock_priority_refused once and its
    workers run at normal priority."""

    @field_validator("clock_rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        if isinstance(value, str):  # from an env var: "8000", "AUTO"
            text = value.strip().lower()
            return int(text) if text.isdigit() else text
        return value


class QualitySettings(Section):
    """Call-quality warning thresholds (Twilio's defaults) and VoxEngine's RTP timeout."""

    max_rtt: PositiveSeconds = 400.0
    min_mos: float = Field(default=3.0, ge=1.0, le=5.0)
    max_jitter: PositiveSeconds = 30.0
    max_packet_loss: float = Field(default=1.0, ge=0.0, le=100.0)
    max_average_packet_loss: float = Field(default=3.0, ge=0.0, le=100.0)
    rtp_timeout: PositiveSeconds = 7.0
    rtp_timeout_hangup: float = Field(default=60.0, ge=0, allow_inf_nan=False)

    def thresholds(self) -> Thresholds:
        return Thresholds(
            max_rtt=self.max_rtt,
            min_mos=self.min_mos,
            max_jitter=self.max_jitter,
            max_packet_loss=self.max_packet_loss,
            max_average_packet_loss=self.max_average_packet_loss,
            rtp_timeout=self.rtp_timeout,
            rtp_timeout_hangup=self.rtp_timeout_hangup,
        )


class ServerSettings(Section):
    """``voxpy serve``: the worker pool, its Kamailio front and the HTTP management API."""

    workers: int | Literal["auto"] = 2
    """A number, or auto: sized from cores and memory (voxpy.core.sizing); checked at start
    against what the ports and file descriptors allow (no fixed cap)."""
    spawn: Literal["fork", "exec"] = "fork"
    """fork: workers are forked by a warm zygote (fast, shared memory); exec: one new
    interpreter per worker (the old path)."""
    worker_host: str = "127.0.0.1"
    worker_port_base: int = Field(default=5071, ge=0, le=65535)
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535)
    token: OptionalStr = None
    drain_timeout: float = Field(default=60.0, ge=0, allow_inf_nan=False)
    request_timeout: PositiveSeconds = 30.0
    restart_backoff: PositiveSeconds = 0.5
    restart_backoff_max: PositiveSeconds = 30.0
    kamailio_bin: str = Field(default="kamailio", min_length=1)
    kamailio_children: int = Field(default=4, ge=1, le=64)
    kamailio_shm_mb: int = Field(default=64, ge=16, le=4096)
    probe_interval: int = Field(default=2, ge=1, le=300)
    retry_after: int = Field(default=5, ge=1, le=3600)
    pike_density: int = Field(default=64, ge=1, le=100000)
    pike_loopback: bool = False
    invite_rate: int = Field(default=50, ge=1, le=100000)
    run_dir: OptionalStr = None
    session_results_ttl: float = Field(default=600.0, ge=0, le=7 * 86400, allow_inf_nan=False)
    "Seconds a finished session's results stay queryable over the API; 0 keeps none."
    session_results_max: int = Field(default=1000, ge=0, le=100_000)
    "Finished sessions' results kept per worker at most (the oldest go first); 0 keeps none."
    role: Literal["all", "front", "workers"] = "all"
    "all: Kamailio, API and workers here; front: Kamailio and API; workers: join ``front``."
    front: OptionalStr = None
    "A worker host's front: the management API's ``host:port`` (role = workers)."
    host_id: OptionalStr = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    "A worker host's name at the front, and its session ids' prefix; default: its address."

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, value: Any) -> Any:
        """One clear message rather than one per member of the union."""
        if value == "auto":
            return value
        try:
            count = int(value) if not isinstance(value, bool | float) else 0
        except (TypeError, ValueError):
            count = 0
        if count < 1:
            raise PydanticCustomError("workers", "should be greater than or equal to 1, or auto")
        return count

    @field_validator("worker_host", "http_host")
    @classmethod
    def _host(cls, value: str) -> str:
        return check_host(value)

    @field_validator("restart_backoff_max")
    @classmethod
    def _backoff(cls, value: float, info: ValidationInfo) -> float:
        first = info.data.get("restart_backoff")
        if first is not None and value < first:
            raise PydanticCustomError(
                "backoff", "should be at least restart_backoff ({first})", {"first": first}
            )
        return value


Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class OverloadSettings(Section):
    """Refusing new calls (503 + Retry-After) while the worker is overloaded (issue 15).

    ``cpu_*``: the machine's busy share (/proc/stat); ``media_*``: the share of wall time the
    media clock thread waited for a CPU (its schedstat). Overloaded once a share stays at or
    above ``*_enter`` for ``window`` seconds of sampled time; back once it stays below
    ``*_leave`` as long. Samples are taken when an INVITE arrives and while calls are up, at
    most every ``min_interval`` seconds. The 503 carries ``server.retry_after``.
    ``enabled = false`` admits every call.
    """

    enabled: bool = True
    cpu_enter: Fraction = 0.99
    cpu_leave: Fraction = 0.95
    media_enter: Fraction = 0.05
    media_leave: Fraction = 0.03
    window: float = Field(default=2.0, ge=0, le=300, allow_inf_nan=False)
    min_interval: float = Field(default=0.25, ge=0, le=60, allow_inf_nan=False)

    @field_validator("cpu_leave", "media_leave")
    @classmethod
    def _leave(cls, value: float, info: ValidationInfo) -> float:
        enter = info.data.get(str(info.field_name).replace("leave", "enter"))
        if enter is not None and value > enter:
            raise PydanticCustomError(
                "overload_leave",
                "should be at most the enter threshold ({enter})",
                {"enter": enter},
            )
        return value

    def thresholds(self, retry_after: int) -> OverloadThresholds:
        return OverloadThresholds(
            enabled=self.enabled,
            cpu_enter=self.cpu_enter,
            cpu_leave=self.cpu_leave,
            media_enter=self.media_enter,
            media_leave=self.media_leave,
            window_s=self.window,
            min_interval_s=self.min_interval,
            retry_after=retry_after,
        )


class Settings(Section):
    """All voxpy settings; build it with :func:`load_settings`."""

    sip: SipSettings = Field(default_factory=SipSettings)
    rtp: RtpSettings = Field(default_factory=RtpSettings)
    timeouts: TimeoutSettings = Field(default_factory=TimeoutSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    scenario: ScenarioSettings = Field(default_factory=ScenarioSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    overload: OverloadSettings = Field(default_factory=OverloadSettings)
    journal: JournalSettings = Field(default_factory=JournalSettings)

    def bridge_rate(self) -> int:
        """The conference bridge's clock rate: ``media.clock_rate`` with ``auto`` resolved
        from ``sip.codecs``. The endpoint runs at it and the media library prepares prompts
        at it, so both read it here."""
        return resolve_clock_rate(self.media.clock_rate, self.sip.codecs)

    def pjsua_options(self, **overrides: Any) -> PjsuaOptions:
        """The pjsua2 backend's options from these settings (``overrides`` win): one place
        for ``voxpy run`` and the test harness."""
        sip, rtp = self.sip, self.rtp
        values: dict[str, Any] = {
            "host": sip.host,
            "port": sip.port,
            "public_address": sip.public_address,
            "tcp": sip.tcp,
            "rtp_port": rtp.port,
            "rtp_port_range": rtp.port_range,
            "codecs": tuple(sip.codecs),
            "max_calls": sip.max_calls,
            "outbound_proxy": sip.outbound_proxy,
            "user_agent": sip.user_agent,
            "sip_log_level": 5 if self.log.level == "debug" else 0,
            "session_timer": sip.session_timer,
            "session_expires": sip.session_expires,
            "min_se": sip.min_se,
            "overload": self.overload_thresholds(),
            "clock_rate": self.bridge_rate(),
            "resample_quality": self.media.resample_quality,
            "clock_priority": self.media.clock_priority,
        }
        return PjsuaOptions(**{**values, **overrides})

    def overload_thresholds(self) -> OverloadThresholds | None:
        """The overload gate's thresholds, None when overload admission is off."""
        if not self.overload.enabled:
            return None
        return self.overload.thresholds(self.server.retry_after)

    def summary(self) -> dict[str, Any]:
        """Flat ``{"sip.port": 5060, ...}`` view, JSON-friendly, for a start-up log line.

        Secrets (``server.token``) show as ``"***"`` when set: this goes to the logs.
        """
        flat = {
            f"{section}.{key}": value
            for section, fields in self.model_dump(mode="json").items()
            for key, value in fields.items()
        }
        for key in SECRET_KEYS:
            if flat.get(key):
                flat[key] = "***"
        return flat
