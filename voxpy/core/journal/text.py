"""A journal as plain text, one line per entry: for a terminal and a failing test's report.

+   0 ms  caller +15550100 -> leg 1 (in)     INVITE  From=sip:+15550100@...
+  12 ms  leg 1 (in)                         [Call.Connected]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from voxpy.core.journal.entry import Entry, as_entries, clip
from voxpy.core.journal.lanes import lanes_of


def flow_text(entries: Iterable[Entry | Mapping[str, Any]], *, width: int = 120) -> str:
    """One line per arrow or note; control characters shown escaped, lines clipped."""
    items = as_entries(entries)
    names = {lane.id: lane.label for lane in lanes_of(items)}
    rows = []
    for entry in items:
        if entry.kind in ("session", "party"):
            continue
        src = names.get(entry.src, entry.src)
        if entry.arrow:
            where = f"{src} -> {names.get(entry.dst, entry.dst)}"
            what = entry.label
        else:
            where = src
            mark = "!!" if entry.kind in ("error", "truncated") else ""
            what = f"{mark}[{entry.label}]{mark}"
        detail = " ".join(f"{k}={v}" for k, v in entry.fields[:3] if k != "side")
        line = f"+{round(entry.t * 1000):6d} ms  {clip(where, 40):<40} {what}  {detail}".rstrip()
        rows.append(clip(_printable(line), width))
    return "\n".join(rows) + ("\n" if rows else "")


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
