"""A journal as a ladder (sequence) diagram in SVG, written as text: no plotting library.

One lane per party, from left to right: each caller and the engine's leg that answered it,
the session (the scenario), then each outbound leg and its callee, then anything else that
was named (sockets). SIP messages are solid arrows, media actions dashed blue ones; scenario
events are yellow notes over their leg, errors red ones. Each row starts with its time
(+ms since the session started); an arrow's or note's fields (headers, texts) are its
tooltip (``<title>``), the first two also written under it.

Every text from the journal is hostile until escaped: a header value or a say text may hold
``<script>`` or control characters that XML 1.0 forbids; :func:`xml_text` makes them inert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from xml.sax.saxutils import escape

from voxpy.core.journal.entry import SESSION_LANE, Entry, as_entries, clip
from voxpy.core.journal.lanes import Lane, lanes_of

LANE_W = 160
TIME_W = 70
TITLE_H = 30
HEAD_H = 40
ROW_H = 26
DETAIL_H = 12
CHAR_W = 6.6
"Width of a 12 px sans-serif character, on average: sizes notes without a font engine."

SVG_HEADERS = {  # a diagram shows callers' texts: escaped, and no script may run if one slips
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}
"HTTP headers of a served diagram (serve's API, a front passing one on)."

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

STYLE = """
text { font-family: DejaVu Sans, Arial, sans-serif; font-size: 12px; fill: #222; }
.title { font-size: 14px; font-weight: bold; }
.time { fill: #666; font-size: 11px; }
.detail { fill: #555; font-size: 10px; }
.lane rect { fill: #eceff1; stroke: #455a64; }
.lane.session rect { fill: #e8f5e9; stroke: #2e7d32; }
.life { stroke: #90a4ae; stroke-dasharray: 4 4; }
.sip line { stroke: #222; stroke-width: 1.3; }
.media line { stroke: #1565c0; stroke-width: 1.3; stroke-dasharray: 6 3; }
.media text { fill: #1565c0; }
.note rect { fill: #fffde7; stroke: #f9a825; }
.note.media rect { fill: #e3f2fd; stroke: #1565c0; }
.note.error rect, .truncated rect { fill: #ffebee; stroke: #c62828; }
.note.error text, .truncated text { fill: #b71c1c; font-weight: bold; }
"""


def xml_text(value: object, limit: int = 0) -> str:
    """``value`` safe as SVG text or attribute: clipped to ``limit`` characters (0: as is),
    characters XML 1.0 forbids dropped, markup escaped."""
    text = _NOT_XML.sub("", value if isinstance(value, str) else str(value))
    if limit:
        text = clip(text, limit)
    return escape(text, {'"': "&quot;", "'": "&#39;"})


def flow_svg(entries: Iterable[Entry | Mapping[str, Any]]) -> str:
    """The ladder diagram of a journal (entries or their JSON objects) as an SVG document."""
    items = as_entries(entries)
    lanes = lanes_of(items)
    x = {lane.id: TIME_W + LANE_W // 2 + i * LANE_W for i, lane in enumerate(lanes)}
    width = TIME_W + max(1, len(lanes)) * LANE_W + 10
    body: list[str] = []
    y = TITLE_H + HEAD_H + 16
    for entry in items:
        if entry.kind in ("session", "party"):
            continue
        row = ROW_H + (DETAIL_H if _details(entry) else 0)
        body.append(f'<text class="time" x="4" y="{y + 4}">+{round(entry.t * 1000)} ms</text>')
        if entry.kind == "truncated":
            body.append(_truncated(entry, y, width))
        elif entry.arrow and entry.src in x and entry.dst in x and entry.src != entry.dst:
            body.append(_arrow(entry, x[entry.src], x[entry.dst], y))
        else:
            body.append(_note(entry, x.get(entry.src, x.get(SESSION_LANE, TIME_W)), y))
        y += row
    height = y + 10
    head = _heads(lanes, x, height)
    title = _title(items)
    return "".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" ',
            f'viewBox="0 0 {width} {height}">\n',
            f"<title>{xml_text(title)}</title>\n<style>{STYLE}</style>\n",
            "<defs>",
            _marker("a", "#222"),
            _marker("m", "#1565c0"),
            "</defs>\n",
            f'<rect width="{width}" height="{height}" fill="#fff"/>\n',
            f'<text class="title" x="8" y="20">{xml_text(title, 120)}</text>\n',
            *head,
            *(f"{part}\n" for part in body),
            "</svg>\n",
        ]
    )


def _title(items: list[Entry]) -> str:
    first = next((e for e in items if e.kind == "session"), None)
    if first is None:
        return "voxpy call flow"
    started = first.field("started_at")
    return f"voxpy call flow: {first.label}" + (f", started {started}" if started else "")


def _marker(name: str, colour: str) -> str:
    return (
        f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>'
    )


def _heads(lanes: list[Lane], x: dict[str, int], height: int) -> list[str]:
    out = []
    top = TITLE_H
    for lane in lanes:
        cx = x[lane.id]
        kind = " session" if lane.id == SESSION_LANE else ""
        out.append(
            f'<g class="lane{kind}"><title>{xml_text(lane.title)}</title>'
            f'<rect x="{cx - LANE_W // 2 + 6}" y="{top}" width="{LANE_W - 12}" '
            f'height="{HEAD_H - 10}" rx="4"/><text x="{cx}" y="{top + 19}" text-anchor="middle">'
            f"{xml_text(lane.label, 22)}</text></g>\n"
            f'<line class="life" x1="{cx}" y1="{top + HEAD_H - 10}" x2="{cx}" y2="{height - 6}"/>\n'
        )
    return out


def _details(entry: Entry) -> str:
    """The first two fields worth a line: not ids, not what the label already says."""
    shown = [
        f"{k}: {v}"
        for k, v in entry.fields
        if k != "side" and not k.endswith("_id") and v[:30] not in entry.label
    ]
    return "  ".join(shown[:2])


def _tooltip(entry: Entry) -> str:
    lines = [entry.label, *(f"{k}: {v}" for k, v in entry.fields)]
    return f"<title>{xml_text(chr(10).join(lines), 2000)}</title>"


def _arrow(entry: Entry, x1: int, x2: int, y: int) -> str:
    mid = (x1 + x2) // 2
    room = max(12, int(abs(x2 - x1) / CHAR_W))
    marker = "m" if entry.kind == "media" else "a"
    parts = [
        f'<g class="{entry.kind}">{_tooltip(entry)}',
        f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" marker-end="url(#{marker})"/>',
        f'<text x="{mid}" y="{y - 4}" text-anchor="middle">{xml_text(entry.label, room)}</text>',
    ]
    if detail := _details(entry):
        parts.append(
            f'<text class="detail" x="{mid}" y="{y + 11}" text-anchor="middle">'
            f"{xml_text(detail, int(room * 1.2))}</text>"
        )
    return "".join(parts) + "</g>"


def _note(entry: Entry, cx: int, y: int) -> str:
    text = clip(entry.label, 48)
    w = max(LANE_W - 16, int(len(text) * CHAR_W) + 12)
    kind = entry.kind if entry.kind in ("error", "media") else "event"
    parts = [
        f'<g class="note {kind}">{_tooltip(entry)}',
        f'<rect x="{cx - w // 2}" y="{y - 14}" width="{w}" height="19" rx="3"/>',
        f'<text x="{cx}" y="{y}" text-anchor="middle">{xml_text(text)}</text>',
    ]
    if detail := _details(entry):
        parts.append(
            f'<text class="detail" x="{cx}" y="{y + 16}" text-anchor="middle">'
            f"{xml_text(detail, 60)}</text>"
        )
    return "".join(parts) + "</g>"


def _truncated(entry: Entry, y: int, width: int) -> str:
    said = ", ".join(f"{k} {v}" for k, v in entry.fields)
    return (
        f'<g class="truncated">{_tooltip(entry)}<rect x="{TIME_W}" y="{y - 14}" '
        f'width="{width - TIME_W - 10}" height="19"/><text x="{TIME_W + 8}" y="{y}">'
        f"{xml_text(f'{entry.label} ({said})', 140)}</text></g>"
    )
