"""The ``[server]`` settings: defaults, one-line errors, and the token kept out of logs."""

from __future__ import annotations

import pytest

from voxpy.config import Settings, load_settings
from voxpy.errors import ConfigError


class TestServerSettings:
    """``server.*`` follows the config module's rules: typed, validated, one-line errors."""

    def test_defaults(self) -> None:
        server = Settings().server
        assert (server.workers, server.worker_host, server.http_port) == (2, "127.0.0.1", 8080)
        assert server.token is None and server.run_dir is None
        assert server.kamailio_bin == "kamailio"

    def test_env_and_overrides(self) -> None:
        settings = load_settings(
            env={"VOXPY_SERVER__TOKEN": "s3cret", "VOXPY_SERVER__DRAIN_TIMEOUT": "5"},
            overrides={"server.workers": 8},
        )
        assert settings.server.token == "s3cret"
        assert settings.server.drain_timeout == 5
        assert settings.server.workers == 8

    @pytest.mark.parametrize(
        ("env", "field", "text"),
        [
            ({"VOXPY_SERVER__WORKERS": "0"}, "server.workers", "greater than or equal to 1"),
            ({"VOXPY_SERVER__HTTP_HOST": "::1"}, "server.http_host", "IPv6"),
            (
                {"VOXPY_SERVER__RESTART_BACKOFF": "5", "VOXPY_SERVER__RESTART_BACKOFF_MAX": "1"},
                "server.restart_backoff_max",
                "at least restart_backoff",
            ),
            ({"VOXPY_SERVER__DRAIN_TIMEOUT": "-1"}, "server.drain_timeout", "greater than"),
        ],
    )
    def test_bad_values_are_one_line(self, env: dict[str, str], field: str, text: str) -> None:
        with pytest.raises(ConfigError) as info:
            load_settings(env=env)
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith(f"{field}: ") and text in message
        assert next(iter(env)) in message or "VOXPY_SERVER__RESTART_BACKOFF_MAX" in message

    def test_summary_masks_the_token(self) -> None:
        summary = load_settings(env={"VOXPY_SERVER__TOKEN": "s3cret"}).summary()
        assert summary["server.token"] == "***"
        assert "s3cret" not in str(summary)
        assert Settings().summary()["server.token"] is None
