"""SIPp load helpers for bench/serve_load.py: the UAC scenario, one load step, CPU and RSS
readings of process trees."""

from __future__ import annotations

import contextlib
import csv
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from procstat import cpu_delta, cpu_times

from voxpy.server.procs import free_port

CALL_SETUP = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="SCENARIO_NAME">
  <send retrans="500" start_rtd="1"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: voxpy-bench
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio MEDIA_PORT RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="1" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
[routes]
CSeq: 1 ACK
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
"""
"""A UAC's INVITE (SDP offering PCMU on ``MEDIA_PORT``) and its ACK, up to where the call is
up; each bench adds what the call does then and how it ends (bench/scale_rigs.py too)."""

UAC = (
    CALL_SETUP.replace("SCENARIO_NAME", "voxpy-bench").replace("MEDIA_PORT", "[media_port]")
    + """  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""
)


@dataclass
class Step:
    """One SIPp run and what the workers and Kamailio spent meanwhile."""

    rate: float
    calls: int
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    peak_concurrent: int = 0
    call_length: float = 0.0
    rtts: list[float] = field(default_factory=list)
    worker_cpu: float = 0.0
    "Mean CPU of one worker during the run, % of a core."
    worker_cpu_s: float = 0.0
    "CPU seconds all workers used during the run."
    kamailio_cpu: float = 0.0

    @property
    def cps(self) -> float:
        """Calls completed per second, not counting the last call's own length (the tail)."""
        busy = self.seconds - self.call_length
        return self.ok / busy if busy > 0 else 0.0

    @property
    def cpu_ms_per_call(self) -> float:
        return self.worker_cpu_s / self.ok * 1000 if self.ok else float("nan")

    def pct(self, q: float) -> float:
        if not self.rtts:
            return float("nan")
        ordered = sorted(self.rtts)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def out(text: str) -> None:
    """The bench's report goes to stdout, line by line as it is measured."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()






def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB, NaN once it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid:
                    pids.append(int(entry.name))
    return pids


def parse_length(text: str) -> float:
    hours, minutes, seconds, micro = (int(x) for x in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds + micro / 1e6


def run_sipp(
    port: int,
    rate: float,
    calls: int,
    limit: int,
    workers: list[int],
    kamailio: list[int],
    duration: float,
) -> Step:
    step = Step(rate, calls)
    work = Path(tempfile.mkdtemp(prefix="voxpy-sipp-"))
    (work / "uac.xml").write_text(UAC)
    argv = [
        "sipp",
        "-sf",
        "uac.xml",
        f"127.0.0.1:{port}",
        "-s",
        "100",
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(free_port()),
        "-r",
        str(rate),
        "-m",
        str(calls),
        "-l",
        str(limit),
        "-nostdin",
        "-timer_resol",
        "1",
        "-trace_rtt",
        "-rtt_freq",
        "1",
        "-trace_stat",
        "-fd",
        "1",
        "-stf",
        "stat.csv",
        "-recv_timeout",
        "15000",
        "-timeout",
        str(int(duration + 60)),
        "-timeout_error",
    ]
    cpu0, kam0, t0 = cpu_times(workers), cpu_times(kamailio), time.monotonic()
    subprocess.run(argv, cwd=work, capture_output=True, check=False)
    step.seconds = time.monotonic() - t0
    step.worker_cpu_s = cpu_delta(cpu0, workers)
    step.worker_cpu = step.worker_cpu_s / step.seconds / len(workers) * 100
    step.kamailio_cpu = cpu_delta(kam0, kamailio) / step.seconds * 100
    with (work / "stat.csv").open() as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    if rows:
        last = rows[-1]
        step.ok, step.failed = int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"])
        step.peak_concurrent = max(int(r["CurrentCall"]) for r in rows)
        step.call_length = parse_length(last["CallLength(C)"])
    for rtt_file in work.glob("*_rtt.csv"):
        with rtt_file.open() as fh:
            step.rtts += [float(r["response_time_ms"]) for r in csv.DictReader(fh, delimiter=";")]
    shutil.rmtree(work, ignore_errors=True)
    return step


def measure(
    name: str,
    port: int,
    workers: list[int],
    kamailio: list[int],
    n: int,
    rates: list[float],
    seconds: float,
) -> tuple[list[Step], Step]:
    """Idle CPU, a burst at full capacity, then the CPS ramp."""
    run_sipp(port, 2, 2, 4 * n, workers, kamailio, 5)  # warm-up: TTS cache, code paths
    idle0 = cpu_times(workers)
    time.sleep(10)
    idle = cpu_delta(idle0, workers) / 10 / len(workers) * 100
    burst = run_sipp(port, 40 * n, 4 * n, 4 * n, workers, kamailio, 5)  # all within 0.1 s
    steps = []
    for rate in rates:
        step = run_sipp(port, rate, int(rate * seconds), 4 * n, workers, kamailio, seconds)
        steps.append(step)
        out(
            f"  {name}: offered {rate:5.1f}/s  achieved {step.cps:5.1f}/s  ok {step.ok:5d}"
            f"  failed {step.failed:3d}  peak {step.peak_concurrent:3d}"
            f"  p50 {step.pct(0.5):5.0f} ms  p99 {step.pct(0.99):5.0f} ms"
            f"  worker cpu {step.worker_cpu:5.1f}%  front {step.kamailio_cpu:5.1f}%"
        )
        if step.failed or (step.peak_concurrent >= 4 * n and step.cps < 0.9 * rate):
            break  # failures, or the pool is full: more offered load cannot be taken
    rss = [mb for mb in (rss_mb(pid) for pid in workers) if not math.isnan(mb)]
    gone = len(workers) - len(rss)
    out(
        f"  {name}: idle CPU per worker {idle:.2f}% of a core; RSS per worker after load "
        f"{statistics.mean(rss or [0.0]):.1f} MB (max {max(rss or [0.0]):.1f}); burst of "
        f"{burst.calls}: ok {burst.ok} failed {burst.failed} peak concurrent "
        f"{burst.peak_concurrent}" + (f"; {gone} worker(s) died during the run" if gone else "")
    )
    return steps, burst


def best(steps: list[Step]) -> Step | None:
    clean = [s for s in steps if not s.failed]
    return max(clean, key=lambda s: s.cps) if clean else None
