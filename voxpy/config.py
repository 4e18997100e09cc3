"""voxpy configuration: typed settings, loaded from defaults, a TOML file, env and CLI.

Precedence, lowest to highest: built-in defaults < TOML file < ``VOXPY_<SECTION>__<FIELD>``
environment variables < ``overrides`` (dotted keys, from CLI flags). Everything is merged
into one dict and validated once, so every error can name its dotted field and its source.
Unknown keys are errors: a typo in a config file must not silently fall back to a default.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from voxpy.errors import ConfigError
from voxpy.settings import (
    SECRET_KEYS,
    LogSettings,
    MediaSettings,
    QualitySettings,
    RtpSettings,
    ScenarioSettings,
    ServerSettings,
    Settings,
    SipSettings,
    TimeoutSettings,
)

__all__ = [  # the models are re-exported: callers import them with load_settings
    "SECRET_KEYS",
    "LogSettings",
    "MediaSettings",
    "QualitySettings",
    "RtpSettings",
    "ScenarioSettings",
    "ServerSettings",
    "Settings",
    "SipSettings",
    "TimeoutSettings",
    "load_settings",
]

DEFAULT_CONFIG_FILE = Path("config") / "voxpy.toml"
ENV_PREFIX = "VOXPY_"


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
