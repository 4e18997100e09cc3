"""The systems bench/scale.py compares (voxpy serve, bare pjsua2 behind Kamailio) and the SIPp
runs that load them."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from procstat import pss_mb  # noqa: F401 - bench/scale.py takes it from here
from sipp_load import CALL_SETUP, group_pids

from voxpy.config import load_settings
from voxpy.media.library import FileMediaLibrary
from voxpy.server.kamailio import Destination, Kamailio, write_config
from voxpy.server.procs import free_port
from voxpy.settings import MediaSettings

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "scenarios_loop.py"
BARE = HERE / "bare_pjsua2_answer.py"
PROMPT = "Thank you for calling. Your call is important to us. Please stay on the line."
READY_TIMEOUT_S = 300.0
CLOCK_ENV = "VOXPY_MEDIA__CLOCK_RATE"
"How the bench gives voxpy the bridge rate (the media settings' clock_rate)."

_HEAD = CALL_SETUP.replace("SCENARIO_NAME", "voxpy-scale")
_TAIL = """  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
[routes]
CSeq: 2 BYE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""
BULK = (
    _HEAD.replace("MEDIA_PORT", "[rtpstream_audio_port]")
    + '  <nop><action><exec rtp_stream="prompt_ulaw.wav,-1,0"/></action></nop>\n'
    + '  <pause milliseconds="HOLD_MS"/>\n'
    + '  <nop><action><exec rtp_stream="pause"/></action></nop>\n'
    + _TAIL
)
"SIPp sends the prompt (G.711 u-law, looped) and takes the callee's RTP."
PROBE = _HEAD.replace("MEDIA_PORT", "[field0]") + '  <pause milliseconds="HOLD_MS"/>\n' + _TAIL
"The callee's RTP goes to a probe socket (SIPp injects its port), which echoes it."


def prompt_wavs(rate: int) -> tuple[str, str]:
    """(the prompt as PCM at ``rate`` for the callees, as 8 kHz u-law for SIPp)."""

    async def speak() -> str:
        library = FileMediaLibrary.from_settings(load_settings(env={}))
        return (await library.speech(PROMPT, "en", None, None)).path

    import imageio_ffmpeg

    src, work = asyncio.run(speak()), Path(tempfile.mkdtemp(prefix="voxpy-scale-"))
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    pcm, ulaw = work / f"prompt{rate}.wav", work / "prompt_ulaw.wav"
    for dst, codec, hz in ((pcm, "pcm_s16le", rate), (ulaw, "pcm_mulaw", 8000)):
        subprocess.run(
            [ffmpeg, "-y", "-loglevel", "error", "-i", src, "-ar", str(hz), "-ac", "1",
             "-acodec", codec, str(dst)], check=True,
        )  # fmt: skip
    return str(pcm), str(ulaw)




def machine_busy(since: tuple[int, int] | None = None) -> tuple[int, int] | float:  # type: ignore[return]
    """/proc/stat's (busy, total) jiffies now; with ``since``, the busy % of all CPUs since."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, total = fields[3] + fields[4], sum(fields[:8])
    if since is None:
        return total - idle, total
    busy0, total0 = since
    return 100 * ((total - idle) - busy0) / max(total - total0, 1)


@dataclass
class SippResult:
    ok: int = 0
    failed: int = 0
    rtts: list[float] = field(default_factory=list)


class SippRun:
    """One SIPp process placing ``calls`` calls over ``ramp`` seconds."""

    def __init__(self, proc: subprocess.Popen[bytes], work: Path) -> None:
        self.proc, self.work = proc, work

    def finish(self) -> SippResult:
        result = SippResult()
        try:
            self.proc.wait(600)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError, IndexError, KeyError):
            with (self.work / "stat.csv").open() as fh:
                last = list(csv.DictReader(fh, delimiter=";"))[-1]
            result.ok, result.failed = int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"])
        for rtt_file in self.work.glob("*_rtt.csv"):
            with rtt_file.open() as fh:
                rows = csv.DictReader(fh, delimiter=";")
                result.rtts += [float(r["response_time_ms"]) for r in rows]
        shutil.rmtree(self.work, ignore_errors=True)
        return result


def run_sipp(port: int, xml: str, calls: int, ramp: float, hold: float, ports: list[int],
             ulaw: str = "") -> SippRun:  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="voxpy-scale-sipp-"))
    (work / "uac.xml").write_text(xml.replace("HOLD_MS", str(int(hold * 1000))))
    if ulaw:
        shutil.copy(ulaw, work / "prompt_ulaw.wav")
    argv = ["sipp", "-sf", "uac.xml", f"127.0.0.1:{port}", "-i", "127.0.0.1",
            "-m", str(max(calls, 0)), "-r", f"{max(calls, 1) / ramp:.3f}", "-rp", "1000",
            "-l", str(max(calls, 1)), "-nostdin", "-trace_rtt", "-rtt_freq", "1",
            "-trace_stat", "-fd", "1", "-stf", "stat.csv", "-recv_timeout", "20000",
            "-timeout", str(int(ramp + hold + 60)), "-timeout_error",
            "-mp", "50000" if ulaw else "46000"]  # fmt: skip
    if ports:
        (work / "ports.csv").write_text("SEQUENTIAL\n" + "".join(f"{p}\n" for p in ports))
        argv += ["-inf", "ports.csv"]
    proc = subprocess.Popen(argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return SippRun(proc, work)


def clocks_realtime(pids: list[int]) -> tuple[int, int]:
    """(processes whose pjmedia clock thread runs SCHED_RR, processes with a clock thread):
    what the scheduling really was, whatever the bench asked for."""
    rr = clocks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    if (task / "comm").read_bytes() == b"clock\n":
                        clocks += 1
                        policy = os.sched_getscheduler(int(task.name))
                        rr += policy & ~os.SCHED_RESET_ON_FORK == os.SCHED_RR
                        break
    return rr, clocks


class Rig:
    """A system under test: N callees behind a Kamailio front on ``sip_port``."""

    def __init__(self, name: str, sip_port: int, ulaw: str) -> None:
        self.name, self.sip_port, self.ulaw = name, sip_port, ulaw
        self.ready_s = float("nan")
        self.refused: dict[str, int] = {}
        "INVITEs a worker refused as overloaded, by reason (from the serve log, voxpy only)."
        self._workers: list[int] = []
        self._front: list[int] = []
        self._stop: list[subprocess.Popen[bytes]] = []
        self._log: Path | None = None
        self._kamailio: Kamailio | None = None
        self._run_dir: Path | None = None
        self._loop = asyncio.new_event_loop()
        self._api: tuple[str, str] | None = None

    @classmethod
    def start(cls, system: str, n: int, wav: str, ulaw: str, rate: int, priority: int) -> Rig:
        """``rate``: the bridge's clock; ``priority``: SCHED_RR of the clock threads (0: none)."""
        rig = cls(system, free_port(), ulaw)
        t0 = time.monotonic()
        try:
            if system == "voxpy":
                rig._start_voxpy(n, wav, rate, priority)
            else:
                rig._start_bare(n, wav, rate, priority)
        except BaseException:
            rig.stop()  # a failed start must not leave N processes polling beside the next run
            raise
        rig.ready_s = time.monotonic() - t0
        return rig

    def worker_pids(self) -> list[int]:
        return list(self._workers)

    def front_pids(self) -> list[int]:
        """The front's processes: Kamailio's, and for voxpy the supervisor (and its zygote)."""
        return list(self._front)

    def _start_voxpy(self, n: int, wav: str, rate: int, priority: int) -> None:
        token = secrets.token_hex(8)
        env = {**os.environ, "VOXPY_SERVER__TOKEN": token, "VOXPY_SERVER__WORKER_PORT_BASE": "0",
               "VOXPY_BENCH_PROMPT": wav}  # fmt: skip
        if "clock_rate" in MediaSettings.model_fields:  # before issue 15 the bridge was 16 kHz
            env[CLOCK_ENV] = str(rate)
        # Each worker takes 8 RTP ports of rtp.port_range (1000 by default: 125 workers).
        env["VOXPY_RTP__PORT_RANGE"] = str(max(1000, 8 * n))
        if "clock_priority" in MediaSettings.model_fields:
            env["VOXPY_MEDIA__CLOCK_PRIORITY"] = str(priority)
        self._log = Path(tempfile.mkstemp(prefix="voxpy-scale-", suffix=".log")[1])
        with self._log.open("w") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "voxpy", "serve", str(SCENARIO), "--workers", str(n),
                 "--sip-host", "127.0.0.1", "--sip-port", str(self.sip_port), "--http-port", "0",
                 "--log-format", "json"],
                stdout=sink, stderr=sink, env=env, start_new_session=True,
            )  # fmt: skip
        self._stop = [proc]
        deadline, url, kamailio = time.monotonic() + READY_TIMEOUT_S, "", 0
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("voxpy serve exited:\n" + self._log.read_text()[-3000:])
            for line in self._log.read_text().splitlines():
                data = json.loads(line) if line.startswith("{") else {}
                url = data.get("url", url) if data.get("event") == "api_started" else url
                if data.get("event") == "kamailio_started":
                    kamailio = int(data["pid"])
            if url:
                request = urllib.request.Request(
                    f"{url}/workers", headers={"Authorization": f"Bearer {token}"}
                )
                with contextlib.suppress(OSError, ValueError):
                    with urllib.request.urlopen(request, timeout=5) as response:
                        workers = json.load(response)["workers"]
                    if len(workers) == n and all(w["ready"] for w in workers):
                        self._api = (url, token)
                        self._workers = [int(w["pid"]) for w in workers]
                        pids = set(self._workers)
                        self._front = [p for p in group_pids(proc.pid) if p not in pids]
                        self._front += group_pids(kamailio)
                        return
            time.sleep(0.1)
        raise RuntimeError("voxpy serve not ready:\n" + self._log.read_text()[-3000:])

    def _start_bare(self, n: int, wav: str, rate: int, priority: int) -> None:
        self._stop = [
            subprocess.Popen(
                [sys.executable, str(BARE), "--port", "0", "--hold", "3600", "--rtp-port",
                 str(20000 + 100 * i), "--wav", wav, "--clock-rate", str(rate),
                 "--clock-priority", str(priority)],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
            for i in range(n)
        ]  # fmt: skip
        ports = []  # each binds a port the OS picks and reports it: no two can collide
        for proc in self._stop:
            assert proc.stdout is not None
            for line in proc.stdout:  # pjsua's banner comes first
                if line.startswith(b"ready "):
                    ports.append(int(line.split()[1]))
                    break
            else:
                raise RuntimeError("a bare pjsua2 process did not start")
        self._workers = [p.pid for p in self._stop]
        settings = load_settings(
            env={}, overrides={"sip.host": "127.0.0.1", "server.probe_interval": 1,
                               "server.workers": n},
        )  # fmt: skip
        self._run_dir = Path(tempfile.mkdtemp(prefix="voxpy-bare-", dir="/tmp"))
        dests = [Destination(f"sip:127.0.0.1:{p}", f"b{i}", p) for i, p in enumerate(ports)]
        run_dir = self._run_dir
        cfg = write_config(settings, run_dir, self.sip_port, dests)

        async def front() -> None:
            shm = settings.server.kamailio_shm_mb
            self._kamailio = Kamailio("kamailio", cfg, run_dir, shm)
            await self._kamailio.start()
            for dest in dests:
                await self._kamailio.rpc.set_state("ap", dest.uri)

        self._loop.run_until_complete(front())
        assert self._kamailio is not None and self._kamailio.proc is not None
        self._front = group_pids(self._kamailio.proc.pid)

    def stop(self) -> int:
        """Stop everything (SIGTERM); the number of workers the supervisor had to kill."""
        if self._api:
            self.refused = self._refused()
        for proc in self._stop:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in self._stop:
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL) if self.name == "voxpy" else proc.kill()
                proc.wait()
        if self._kamailio is not None:
            self._loop.run_until_complete(self._kamailio.stop())
            self._loop.close()
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
        killed = 0
        if self._log is not None:
            killed = self._log.read_text().count('"worker_kill"')
            self._log.unlink()
        return killed

    def _refused(self) -> dict[str, int]:
        """``voxpy_invites_refused_total`` from the supervisor's /metrics, by reason."""
        assert self._api is not None
        url, token = self._api
        request = urllib.request.Request(
            f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}
        )
        totals: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
            for line in text.splitlines():
                if line.startswith("voxpy_invites_refused_total{"):
                    reason = line.split('reason="', 1)[1].split('"', 1)[0]
                    totals[reason] = totals.get(reason, 0) + int(float(line.rsplit(" ", 1)[1]))
        return totals
