"""Tests for voxpy.config: defaults, precedence, and one-line errors naming field and source."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from voxpy.config import Settings, load_settings
from voxpy.errors import ConfigError

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "voxpy.toml"


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test in an empty directory so no config/voxpy.toml is picked up by accident."""
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(**kwargs: object) -> ConfigError:
    kwargs.setdefault("env", {})
    with pytest.raises(ConfigError) as info:
        load_settings(**kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return info.value


class TestDefaults:
    """Built-in defaults and the shipped config file."""

    def test_defaults_load(self) -> None:
        s = load_settings(env={})
        assert s.sip.host == "0.0.0.0"
        assert s.sip.port == 5060
        assert s.sip.public_address is None
        assert s.sip.tcp is True
        assert s.sip.outbound_proxy is None
        assert s.sip.user_agent == "voxpy"
        assert s.sip.codecs == ("PCMU/8000", "PCMA/8000", "G722/16000")
        assert s.sip.max_calls == 4
        assert (s.rtp.port, s.rtp.port_range) == (10000, 1000)
        assert s.timeouts.no_answer == 60 and s.timeouts.dial == 60
        assert s.timeouts.session_grace == 60 and s.timeouts.shutdown == 4
        assert (s.log.level, s.log.format) == ("info", "auto")
        assert s.scenario.custom_data is None
        assert (s.sip.session_timer, s.sip.session_expires, s.sip.min_se) == ("optional", 1800, 90)
        assert s.timeouts.max_call_duration == 4 * 3600
        assert s.quality.rtp_timeout_hangup == 60
        assert s.timeouts.timeouts().max_call_duration == 4 * 3600
        assert s.quality.thresholds().rtp_timeout_hangup == 60

    def test_settings_are_frozen(self) -> None:
        s = load_settings(env={})
        with pytest.raises(ValueError, match="frozen"):
            s.sip.port = 1

    def test_shipped_file_lists_every_key_with_its_default(self) -> None:
        data = tomllib.loads(REPO_CONFIG.read_text())
        keys = {f"{section}.{key}" for section, body in data.items() for key in body}
        assert keys == set(Settings().summary())
        assert load_settings(REPO_CONFIG, env={}) == Settings()

    def test_default_file_in_cwd_is_used(self) -> None:
        write(Path("config/voxpy.toml"), "[sip]\nport = 5080\n")
        assert load_settings(env={}).sip.port == 5080

    def test_summary_is_flat_and_dotted(self) -> None:
        summary = Settings().summary()
        assert summary["sip.port"] == 5060
        assert summary["sip.codecs"] == ["PCMU/8000", "PCMA/8000", "G722/16000"]
        assert summary["log.level"] == "info"


class TestPrecedence:
    """defaults < TOML < environment < CLI overrides."""

    def test_toml_overrides_default(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "x.toml", '[sip]\nport = 5070\n[log]\nlevel = "warning"\n')
        s = load_settings(cfg, env={})
        assert s.sip.port == 5070
        assert s.log.level == "warning"
        assert s.rtp.port == 10000

    def test_env_overrides_toml(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "x.toml", "[sip]\nport = 5070\ntcp = true\n")
        env = {"VOXPY_SIP__PORT": "5090", "VOXPY_SIP__TCP": "false", "PATH": "/bin"}
        s = load_settings(str(cfg), env=env)
        assert s.sip.port == 5090
        assert s.sip.tcp is False

    def test_cli_overrides_beat_env(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "x.toml", "[sip]\nport = 5070\n")
        s = load_settings(
            cfg,
            overrides={"sip.port": 6000, "log.level": None},
            env={"VOXPY_SIP__PORT": "5090", "VOXPY_LOG__LEVEL": "debug"},
        )
        assert s.sip.port == 6000
        assert s.log.level == "debug"  # a None override is ignored

    def test_env_defaults_to_os_environ(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in [n for n in os.environ if n.startswith("VOXPY_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("VOXPY_TIMEOUTS__DIAL", "12.5")
        assert load_settings().timeouts.dial == 12.5

    def test_env_codecs_comma_separated(self) -> None:
        s = load_settings(env={"VOXPY_SIP__CODECS": "PCMA/8000, PCMU/8000"})
        assert s.sip.codecs == ("PCMA/8000", "PCMU/8000")

    def test_empty_string_means_unset(self) -> None:
        s = load_settings(env={"VOXPY_SIP__OUTBOUND_PROXY": "", "VOXPY_SCENARIO__CUSTOM_DATA": ""})
        assert s.sip.outbound_proxy is None
        assert s.scenario.custom_data is None

    def test_unrelated_voxpy_env_is_ignored(self) -> None:
        assert load_settings(env={"VOXPY_HOME": "/x"}) == Settings()


class TestValues:
    """Accepted and normalised values."""

    @pytest.mark.parametrize("raw", ["DEBUG", "Debug", " debug "])
    def test_log_level_case_insensitive(self, raw: str) -> None:
        assert load_settings(env={"VOXPY_LOG__LEVEL": raw}).log.level == "debug"

    @pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "sip.example.com", "localhost"])
    def test_host_ipv4_or_hostname(self, host: str) -> None:
        assert load_settings(overrides={"sip.host": host}, env={}).sip.host == host

    def test_ephemeral_port_and_proxy(self) -> None:
        s = load_settings(
            overrides={"sip.port": 0, "sip.outbound_proxy": "sip:p.example;lr"}, env={}
        )
        assert s.sip.port == 0
        assert s.sip.outbound_proxy == "sip:p.example;lr"


class TestErrors:
    """Each bad value gives one ConfigError line naming the dotted field and its source."""

    def test_port_out_of_range_from_env(self) -> None:
        err = error_of(env={"VOXPY_SIP__PORT": "70000"})
        assert err.field == "sip.port"
        assert str(err) == (
            "sip.port: Input should be less than or equal to 65535 "
            "(got 70000, from VOXPY_SIP__PORT)"
        )

    def test_max_calls_explains_the_wheel_limit(self) -> None:
        err = error_of(overrides={"sip.max_calls": 8})
        assert err.field == "sip.max_calls"
        assert "at most 4" in str(err)
        assert "pjsua2 wheel caps a process at 4 calls" in str(err)
        assert "from command line" in str(err)

    @pytest.mark.parametrize(
        ("overrides", "field", "text"),
        [
            ({"sip.min_se": 60}, "sip.min_se", "greater than or equal to 90"),
            ({"sip.session_expires": 600, "sip.min_se": 900}, "sip.min_se", "at most session"),
            ({"sip.session_timer": "sometimes"}, "sip.session_timer", "'always'"),
            ({"quality.rtp_timeout_hangup": -1}, "quality.rtp_timeout_hangup", "greater"),
            ({"timeouts.max_call_duration": -5}, "timeouts.max_call_duration", "greater"),
        ],
    )
    def test_slot_guard_settings_are_checked(
        self, overrides: dict[str, object], field: str, text: str
    ) -> None:
        err = error_of(overrides=overrides)
        assert err.field == field
        assert text in str(err)

    def test_slot_guards_can_be_turned_off(self) -> None:
        s = load_settings(
            overrides={"quality.rtp_timeout_hangup": 0, "timeouts.max_call_duration": 0},
            env={},
        )
        assert s.quality.rtp_timeout_hangup == 0 and s.timeouts.max_call_duration == 0

    @pytest.mark.parametrize("host", ["::1", "[::1]", "2001:db8::5"])
    def test_ipv6_host_rejected(self, tmp_path: Path, host: str) -> None:
        cfg = write(tmp_path / "x.toml", f'[sip]\nhost = "{host}"\n')
        err = error_of(config_file=cfg)
        assert err.field == "sip.host"
        assert "IPv6 is not supported" in str(err)
        assert f"from --config {cfg}" in str(err)

    def test_bad_hostname_rejected(self) -> None:
        err = error_of(env={"VOXPY_SIP__HOST": "not a host"})
        assert err.field == "sip.host"

    def test_opus_rejected(self) -> None:
        err = error_of(overrides={"sip.codecs": ["PCMU/8000", "opus/48000"]})
        assert err.field == "sip.codecs"
        assert "no opus" in str(err)

    def test_codec_shape_checked(self) -> None:
        err = error_of(env={"VOXPY_SIP__CODECS": "G729"})
        assert err.field == "sip.codecs"
        assert "NAME/RATE" in str(err)
        assert "from VOXPY_SIP__CODECS" in str(err)

    def test_proxy_must_be_sip_uri(self) -> None:
        err = error_of(overrides={"sip.outbound_proxy": "proxy.example.com"})
        assert err.field == "sip.outbound_proxy"
        assert '"sip:"' in str(err)

    def test_negative_dial_timeout_names_file(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "x.toml", "[timeouts]\ndial = -1\n")
        err = error_of(config_file=cfg)
        assert str(err) == (
            f"timeouts.dial: Input should be greater than 0 (got -1, from --config {cfg})"
        )

    def test_unknown_toml_key(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "x.toml", "[sip]\nprt = 5070\n")
        err = error_of(config_file=cfg)
        assert err.field == "sip.prt"
        assert "unknown setting" in str(err)
        assert "port" in str(err)
        assert f"from --config {cfg}" in str(err)

    def test_unknown_toml_section(self, tmp_path: Path) -> None:
        cfg = write(tmp_path / "x.toml", "[sipp]\nport = 5070\n")
        err = error_of(config_file=cfg)
        assert err.field == "sipp"
        assert "unknown section" in str(err)

    def test_invalid_toml_syntax(self) -> None:
        write(Path("config/voxpy.toml"), '[sip]\nport = 5060\nhost = "x\n')
        err = error_of()
        assert err.field is None
        assert str(err).startswith("config/voxpy.toml: invalid TOML at line 3")

    def test_missing_explicit_file(self, tmp_path: Path) -> None:
        missing = tmp_path / "nope.toml"
        err = error_of(config_file=missing)
        assert str(err) == f"{missing}: config file not found"

    def test_unknown_env_var(self) -> None:
        err = error_of(env={"VOXPY_SIP__PRT": "5070"})
        assert err.field == "sip.prt"
        assert "unknown setting" in str(err)
        assert "from VOXPY_SIP__PRT" in str(err)

    def test_single_underscore_env_var_is_a_typo(self) -> None:
        err = error_of(env={"VOXPY_SIP_PORT": "5070"})
        assert err.field == "sip.port"
        assert "did you mean VOXPY_SIP__PORT" in str(err)

    def test_multiple_errors_on_one_line(self) -> None:
        err = error_of(env={"VOXPY_SIP__PORT": "70000", "VOXPY_RTP__PORT": "80"})
        message = str(err)
        assert err.field == "sip.port"
        assert "; rtp.port: Input should be greater than or equal to 1024" in message
        assert message.count("; ") == 1
