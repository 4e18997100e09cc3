"""voxpy configuration: typed settings, loaded from defaults, a TOML file, env and CLI.

Precedence, lowest to highest: built-in defaults < TOML file < ``VOXPY_<SECTION>__<FIELD>``
environment variables < ``overrides`` (dotted keys, from CLI flags). Everything is merged
into one dict and validated once, so every error can name its dotted field and its source.
Unknown keys are errors: a typo in a config file must not silently fall back to a default.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

# Pure values, no pjsua2: the wheel's call cap and the SIP defaults have their owner there.
from voxpy.backends.pjsua2.options import DEFAULTS as PJ
from voxpy.backends.pjsua2.options import MAX_CALLS_LIMIT, MIN_SE_FLOOR
from voxpy.core.quality import Thresholds
from voxpy.core.timeouts import Timeouts
from voxpy.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("config") / "voxpy.toml"
ENV_PREFIX = "VOXPY_"
SECRET_KEYS = ("server.token",)
"Settings that :meth:`Settings.summary` masks."

_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_CODEC = re.compile(r"^[A-Za-z0-9._-]+/\d+(/\d+)?$")

PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _empty_to_none(value: Any) -> Any:
    """TOML has no null and env vars are strings: "" means "not set"."""
    return None if isinstance(value, str) and not value.strip() else value


OptionalStr = Annotated[str | None, BeforeValidator(_empty_to_none)]


def _is_hostname(text: str) -> bool:
    labels = text.removesuffix(".").split(".")
    if len(text) > 253 or all(label.isdigit() for label in labels):  # 999.1.1.1 is no name
        return False
    return all(_LABEL.match(label) for label in labels)


def _check_host(value: str) -> str:
    """Accept an IPv4 address or a hostname; reject IPv6 (unsupported by our PJSIP build)."""
    text = value.strip()
    try:
        addr = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        addr = None
    if isinstance(addr, ipaddress.IPv6Address) or ":" in text:
        raise PydanticCustomError(
            "ipv6_unsupported",
            "IPv6 is not supported by this PJSIP build; use an IPv4 address or a hostname",
        )
    if addr is None and not _is_hostname(text):
        raise PydanticCustomError("host", "should be an IPv4 address or a hostname")
    return text


class SipSettings(_Section):
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
        return None if value is None else _check_host(value)

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


class RtpSettings(_Section):
    """RTP media ports: ``port`` .. ``port + port_range``."""

    port: int = Field(default=PJ.rtp_port, ge=1024, le=65535)
    port_range: int = Field(default=PJ.rtp_port_range, ge=0, le=50000)


class TimeoutSettings(_Section):
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


class LogSettings(_Section):
    """Logging: level and output format ("auto" = JSON unless stderr is a TTY)."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"

    @field_validator("level", "format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class ScenarioSettings(_Section):
    """Scenario defaults."""

    custom_data: OptionalStr = None


class MediaSettings(_Section):
    """Speech, playback media and recordings."""

    tts_provider: Literal["espeak", "gtts"] = "espeak"
    cache_dir: str = Field(default=".voxpy-cache", min_length=1)
    recordings_dir: str = Field(default="recordings", min_length=1)
    fetch_timeout: PositiveSeconds = 12.0


class QualitySettings(_Section):
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


class ServerSettings(_Section):
    """``voxpy serve``: the worker pool, its Kamailio front and the HTTP management API."""

    workers: int = Field(default=2, ge=1, le=64)
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

    @field_validator("worker_host", "http_host")
    @classmethod
    def _host(cls, value: str) -> str:
        return _check_host(value)

    @field_validator("restart_backoff_max")
    @classmethod
    def _backoff(cls, value: float, info: ValidationInfo) -> float:
        first = info.data.get("restart_backoff")
        if first is not None and value < first:
            raise PydanticCustomError(
                "backoff", "should be at least restart_backoff ({first})", {"first": first}
            )
        return value


class Settings(_Section):
    """All voxpy settings; build it with :func:`load_settings`."""

    sip: SipSettings = Field(default_factory=SipSettings)
    rtp: RtpSettings = Field(default_factory=RtpSettings)
    timeouts: TimeoutSettings = Field(default_factory=TimeoutSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    scenario: ScenarioSettings = Field(default_factory=ScenarioSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)

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


def _fields(section: str) -> list[str]:
    annotation = Settings.model_fields[section].annotation
    assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return list(annotation.model_fields)


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
        if where:
            text = f"at line {where[1]}: {text[: where.start()]} (column {where[2]})"
        raise ConfigError(f"{label}: invalid TOML {text}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{label}: cannot read config file: {reason}") from exc


def _file_layer(config_file: str | Path | None) -> dict[str, Any]:
    if config_file is None:
        path, label = DEFAULT_CONFIG_FILE, str(DEFAULT_CONFIG_FILE)
        if not path.is_file():
            return {}
    else:
        path, label = Path(config_file), f"--config {config_file}"
        if not path.is_file():
            problem = "not a regular file" if path.exists() else "config file not found"
            raise ConfigError(f"{config_file}: {problem}")
    layer: dict[str, Any] = {}
    for section, body in _read_toml(path, str(path)).items():
        if isinstance(body, dict) and body:
            layer.update({f"{section}.{key}": (val, label) for key, val in body.items()})
        else:  # not a table, or an empty one: let validation judge the section itself
            layer[section] = (body, label)
    return layer


def _env_layer(env: Mapping[str, str], problems: list[tuple[str, str]]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        if "__" in rest:
            section, _, key = rest.partition("__")
            layer[f"{section}.{key}"] = (value, name)
            continue
        for section in Settings.model_fields:  # VOXPY_SIP_PORT: a typo for VOXPY_SIP__PORT
            key = rest.removeprefix(f"{section}_")
            if key != rest and key in _fields(section):
                hint = f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
                problems.append((f"{section}.{key}", f"{name} is not read; did you mean {hint}?"))
    return layer


def _show(value: Any) -> str:
    text = value if isinstance(value, str) and value and " " not in value else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _source(path: tuple[str | int, ...], sources: Mapping[str, str]) -> str | None:
    """The source of the longest prefix of ``path`` that some layer set (e.g. sip.codecs.1)."""
    keys = (".".join(str(p) for p in path[:end]) for end in range(len(path), 0, -1))
    return next((sources[key] for key in keys if key in sources), None)


def _describe(err: Any, sources: Mapping[str, str]) -> tuple[str, str]:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    field = ".".join(str(p) for p in loc)
    message: str = err["msg"].removeprefix("Value error, ")
    details = []
    if err["type"] == "extra_forbidden":  # loc is (section,) or (known section, key)
        what, known = (
            ("section", list(Settings.model_fields))
            if len(loc) == 1
            else ("setting", _fields(str(loc[0])))
        )
        message = f"unknown {what}, expected one of {', '.join(known)}"
    elif "input" in err and not isinstance(err["input"], dict):
        details.append(f"got {_show(err['input'])}")
    source = _source(loc, sources)
    if source:
        details.append(f"from {source}")
    return field, message + (f" ({', '.join(details)})" if details else "")


def load_settings(
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build :class:`Settings` from defaults < TOML < ``VOXPY_*`` env < dotted ``overrides``.

    ``config_file=None`` reads ``config/voxpy.toml`` under the CWD if it exists; an explicit
    file must exist. ``env`` defaults to ``os.environ``; ``None`` override values are skipped.
    Raises :class:`~voxpy.errors.ConfigError` with one line naming each bad field and source.
    """
    problems: list[tuple[str, str]] = []
    layers = [  # each: dotted key -> (value, source label), lowest precedence first
        _file_layer(config_file),
        _env_layer(os.environ if env is None else env, problems),
        {k: (v, "command line") for k, v in (overrides or {}).items() if v is not None},
    ]
    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for layer in layers:
        for key, (value, source) in layer.items():
            section, dot, name = key.partition(".")
            sources[key] = source
            if not dot:
                data[section] = value
            elif isinstance(data.setdefault(section, {}), dict):
                data[section][name] = value

    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems += [_describe(err, sources) for err in exc.errors()]
    if problems:
        first_field, first_message = problems[0]
        rest = [first_message] + [f"{field}: {message}" for field, message in problems[1:]]
        raise ConfigError("; ".join(rest), field=first_field)
    return settings
