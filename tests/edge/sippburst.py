"""Run a SIPp burst with ``uac_200_or_503.xml`` and read how each INVITE was answered."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

SCENARIO_XML = Path(__file__).resolve().parent / "uac_200_or_503.xml"


@dataclass
class Burst:
    """What one SIPp run saw: exit status, answers by code, and its error log (if any)."""

    returncode: int
    counts: dict[str, int] = field(default_factory=dict)
    stats: dict[str, str] = field(default_factory=dict)
    errors: str = ""
    screen: str = ""

    def received(self, code: int) -> int:
        """How many ``code`` final answers arrived (optional recv of 503, mandatory of 200)."""
        return sum(
            value
            for key, value in self.counts.items()
            if key.endswith(f"_{code}_Recv") or key.endswith(f"_{code}_Unexp")
        )

    @property
    def successful(self) -> int:
        return int(self.stats.get("SuccessfulCall(C)", 0) or 0)

    @property
    def failed(self) -> int:
        return int(self.stats.get("FailedCall(C)", 0) or 0)

    def summary(self) -> str:
        return (
            f"sipp exit {self.returncode}, successful {self.successful}, failed {self.failed}, "
            f"200: {self.received(200)}, 503: {self.received(503)}\n"
            f"errors:\n{self.errors[-3000:]}"
        )


async def burst(target: str, workdir: Path, *, rate: int, calls: int, timeout: float = 60) -> Burst:
    """``sipp TARGET -r RATE -m CALLS`` from an OS-chosen port on 127.0.0.1; bounded in time."""
    sipp = shutil.which("sipp")
    if sipp is None:
        raise RuntimeError("sipp is not installed: run scripts/install-system-deps.sh as root")
    workdir.mkdir(parents=True, exist_ok=True)
    xml = workdir / SCENARIO_XML.name
    shutil.copy(SCENARIO_XML, xml)
    argv = [
        sipp, target, "-sf", str(xml), "-s", "100", "-i", "127.0.0.1", "-t", "u1",
        "-r", str(rate), "-rp", "1000", "-m", str(calls), "-l", str(calls),
        "-nostdin", "-trace_counts", "-trace_stat", "-stf", str(workdir / "stat.csv"),
        "-trace_err", "-error_file", str(workdir / "errors.log"),
        "-recv_timeout", "15000", "-timeout", f"{int(timeout)}s", "-timeout_error",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=workdir,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout + 15)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        out, _ = await proc.communicate()
    result = Burst(proc.returncode if proc.returncode is not None else -1)
    result.screen = out.decode(errors="replace")[-4000:]
    for path in workdir.glob("*_counts.csv"):
        rows = list(csv.reader(path.open(), delimiter=";"))
        if len(rows) >= 2:
            header, last = rows[0], rows[-1]
            for key, value in zip(header, last, strict=False):
                with contextlib.suppress(ValueError):
                    result.counts[key] = int(value)
    stat = workdir / "stat.csv"
    if stat.exists():
        rows = list(csv.reader(stat.open(), delimiter=";"))
        if len(rows) >= 2:
            result.stats = dict(zip(rows[0], rows[-1], strict=False))
    errors = workdir / "errors.log"
    if errors.exists():
        result.errors = errors.read_text(errors="replace")
    return result
