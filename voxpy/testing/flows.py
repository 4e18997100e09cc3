"""A failing test's call flows: each session's journal drawn, next to the report.

The pytest plugin calls :func:`attach_flows` for a test that failed in its call phase while
its ``voxpy_harness`` engines were still up: every session's ladder diagram is written to an
SVG file (under ``--voxpy-flow-dir``, default ``.pytest_cache/d/voxpy-flows``, or the temp
directory's ``voxpy-flows`` without pytest's cache), and the
report gets a "voxpy call flow" section with the files' paths and the flow as text, which
pytest prints with the failure.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voxpy.core.journal import flow_svg, flow_text

MAX_TEXT_LINES = 80
"Lines of text flow per session in the report (the SVG has them all)."
MAX_SESSIONS = 20
"Sessions drawn per harness (the first ones): a load test failing must not write thousands."


def flow_dir(config: Any) -> Path:
    chosen = config.getoption("--voxpy-flow-dir", default=None)
    if chosen:
        return Path(chosen)
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("voxpy-flows"))
    return Path(tempfile.gettempdir()) / "voxpy-flows"  # no cache: never litter the project


def attach_flows(nodeid: str, harnesses: Sequence[Any], directory: Path) -> str:
    """Write every session's diagram; the report section's text ("" when nothing ran)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)[-120:]
    parts = []
    for n, harness in enumerate(harnesses):
        for session_id in harness.journals.session_ids()[:MAX_SESSIONS]:
            entries = harness.journals.entries(session_id) or []
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{stem}-{n}-{session_id}.svg"
            path.write_text(flow_svg(entries), encoding="utf-8")
            lines = flow_text(entries).splitlines()
            if len(lines) > MAX_TEXT_LINES:
                lines = [*lines[:MAX_TEXT_LINES], f"... {len(lines) - MAX_TEXT_LINES} more"]
            backend = getattr(harness, "backend", "?")
            parts.append(f"session {session_id} ({backend}): {path}\n" + "\n".join(lines))
    return "\n\n".join(parts)
