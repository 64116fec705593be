// curate review: a virtualized, keyboard-first grid over every crop in the manifest.
// Only the tiles in view (plus a margin) exist in the DOM, so 50,000 crops scroll smoothly.
// Decisions update the page at once and are sent in order in the background; the server
// commits each before answering. Nothing reloads, nothing asks for confirmation.
"use strict";

const TOKEN = document.body.dataset.token;
const TILE = 132, GAP = 6, ROW = TILE + GAP, MARGIN_ROWS = 3;
const $ = (id) => document.getElementById(id);
const viewport = $("viewport"), tilesBox = $("tiles"), spacer = $("spacer");

const state = {
  rows: [], byId: new Map(), reasons: [], view: [], cursor: 0, anchor: null,
  lastReason: null, undo: [], detailOpen: false, detail: null,
  local: new Map(), complete: false, // decisions made before the full list arrived
};
const live = new Map(); // crop id → tile element currently in the DOM
let queue = Promise.resolve(); // POSTs go out one after another, in the order made

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-Curate-Token": TOKEN },
  };
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function send(path, body) {
  queue = queue.then(() => api(path, body)).then(
    () => { $("error").hidden = true; },
    (error) => { $("error").textContent = `Not saved: ${error.message}. Reload to see what is stored.`; $("error").hidden = false; },
  );
  return queue;
}

// --- filters and order -----------------------------------------------------------------

function applyFilters(keepId) {
  const status = $("f-status").value, cls = $("f-class").value, source = $("f-source").value;
  const min = parseFloat($("f-min").value || "0"), max = parseFloat($("f-max").value || "1");
  const dupes = $("f-dupes").checked, sort = $("f-sort").value;
  state.view = state.rows.filter((r) =>
    (status === "all" || r.decision === status) && (!cls || r.class === cls) && (!source || r.source === source) &&
    r.confidence >= min && r.confidence <= max && (!dupes || r.cluster !== null));
  const key = sort.replace("-", "");
  if (key !== "id") {
    const sign = sort.startsWith("-") ? -1 : 1;
    state.view.sort((a, b) => (a[key] < b[key] ? -sign : a[key] > b[key] ? sign : a.id - b.id));
  }
  const at = keepId === undefined ? -1 : state.view.findIndex((r) => r.id === keepId);
  state.cursor = Math.max(0, at);
  state.anchor = null;
  spacer.style.height = `${Math.ceil(state.view.length / columns()) * ROW}px`;
  for (const tile of live.values()) tile.remove();
  live.clear();
  render();
  scrollToCursor();
  updateHeader();
}

function fillSelect(select, values) {
  for (const value of [...new Set(values)].sort()) select.add(new Option(value, value));
}

// --- the virtual grid ------------------------------------------------------------------

function columns() { return Math.max(1, Math.floor((viewport.clientWidth - GAP + GAP) / (TILE + GAP))); }

function selection() {
  if (state.anchor === null) return [state.cursor];
  const [a, b] = [Math.min(state.anchor, state.cursor), Math.max(state.anchor, state.cursor)];
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

function render() {
  const cols = columns();
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - MARGIN_ROWS);
  const last = Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW) + MARGIN_ROWS;
  const from = first * cols, to = Math.min(state.view.length, (last + 1) * cols);
  const wanted = new Set();
  const selected = new Set(selection());
  for (let i = from; i < to; i++) {
    const row = state.view[i];
    wanted.add(row.id);
    let tile = live.get(row.id);
    if (!tile) {
      tile = document.createElement("div");
      tile.dataset.id = row.id;
      const img = document.createElement("img");
      img.loading = "lazy"; img.decoding = "async"; img.alt = ""; img.src = `/thumb/${row.id}`;
      const label = document.createElement("div");
      label.className = "label";
      tile.append(img, label);
      tilesBox.append(tile);
      live.set(row.id, tile);
    }
    tile.style.transform = `translate(${(i % cols) * (TILE + GAP) + GAP}px, ${Math.floor(i / cols) * ROW + GAP}px)`;
    tile.dataset.index = i;
    tile.className = `tile ${row.decision}` + (i === state.cursor ? " cursor" : "") + (selected.has(i) && state.anchor !== null ? " selected" : "");
    tile.lastChild.textContent = row.decision === "reject" ? `✗ ${row.reason || ""}` : `${row.class} ${row.confidence.toFixed(2)}`;
    let badge = tile.querySelector(".dupe");
    if (row.cluster !== null && !badge) {
      badge = document.createElement("span"); badge.className = "dupe"; tile.append(badge);
    }
    if (badge) badge.textContent = row.representative ? "kept dup" : "dup";
  }
  for (const [id, tile] of live) if (!wanted.has(id)) { tile.remove(); live.delete(id); }
}

function scrollToCursor() {
  const top = Math.floor(state.cursor / columns()) * ROW;
  if (top < viewport.scrollTop) viewport.scrollTop = top;
  else if (top + ROW > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW - viewport.clientHeight + GAP;
  render();
}

function move(delta, extend) {
  if (!state.view.length) return;
  if (extend && state.anchor === null) state.anchor = state.cursor;
  if (!extend) state.anchor = null;
  state.cursor = Math.min(state.view.length - 1, Math.max(0, state.cursor + delta));
  scrollToCursor();
  if (state.detailOpen) openDetail();
}

// --- decisions -------------------------------------------------------------------------

function decide(decision, reason) {
  if (!state.view.length) return;
  const indices = selection();
  const rows = indices.map((i) => state.view[i]);
  state.undo.push(rows.map((r) => ({ id: r.id, decision: r.decision, reason: r.reason })));
  for (const r of rows) {
    r.decision = decision; r.reason = decision === "reject" ? reason : null;
    if (!state.complete) state.local.set(r.id, { decision: r.decision, reason: r.reason });
  }
  send("/api/decide", { items: rows.map((r) => ({ id: r.id, decision, reason: r.reason })) });
  state.anchor = null;
  state.cursor = Math.min(state.view.length - 1, Math.max(...indices) + 1); // move on by itself
  updateHeader();
  scrollToCursor();
  if (state.detailOpen) openDetail();
}

function undo() {
  const previous = state.undo.pop();
  if (!previous) return;
  for (const p of previous) {
    Object.assign(state.byId.get(p.id), { decision: p.decision, reason: p.reason });
    if (!state.complete) state.local.set(p.id, { decision: p.decision, reason: p.reason });
  }
  send("/api/decide", { items: previous });
  const at = state.view.findIndex((r) => r.id === previous[0].id);
  if (at >= 0) state.cursor = at;
  state.anchor = null;
  updateHeader();
  scrollToCursor();
}

function updateHeader() {
  const reviewed = state.rows.filter((r) => r.decision !== "pending").length;
  $("progress").textContent = state.complete
    ? `reviewed ${reviewed} of ${state.rows.length} · showing ${state.view.length}`
    : `loading… (first ${state.rows.length} shown)`;
  const counts = {};
  for (const r of state.rows) if (r.decision === "reject") counts[r.reason || "other"] = (counts[r.reason || "other"] || 0) + 1;
  $("rejections").textContent = Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(" · ");
}

// --- detail view -----------------------------------------------------------------------

async function openDetail() {
  const row = state.view[state.cursor];
  if (!row) return;
  state.detailOpen = true;
  $("detail").hidden = false;
  const detail = await api(`/api/crops/${row.id}`);
  if (state.view[state.cursor]?.id !== row.id) return; // the cursor moved on meanwhile
  state.detail = detail;
  $("detail-title").textContent = detail.title || `crop ${detail.id}`;
  const fields = {
    source: detail.source, object: detail.object_id, licence: detail.license || "unknown",
    class: detail.class_name, confidence: detail.confidence.toFixed(3),
    decision: detail.decision + (detail.reason ? ` (${detail.reason})` : ""), image: detail.url,
  };
  const dl = $("detail-fields");
  dl.replaceChildren();
  for (const [k, v] of Object.entries(fields)) dl.append(Object.assign(document.createElement("dt"), { textContent: k }), Object.assign(document.createElement("dd"), { textContent: v ?? "" }));
  if (detail.page_url) {
    const link = Object.assign(document.createElement("a"), { href: detail.page_url, textContent: "object page ↗", target: "_blank", rel: "noopener noreferrer" });
    const dd = document.createElement("dd");
    dd.append(link);
    dl.append(Object.assign(document.createElement("dt"), { textContent: "page" }), dd);
  }
  drawOriginal(detail);
  const cluster = $("detail-cluster");
  cluster.replaceChildren();
  if (!detail.members.length) cluster.textContent = "none";
  for (const id of detail.members) {
    const figure = document.createElement("figure");
    figure.className = (id === detail.representative ? "kept" : "") + (id === detail.id ? " current" : "");
    figure.append(Object.assign(document.createElement("img"), { src: `/thumb/${id}`, alt: "" }),
      Object.assign(document.createElement("figcaption"), { textContent: id === detail.representative ? "kept" : "duplicate" }));
    cluster.append(figure);
  }
}

function drawOriginal(detail) {
  const image = new Image();
  image.onload = () => {
    const canvas = $("detail-canvas");
    canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(image, 0, 0);
    ctx.lineWidth = Math.max(2, image.naturalWidth / 300);
    ctx.strokeStyle = "#f0c24b";
    ctx.strokeRect(detail.x0, detail.y0, detail.x1 - detail.x0, detail.y1 - detail.y0);
  };
  image.src = `/original/${detail.id}`;
}

function closeOverlays() {
  state.detailOpen = false;
  $("detail").hidden = true;
  $("help").hidden = true;
}

async function makeRepresentative() {
  const row = state.view[state.cursor];
  if (!row || row.cluster === null) return;
  await send("/api/representative", { id: row.id });
  for (const r of state.rows) if (r.cluster === row.cluster) r.representative = r.id === row.id ? 1 : 0;
  render();
  if (state.detailOpen) openDetail();
}

// --- input -----------------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if (event.target.closest("header")) return; // typing in a filter
  const cols = columns(), key = event.key, shift = event.shiftKey;
  const moves = { ArrowLeft: -1, h: -1, ArrowRight: 1, l: 1, ArrowUp: -cols, k: -cols, ArrowDown: cols, j: cols, H: -1, L: 1, K: -cols, J: cols };
  if (key in moves) { move(moves[key], shift); event.preventDefault(); return; }
  if (key === "x") decide("reject", state.lastReason || state.reasons[0]);
  else if (/^[1-8]$/.test(key)) { state.lastReason = state.reasons[Number(key) - 1]; decide("reject", state.lastReason); }
  else if (key === "a") decide("keep", null);
  else if (key === "u") undo();
  else if (key === " ") { state.detailOpen ? closeOverlays() : openDetail(); }
  else if (key === "Escape") closeOverlays();
  else if (key === "?") { $("help").hidden = !$("help").hidden; }
  else if (key === "r") makeRepresentative();
  else if (key === "g") move(-state.cursor, false);
  else if (key === "G") move(state.view.length, false);
  else return;
  event.preventDefault();
});

tilesBox.addEventListener("click", (event) => {
  const tile = event.target.closest(".tile");
  if (!tile) return;
  const index = Number(tile.dataset.index);
  if (event.shiftKey) { if (state.anchor === null) state.anchor = state.cursor; } else state.anchor = null;
  state.cursor = index;
  render();
});
tilesBox.addEventListener("dblclick", () => openDetail());
viewport.addEventListener("scroll", () => requestAnimationFrame(render), { passive: true });
window.addEventListener("resize", () => applyFilters(state.view[state.cursor]?.id));
for (const id of ["f-status", "f-class", "f-source", "f-min", "f-max", "f-dupes", "f-sort"]) {
  $(id).addEventListener("change", () => { applyFilters(state.view[state.cursor]?.id); $(id).blur(); });
}

function load(data) {
  return data.rows.map((values) => Object.fromEntries(data.columns.map((name, i) => [name, values[i]])));
}

function useRows(rows) {
  // Decisions made while the full list was on its way win over what it says.
  for (const r of rows) if (state.local.has(r.id)) Object.assign(r, state.local.get(r.id));
  state.rows = rows;
  state.byId = new Map(rows.map((r) => [r.id, r]));
}

(async function start() {
  // First screen first: the first few hundred crops, then the whole list (50,000 take ~0.5 s).
  const first = await api("/api/crops?limit=400");
  state.reasons = first.reasons;
  $("reason-list").textContent = state.reasons.map((r, i) => `${i + 1} ${r}`).join(", ");
  useRows(load(first));
  applyFilters();
  document.body.dataset.ready = "1";
  const all = await api("/api/crops");
  const keep = state.view[state.cursor]?.id;
  useRows(load(all));
  fillSelect($("f-class"), state.rows.map((r) => r.class));
  fillSelect($("f-source"), state.rows.map((r) => r.source));
  state.local.clear();
  state.complete = true;
  applyFilters(keep);
  document.body.dataset.complete = "1";
})();
