"""The console's HTML, rendered on the server from ``string.Template`` skeletons.

Every value that comes from a session (custom data, caller ids, numbers, reasons, event
names) goes through :func:`h` (``html.escape``, quotes included) before it reaches a
template; the templates' own ``$`` fields take nothing else. The pages work without script;
``console.js`` (no inline script: the CSP forbids it) then keeps the overview fresh and
draws the charts. The JS builds its rows with ``textContent``, never ``innerHTML``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from string import Template
from typing import Any
from urllib.parse import quote

_PAGE = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title · voxpy console</title>
<link rel="stylesheet" href="/console/static/console.css?v=$css_version">
<script type="module" src="/console/static/console.js?v=$js_version"></script>
</head><body data-page="$page">
<header><a class="brand" href="/console">voxpy console</a>
<span class="health">$health</span></header>
<main>
$body
</main></body></html>
""")

_OVERVIEW = Template("""<h1>Overview</h1>
<p class="refresh">Live: polls <code>/console/state.json</code> every 1.5 s
(<span id="updated">not yet</span>).</p>
<section><h2>Workers</h2>
<table id="workers"><thead><tr><th>Worker</th><th>PID</th><th>Up</th><th>Ready</th>
<th>Restarts</th><th>Live calls</th><th>Sessions</th><th>Last exit</th></tr></thead>
<tbody>$workers</tbody></table></section>
<section><h2>Figures</h2><div class="charts">$charts</div></section>
<section><h2>Live sessions</h2>
<table id="live"><thead><tr><th>Session</th><th>Worker</th><th>Started</th><th>State</th>
<th>Custom data</th><th>Calls</th></tr></thead><tbody>$live</tbody></table></section>
<section><h2>Finished sessions <small id="finished-count">$finished_count</small></h2>
<table id="finished"><thead><tr><th>Session</th><th>Worker</th><th>Ended</th>
<th>Outcome</th><th>Duration, s</th><th>Custom data</th><th>Calls</th></tr></thead>
<tbody>$finished</tbody></table></section>""")

_SESSION = Template("""<h1>Session <code>$session_id</code></h1>
<dl class="facts" id="facts" data-session="$session_id" data-state="$state">
<dt>State</dt><dd id="state">$state</dd><dt>Outcome</dt><dd id="outcome">$outcome</dd>
<dt>Worker</dt><dd>$worker</dd><dt>Started</dt><dd>$started</dd>
<dt>Ended</dt><dd>$ended</dd><dt>Duration, s</dt><dd>$duration</dd>
<dt>Handler errors</dt><dd>$errors</dd>
<dt>Custom data</dt><dd><pre id="custom-data">$custom_data</pre></dd></dl>
<section><h2>Calls</h2><table id="calls"><thead><tr><th>Call</th><th>Direction</th>
<th>Caller id</th><th>Number</th><th>State</th><th>Code</th><th>Reason</th>
<th>Duration, s</th></tr></thead><tbody>$calls</tbody></table></section>
<section id="diagram"><h2>Call flow</h2>
<img id="flow" src="$flow" alt="call-flow (ladder) diagram of this session">
<p id="no-journal" class="empty" hidden>No journal for this session: the server keeps call-flow
journals only with <code>journal.dir</code> set (<code>voxpy serve --journal-dir DIR</code>).</p>
</section>
<section><h2>Recordings</h2><div id="recordings">$recordings</div></section>
<section><h2>Timeline</h2><table id="timeline"><thead><tr><th>At, s</th><th>Event</th>
<th>Call</th></tr></thead><tbody>$timeline</tbody></table>$dropped</section>""")

CHARTS = (
    ("live_calls", "Live calls"),
    ("sessions", "Sessions"),
    ("calls_started", "Calls started (total)"),
    ("invites_refused", "INVITEs refused (total)"),
)


def h(value: object) -> str:
    """``value`` as HTML text: ``<``, ``>``, ``&`` and both quotes escaped; None is empty."""
    return "" if value is None else escape(str(value), quote=True)


def _row(cells: Iterable[str], attrs: str = "") -> str:
    return f"<tr{attrs}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _empty(columns: int, text: str) -> str:
    return f'<tr class="empty"><td colspan="{columns}">{h(text)}</td></tr>'


def session_link(session_id: object) -> str:
    href = "/console/sessions/" + quote(str(session_id), safe="")
    return f'<a href="{h(href)}"><code>{h(session_id)}</code></a>'


def calls_summary(calls: Iterable[Mapping[str, Any]]) -> str:
    """One short text per call: ``in alice -> 100 CONNECTED`` or ``out ... 486``."""
    parts = []
    for c in calls:
        end = c.get("code") if c.get("code") is not None else c.get("state", "")
        way = "in" if c.get("incoming") else "out"
        parts.append(f"{way} {c.get('callerid', '')} → {c.get('number', '')} {end}")
    return h("; ".join(parts))


def page(title: str, name: str, body: str, health: str, versions: Mapping[str, str]) -> str:
    return _PAGE.substitute(
        title=h(title), page=h(name), body=body, health=h(health),
        css_version=h(versions["css"]), js_version=h(versions["js"]),
    )  # fmt: skip


def health_text(health: Mapping[str, Any]) -> str:
    kamailio = "up" if health.get("kamailio") else "down"
    text = f"Kamailio {kamailio} · workers {health.get('workers_up', 0)}/{health.get('workers', 0)}"
    return text + (" · draining" if health.get("draining") else "")


def _worker_row(w: Mapping[str, Any]) -> str:
    cells = (w["worker"], w["pid"], "yes" if w["up"] else "no", "yes" if w["ready"] else "no",
             w["restarts"], w["live_calls"], w["sessions"], w["last_exit"] or "")  # fmt: skip
    return _row(map(h, cells), f' data-worker="{h(w["worker"])}"')


def _live_row(s: Mapping[str, Any]) -> str:
    cells = [session_link(s["session_id"])]
    cells += map(h, (s.get("worker"), s.get("started_at"), s.get("state"), s.get("custom_data")))
    cells.append(calls_summary(s.get("calls", [])))
    return _row(cells, f' data-session="{h(s["session_id"])}"')


def _finished_row(s: Mapping[str, Any]) -> str:
    outcome = h(s.get("outcome"))
    cells = [session_link(s["session_id"]), h(s.get("worker")), h(s.get("ended_at"))]
    cells.append(f'<span class="outcome {outcome}">{outcome}</span>')
    cells += map(h, (s.get("duration"), s.get("custom_data")))
    cells.append(calls_summary(s.get("calls", [])))
    return _row(cells, f' data-session="{h(s["session_id"])}"')


def _chart(key: str, label: str, value: float) -> str:
    return (
        f'<figure class="chart" data-figure="{h(key)}" data-count="0"><figcaption>{h(label)}'
        f' <span class="now">{h(int(value))}</span></figcaption>'
        '<svg viewBox="0 0 240 60" preserveAspectRatio="none" role="img">'
        '<polyline points=""></polyline></svg></figure>'
    )


def finished_count(state: Mapping[str, Any]) -> str:
    """``(newest 100 of 2345)`` when the list is cut, else empty."""
    shown, total = len(state["finished"]), int(state.get("finished_total", 0))
    return f"(newest {shown} of {total})" if total > shown else ""


def overview_body(state: Mapping[str, Any]) -> str:
    figures = state["figures"]
    return _OVERVIEW.substitute(
        workers="".join(map(_worker_row, state["workers"])) or _empty(8, "no workers"),
        charts="".join(_chart(key, label, figures.get(key, 0)) for key, label in CHARTS),
        live="".join(map(_live_row, state["live"])) or _empty(6, "no live sessions"),
        finished_count=finished_count(state),
        finished="".join(map(_finished_row, state["finished"]))
        or _empty(7, "no finished sessions kept"),
    )


def _call_row(c: Mapping[str, Any]) -> str:
    cells = [f"<code>{h(c.get('call_id'))}</code>", h("in" if c.get("incoming") else "out")]
    cells += (h(c.get(k)) for k in ("callerid", "number", "state", "code", "reason", "duration"))
    return _row(cells)


def session_body(session: Mapping[str, Any], recordings: Iterable[str]) -> str:
    session_id = str(session["session_id"])
    calls = "".join(map(_call_row, session.get("calls", []))) or _empty(8, "no calls")
    timeline = "".join(
        _row((h(e.get("at")), h(e.get("name")), f"<code>{h(e.get('call_id'))}</code>"))
        for e in session.get("events", [])
    ) or _empty(3, "events are listed once the session has finished")
    dropped = session.get("events_dropped") or 0
    audio = (
        "".join(
            f'<figure class="recording"><figcaption>{h(name)}</figcaption>'
            f'<audio controls preload="metadata" src="/recordings/{h(quote(name))}"></audio>'
            f'<a href="/recordings/{h(quote(name))}" download>download</a></figure>'
            for name in recordings
        )
        or '<p class="empty">No recordings of this session.</p>'
    )
    return _SESSION.substitute(
        session_id=h(session_id),
        state=h(session.get("state")),
        outcome=h(session.get("outcome", "—")),
        worker=h(session.get("worker")),
        started=h(session.get("started_at")),
        ended=h(session.get("ended_at", "—")),
        duration=h(session.get("duration", "—")),
        errors=h(session.get("handler_errors", 0)),
        custom_data=h(session.get("custom_data")),
        calls=calls,
        flow=h("/sessions/" + quote(session_id, safe="") + "/flow.svg"),
        recordings=audio,
        timeline=timeline,
        dropped=f"<p>{h(dropped)} later events not kept.</p>" if dropped else "",
    )
