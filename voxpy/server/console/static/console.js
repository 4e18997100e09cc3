// voxpy console: keeps the server-rendered pages fresh. No build step, no framework.
// Rows are built with textContent only (never innerHTML), so a session's custom data or
// caller id stays text whatever it holds.

const POLL_MS = 1500; // the overview and a live session's page poll this often
const POINTS = 120; // chart points kept: 3 minutes at POLL_MS

const series = new Map(); // figure -> [values]

function cell(row, text, code = false) {
  const td = document.createElement("td");
  const holder = code ? document.createElement("code") : td;
  holder.textContent = text === null || text === undefined ? "" : String(text);
  if (code) td.append(holder);
  row.append(td);
  return td;
}

function sessionCell(row, id) {
  const td = document.createElement("td");
  const a = document.createElement("a");
  a.href = "/console/sessions/" + encodeURIComponent(id);
  const code = document.createElement("code");
  code.textContent = id;
  a.append(code);
  td.append(a);
  row.append(td);
}

function callsText(calls) {
  return (calls || [])
    .map((c) => {
      const end = c.code !== null && c.code !== undefined ? c.code : c.state || "";
      return `${c.incoming ? "in" : "out"} ${c.callerid || ""} → ${c.number || ""} ${end}`;
    })
    .join("; ");
}

function fill(tableId, items, columns, build, emptyText) {
  const body = document.querySelector(`#${tableId} tbody`);
  if (!body) return;
  const rows = items.map((item) => {
    const row = document.createElement("tr");
    build(row, item);
    return row;
  });
  if (rows.length === 0) {
    const row = document.createElement("tr");
    row.className = "empty";
    const td = cell(row, emptyText);
    td.colSpan = columns;
    rows.push(row);
  }
  body.replaceChildren(...rows);
}

function drawChart(figure, value) {
  const key = figure.dataset.figure;
  const values = series.get(key) || [];
  values.push(value);
  if (values.length > POINTS) values.shift();
  series.set(key, values);
  const top = Math.max(1, ...values);
  const step = 240 / Math.max(values.length - 1, 1); // the samples so far fill the width
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(58 - (v / top) * 56).toFixed(1)}`);
  figure.querySelector("polyline").setAttribute("points", points.join(" "));
  figure.querySelector(".now").textContent = String(Math.round(value));
  figure.dataset.count = String(values.length);
}

function render(state) {
  fill("workers", state.workers, 8, (row, w) => {
    row.dataset.worker = w.worker;
    for (const v of [w.worker, w.pid, w.up ? "yes" : "no", w.ready ? "yes" : "no", w.restarts,
      w.live_calls, w.sessions, w.last_exit ? JSON.stringify(w.last_exit) : ""]) cell(row, v);
  }, "no workers");
  fill("live", state.live, 6, (row, s) => {
    row.dataset.session = s.session_id;
    sessionCell(row, s.session_id);
    for (const v of [s.worker, s.started_at, s.state, s.custom_data, callsText(s.calls)]) cell(row, v);
  }, "no live sessions");
  fill("finished", state.finished, 7, (row, s) => {
    row.dataset.session = s.session_id;
    sessionCell(row, s.session_id);
    cell(row, s.worker);
    cell(row, s.ended_at);
    const outcome = document.createElement("span");
    outcome.className = "outcome " + String(s.outcome);
    outcome.textContent = s.outcome;
    const td = document.createElement("td");
    td.append(outcome);
    row.append(td);
    for (const v of [s.duration, s.custom_data, callsText(s.calls)]) cell(row, v);
  }, "no finished sessions kept");
  const shown = state.finished.length;
  document.getElementById("finished-count").textContent =
    state.finished_total > shown ? `(newest ${shown} of ${state.finished_total})` : "";
  for (const figure of document.querySelectorAll("figure.chart")) {
    drawChart(figure, Number(state.figures[figure.dataset.figure] || 0));
  }
  const h = state.health;
  document.querySelector("header .health").textContent =
    `Kamailio ${h.kamailio ? "up" : "down"} · workers ${h.workers_up}/${h.workers}` +
    (h.draining ? " · draining" : "");
  document.getElementById("updated").textContent =
    "updated " + new Date(state.at * 1000).toLocaleTimeString();
}

async function poll(url, onData) {
  // One request at a time: the next is scheduled when this one is done, so a slow server
  // is never asked twice at once.
  try {
    const reply = await fetch(url, { cache: "no-store", credentials: "same-origin" });
    if (reply.status === 401) {
      location.reload(); // signed out (cookie gone): show the 401 page
      return;
    }
    if (reply.ok && onData(await reply.json()) === false) return;
  } catch (err) {
    console.warn("console poll failed", err);
  }
  setTimeout(() => poll(url, onData), POLL_MS);
}

function sessionPage() {
  const flow = document.getElementById("flow");
  const noJournal = document.getElementById("no-journal");
  const diagram = document.getElementById("diagram");
  // decode() settles whether the image loaded before or after this module ran, and rejects on
  // a 404 (no journal) or a body that is not an image.
  flow.decode().then(
    () => (diagram.dataset.state = "shown"),
    () => {
      flow.hidden = true;
      noJournal.hidden = false;
      diagram.dataset.state = "missing";
    },
  );
  const facts = document.getElementById("facts");
  if (facts.dataset.state === "finished") return;
  const url = `/console/sessions/${encodeURIComponent(facts.dataset.session)}/state.json`;
  poll(url, (data) => {
    if (data.state !== facts.dataset.state) {
      location.reload(); // it changed (finished): the server renders its record
      return false;
    }
    return true;
  });
}

if (document.body.dataset.page === "overview") poll("/console/state.json", render);
if (document.body.dataset.page === "session") sessionPage();
