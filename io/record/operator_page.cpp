// GET /: the status page. One self-contained file: its CSS and script are inline, it loads
// nothing from anywhere (its Content-Security-Policy forbids it), and it reads only /status,
// once a second. Everything it shows comes from /status (docs/OPERATIONS.md), so the page and
// `booktape top` cannot disagree. Text from the venue (market slugs, outcomes) is set with
// textContent, never parsed as HTML.
#include <string>

#include "io/record/operator_http.hpp"

namespace booktape {

const std::string& operator_page_html() {
  static const std::string kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>booktape</title>
<style>
  :root { --bg:#0f1419; --panel:#182029; --line:#2a3541; --text:#d8dee6; --dim:#8696a7;
          --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; padding:16px 20px; background:var(--bg); color:var(--text);
         font:13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  h1 { font-size:16px; margin:0 0 4px; }
  h2 { font-size:12px; margin:0 0 8px; color:var(--dim); text-transform:uppercase;
       letter-spacing:.06em; font-weight:600; }
  #line { color:var(--dim); margin-bottom:14px; white-space:pre-wrap; }
  .cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(220px, 1fr)); gap:10px;
           margin-bottom:14px; }
  .card { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:10px 12px; }
  .big { font-size:22px; font-weight:600; }
  .sub { color:var(--dim); }
  table { width:100%; border-collapse:collapse; background:var(--panel);
          border:1px solid var(--line); border-radius:6px; margin-bottom:14px; }
  th, td { padding:4px 8px; text-align:right; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:600; position:sticky; top:0; background:var(--panel); }
  td.l, th.l { text-align:left; }
  .ok { color:var(--ok); } .warn { color:var(--warn); } .bad { color:var(--bad); }
  tr.silent td { background:rgba(248,81,73,.12); }
  svg { display:block; width:100%; height:44px; margin-top:4px; }
  #alerts li { margin:2px 0; }
  #stamp.bad { font-weight:600; }
</style>
</head>
<body>
<h1>booktape <span class="sub" id="run"></span></h1>
<div id="line">waiting for /status ...</div>
<div class="cards">
  <div class="card"><h2>Connections</h2>
    <div class="big"><span id="conns-up">-</span> / <span id="conns-total">-</span> up</div>
    <div class="sub">reconnects <span id="reconnects">-</span></div></div>
  <div class="card"><h2>Frames</h2>
    <div class="big"><span id="fps">-</span> /s</div>
    <div class="sub">total <span id="frames-total">-</span></div>
    <svg id="spark" viewBox="0 0 120 40" preserveAspectRatio="none"></svg></div>
  <div class="card"><h2>Books</h2>
    <div class="big"><span class="ok" id="books-live">-</span> live</div>
    <div class="sub"><span id="books-stale">-</span> stale, <span id="books-unconfirmed">-</span>
      unconfirmed, <span id="books-awaiting">-</span> awaiting a snapshot</div></div>
  <div class="card"><h2>Latency, read &rarr; book</h2>
    <div class="big" id="lat-book-p99">-</div>
    <div class="sub" id="lat-book">-</div></div>
  <div class="card"><h2>Latency, read &rarr; archive</h2>
    <div class="big" id="lat-archive-p99">-</div>
    <div class="sub" id="lat-archive">-</div></div>
  <div class="card"><h2>Archive disk</h2>
    <div class="big" id="disk-used">-</div>
    <div class="sub"><span id="disk-free">-</span> free of <span id="disk-total">-</span></div>
    <div class="sub" id="disk-path"></div></div>
</div>
<div class="cards"><div class="card"><h2>Last alerts</h2><ul id="alerts"><li class="sub">none</li></ul></div></div>
<h2>Markets (top of book)</h2>
<table><thead><tr><th class="l">market</th><th class="l">outcome</th><th class="l">state</th>
  <th>bid</th><th>ask</th><th>spread bps</th><th>last trade</th><th>age s</th><th>upd/s</th></tr></thead>
  <tbody id="tokens"></tbody></table>
<div class="sub" id="tokens-more"></div>
<h2>Connections</h2>
<table><thead><tr><th>conn</th><th class="l">state</th><th>assets</th><th>frames</th><th>bytes</th>
  <th>up s</th><th>last data s</th><th class="l">last close</th></tr></thead>
  <tbody id="connections"></tbody></table>
<div class="sub">updated <span id="stamp">never</span></div>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const SILENT_SECONDS = 10;  // seed 003: a book silent this long is an alert
function set(id, text) { $(id).textContent = text; }
function us(ns) {
  if (ns == null) return "-";
  if (ns >= 1e9) return (ns / 1e9).toFixed(2) + " s";
  if (ns >= 1e6) return (ns / 1e6).toFixed(2) + " ms";
  return (ns / 1e3).toFixed(1) + " us";
}
function bytes(n) {
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; ++i; }
  return n.toFixed(i ? 1 : 0) + " " + u[i];
}
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "-" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
}
function latency(prefix, h) {
  set(prefix + "-p99", "p99 " + us(h.p99_ns));
  set(prefix, "avg " + us(h.avg_ns) + ", p50 " + us(h.p50_ns) + ", p95 " + us(h.p95_ns) +
      ", max " + us(h.max_ns) + " (" + h.count + " frames)");
}
function sparkline(values) {
  const svg = $("spark");
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  if (values.length < 2) return;
  const max = Math.max(1, ...values);
  const pts = values.map((v, i) =>
    (i * 120 / (values.length - 1)).toFixed(1) + "," + (38 - 36 * v / max).toFixed(1));
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", pts.join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#58a6ff");
  line.setAttribute("stroke-width", "1.5");
  line.setAttribute("vector-effect", "non-scaling-stroke");
  svg.appendChild(line);
}
function render(s) {
  set("run", s.run_id + "  v" + s.version);
  set("line", s.status_line || "");
  const n = s.network, b = s.books_by_state || {};
  set("conns-up", n.live_connections);
  set("conns-total", n.shards);
  set("reconnects", n.disconnects);
  set("fps", Math.round(s.frames_per_second));
  set("frames-total", n.frames);
  sparkline(s.frames_history || []);
  set("books-live", b.live || 0);
  set("books-stale", b.stale || 0);
  set("books-unconfirmed", b.unconfirmed || 0);
  set("books-awaiting", b.awaiting_snapshot || 0);
  latency("lat-book", s.latency.read_to_book);
  latency("lat-archive", s.latency.read_to_archive);
  set("disk-used", bytes(s.disk.archive_bytes));
  set("disk-free", bytes(s.disk.free_bytes));
  set("disk-total", bytes(s.disk.total_bytes));
  set("disk-path", s.disk.path);

  const alerts = $("alerts");
  alerts.replaceChildren();
  for (const a of (s.alerts || []).slice(0, 10)) {
    const li = document.createElement("li");
    li.textContent = (a.fired_at_utc || "") + "  " + (a.rule || "") + "  " +
                     (a.market || a.asset_id || "") + (a.value != null ? "  " + a.value : "");
    alerts.appendChild(li);
  }
  if (!alerts.firstChild) {
    const li = document.createElement("li");
    li.className = "sub";
    li.textContent = "none";
    alerts.appendChild(li);
  }

  const tbody = $("tokens");
  tbody.replaceChildren();
  for (const t of s.tokens.items) {
    const tr = document.createElement("tr");
    tr.dataset.asset = t.asset_id;
    const silent = t.age_seconds != null && t.age_seconds > SILENT_SECONDS;
    if (silent) tr.className = "silent";
    cell(tr, t.market || t.asset_id, "l");
    cell(tr, t.outcome, "l");
    cell(tr, t.state, "l " + (t.state === "live" ? "ok" : t.state === "stale" ? "bad" : "warn"));
    cell(tr, t.best_bid, "bid");
    cell(tr, t.best_ask, "ask");
    cell(tr, t.spread_bps == null ? null : t.spread_bps.toFixed(1));
    cell(tr, t.last_trade_price);
    cell(tr, t.age_seconds == null ? null : t.age_seconds.toFixed(1), silent ? "bad" : "");
    cell(tr, t.updates_per_second.toFixed(1));
    tbody.appendChild(tr);
  }
  set("tokens-more", s.tokens.count > s.tokens.listed ?
      "showing " + s.tokens.listed + " of " + s.tokens.count + " tokens" : "");

  const cbody = $("connections");
  cbody.replaceChildren();
  for (const c of s.connections) {
    const tr = document.createElement("tr");
    cell(tr, c.connection);
    cell(tr, c.up ? "up" : "down", "l " + (c.up ? "ok" : "bad"));
    cell(tr, c.assets);
    cell(tr, c.frames);
    cell(tr, bytes(c.bytes));
    cell(tr, c.up_seconds == null ? null : Math.round(c.up_seconds));
    cell(tr, c.last_data_age_seconds == null ? null : c.last_data_age_seconds.toFixed(1));
    cell(tr, c.last_close, "l sub");
    cbody.appendChild(tr);
  }
  set("stamp", s.now_utc);
  $("stamp").className = "";
}
async function tick() {
  try {
    const r = await fetch("/status?tokens=500", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
  } catch (e) {
    $("stamp").className = "bad";
    set("line", "cannot read /status: " + e.message);
  }
}
tick();
setInterval(tick, 1000);
</script>
</body>
</html>
)html";
  return kPage;
}

}  // namespace booktape
