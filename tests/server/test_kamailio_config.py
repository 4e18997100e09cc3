"""The generated Kamailio config passes ``kamailio -c``; ports, template and CLI errors."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_SCENARIOS
from voxpy.config import Settings, load_settings
from voxpy.errors import ConfigError
from voxpy.server.kamailio import (
    Destination,
    KamailioError,
    check_config,
    dispatcher_list,
    duid,
    render,
    start,
    write_config,
)
from voxpy.server.pool import plan_ports
from voxpy.server.supervisor import kamailio_missing

WORKERS = [Destination(f"sip:127.0.0.1:{5071 + i}", f"w{i}", 5071 + i) for i in range(3)]


def settings(**overrides: object) -> Settings:
    return load_settings(overrides=overrides, env={})


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A short directory: Kamailio's unix socket paths must fit in 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="voxpy-cfg-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class TestGeneratedConfig:
    """``config/kamailio.cfg.tmpl`` rendered for several setups is valid for Kamailio."""

    @pytest.mark.parametrize(
        "overrides",
        [
            {},
            {"sip.tcp": False, "log.level": "debug"},
            {"sip.host": "127.0.0.1", "server.worker_host": "0.0.0.0", "server.workers": 3},
            {"server.probe_interval": 10, "server.pike_density": 8, "timeouts.no_answer": 5},
        ],
        ids=["defaults", "udp-only-debug", "any-worker-address", "tuned"],
    )
    async def test_kamailio_accepts_it(self, run_dir: Path, overrides: dict[str, object]) -> None:
        cfg = write_config(settings(**overrides), run_dir, 5060, WORKERS)
        await check_config("kamailio", cfg)
        text = cfg.read_text()
        assert 'ds_select_dst("1", "10")' in text  # call-load dispatching
        assert "$sp == 5071 || $sp == 5072 || $sp == 5073" in text
        assert "{{" not in text

    async def test_a_broken_config_is_reported(self, run_dir: Path) -> None:
        cfg = run_dir / "bad.cfg"
        cfg.write_text('#!KAMAILIO\nloadmodule "nosuchmodule.so"\n')
        with pytest.raises(KamailioError, match="is not valid"):
            await check_config("kamailio", cfg)

    def test_dispatcher_list_has_call_load_attributes(self) -> None:
        text = dispatcher_list(WORKERS[:2], 4)
        assert text.splitlines()[1:] == [
            "1 sip:127.0.0.1:5071 9 0 duid=w0;maxload=4",
            "1 sip:127.0.0.1:5072 9 0 duid=w1;maxload=4",
        ]

    async def test_edge_settings_are_rendered(self, run_dir: Path) -> None:
        cfg = write_config(
            settings(
                **{
                    "sip.user_agent": 'edge "ua"\\x',
                    "server.pike_loopback": True,
                    "server.invite_rate": 7,
                }
            ),
            run_dir,
            5060,
            WORKERS,
        )
        await check_config("kamailio", cfg)
        text = cfg.read_text()
        assert 'server_header="Server: edge \\"ua\\"\\\\x"' in text
        assert "if (!route(FROMWORKER) && (1 || " in text
        assert "> 7) {" in text and "$ml > 3488" in text

    @pytest.mark.parametrize(
        "overrides",
        [{"server.invite_rate": 0}, {"server.pike_density": 0}, {"server.pike_loopback": "maybe"}],
    )
    def test_bad_edge_settings(self, overrides: dict[str, object]) -> None:
        with pytest.raises(ConfigError, match="server"):
            settings(**overrides)

    def test_restarted_worker_gets_a_new_duid(self) -> None:
        assert [duid(0, 0), duid(0, 1), duid(3, 2)] == ["w0", "w0.1", "w3.2"]

    def test_unknown_placeholder_is_an_error(self) -> None:
        assert render("a {{x}} b", {"x": 1}) == "a 1 b"
        with pytest.raises(KamailioError, match="no value for"):
            render("{{missing}}", {})


class TestPorts:
    """Fixed ports from the config, free ones for 0, RTP split between workers."""

    def test_fixed_ports_and_rtp_split(self) -> None:
        plan = plan_ports(settings(**{"sip.port": 5060, "server.workers": 2}))
        assert plan.sip == 5060
        assert plan.workers == [(5071, 10000, 500), (5072, 10500, 500)]

    def test_zero_leaves_worker_ports_to_the_os(self) -> None:
        """Kamailio gets a free port now; workers bind port 0 and report what they got."""
        plan = plan_ports(
            settings(**{"sip.port": 0, "server.worker_port_base": 0, "server.workers": 3})
        )
        assert plan.sip > 0
        assert [w[0] for w in plan.workers] == [0, 0, 0]

    def test_rtp_range_too_small(self) -> None:
        with pytest.raises(ConfigError, match="cannot be split between 4 workers"):
            plan_ports(settings(**{"rtp.port_range": 20, "server.workers": 4}))


class TestPortTaken:
    """Kamailio cannot report a port the OS chose, so the one we picked may be taken."""

    @staticmethod
    def front(**overrides: object) -> Settings:
        return settings(**{"sip.host": "127.0.0.1", "server.kamailio_children": 1, **overrides})

    async def test_picked_port_taken_retries_another(self, run_dir: Path) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
            held.bind(("127.0.0.1", 0))
            taken = held.getsockname()[1]
            kamailio, port = await start(self.front(**{"sip.port": 0}), run_dir, taken, WORKERS)
            try:
                assert port != taken and kamailio.running
                assert f"listen=udp:127.0.0.1:{port}" in (run_dir / "kamailio.cfg").read_text()
            finally:
                await kamailio.stop()

    async def test_configured_port_taken_fails(self, run_dir: Path) -> None:
        """A port the operator chose is not ours to change: the start fails, saying why."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
            held.bind(("127.0.0.1", 0))
            taken = held.getsockname()[1]
            with pytest.raises(KamailioError, match="exited at start"):
                await start(self.front(**{"sip.port": taken}), run_dir, taken, WORKERS)


class TestCommandLine:
    """``voxpy serve`` refuses to start in one line, exit status 2."""

    @staticmethod
    def serve(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "voxpy", "serve", *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
            env={**os.environ, **env},
        )

    def test_kamailio_missing(self) -> None:
        result = self.serve(
            str(TEST_SCENARIOS / "answer_and_wait.py"),
            env={"VOXPY_SERVER__KAMAILIO_BIN": "/nonexistent/kamailio"},
        )
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1
        assert "not installed" in result.stderr and "apt-get install kamailio" in result.stderr
        assert kamailio_missing("kamailio") is None

    def test_bad_server_setting(self) -> None:
        result = self.serve(
            str(TEST_SCENARIOS / "answer_and_wait.py"), env={"VOXPY_SERVER__WORKERS": "0"}
        )
        assert result.returncode == 2
        assert result.stderr.strip().startswith("voxpy: config error: server.workers:")
        assert result.stderr.count("\n") == 1

    def test_broken_scenario(self) -> None:
        result = self.serve(str(TEST_SCENARIOS / "syntax_error.py"), env={})
        assert result.returncode == 2
        assert "scenario error" in result.stderr
