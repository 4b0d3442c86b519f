// Batch and queue: queue several scripts at once with one preset (or the form's settings),
// and the server's queue — what runs now, what comes next with its ETA — with move up/down,
// pause, resume and cancel. Clicking a title opens that job in the narration view.
//
// The queue is polled (GET /api/queue): every 1.5 s while something runs or waits and the
// tab is visible, every 5 s otherwise, and at once after each action here. Rows are kept
// per job and patched in place, so a button under the pointer is never swapped mid-click.

import { request } from "./client.js";
import { badge, h, say, throttle } from "./dom.js";
import { formatClock, onLangChange, stateLabel, t } from "./i18n.js";
import { currentSettings, onPresetsChange } from "./presets.js";

const ACTIVE_MS = 1500;
const IDLE_MS = 5000;
const SCRIPT_TYPES = /\.(txt|md|markdown)$/i;
const enc = encodeURIComponent;

async function call(path, options = {}) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

const postJson = (path, body) => call(path, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body),
});

export const queueApi = {
  queue: () => call("/api/queue"),
  move: (id, position) => postJson(`/api/jobs/${enc(id)}/move`, { position }),
  control: (id, action) => postJson(`/api/jobs/${enc(id)}/${action}`),
  /** multipart: every script as 'file', with 'preset' or 'settings' (a JSON string). */
  batch: (files, { preset = null, settings = null }) => {
    const form = new FormData();
    for (const file of files) form.append("file", file);
    if (preset) form.append("preset", preset);
    if (settings) form.append("settings", JSON.stringify(settings));
    return call("/api/batches", { method: "POST", body: form });
  },
};

const state = {
  entries: [], // GET /api/queue's jobs
  workers: null, // and where they render (null: in the server's process)
  rows: new Map(), // job id -> {tr, cells}
  loadedAt: 0,
  asked: 0, // queue requests sent
  shown: 0, // the request whose answer is on screen
  message: null, // {text: () => string, kind}
  presets: [],
  hooks: null,
};
const el = {};

const label = (tag, key, attrs = {}) => h(tag, { ...attrs, dataset: { ...(attrs.dataset || {}), i18n: key } }, t(key));

/** Build the batch form and the queue table in `root`. `hooks`: {openJob(id)}. */
export function setupQueue(root, hooks) {
  state.hooks = hooks;
  el.files = h("input", { type: "file", multiple: true, accept: ".txt,.md,.markdown,text/plain,text/markdown", dataset: { testid: "batch-files" } });
  el.files.addEventListener("change", renderChosen);
  el.chosen = h("span", { class: "muted small batch-chosen", dataset: { testid: "batch-chosen" } });
  el.preset = h("select", { id: "batch-preset", dataset: { testid: "batch-preset" } });
  el.submit = h("button", { type: "submit", class: "primary", dataset: { testid: "batch-submit" } });
  el.form = h("form", { class: "batch", dataset: { testid: "batch-form" } },
    h("label", { class: "button-like", dataset: { testid: "batch-files-label" } }, el.files, label("span", "batch.choose")),
    el.chosen,
    h("span", { class: "batch-preset" }, label("label", "batch.settings", { for: "batch-preset" }), el.preset),
    el.submit);
  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    queueBatch();
  });
  el.message = h("p", { class: "message", role: "status", hidden: true, dataset: { testid: "batch-message" } });
  el.empty = label("p", "queue.empty", { class: "muted", hidden: true, dataset: { testid: "queue-empty" } });
  el.rows = h("tbody", { id: "queue-rows" });
  const col = (key, cls) => label("th", key, { scope: "col", class: cls || null });
  el.table = h("table", { dataset: { testid: "queue-table" } },
    h("thead", {}, h("tr", {},
      col("queue.col.position", "num"), col("col.title"), col("col.state"), col("queue.col.eta", "num"), col("col.actions"))),
    el.rows);
  root.replaceChildren(
    label("h2", "queue.heading", { id: "queue-heading" }),
    label("h3", "batch.heading"),
    label("p", "batch.help", { class: "muted small" }),
    el.form, el.message,
    label("h3", "queue.subheading"),
    el.where = h("p", { class: "muted small", dataset: { testid: "queue-workers" } }),
    el.empty,
    el.wrap = h("div", { class: "table-wrap" }, el.table));

  onPresetsChange((presets) => {
    state.presets = presets;
    renderPresets();
  });
  onLangChange(() => {
    renderPresets();
    renderChosen();
    renderMessage();
    for (const id of state.rows.keys()) state.rows.get(id).signature = null;
    render();
  });
  renderChosen();
  refresh.now();
  setInterval(() => {
    if (document.visibilityState !== "visible") return;
    const busy = state.entries.some((e) => e.state === "running" || e.state === "queued");
    if (Date.now() - state.loadedAt >= (busy ? ACTIVE_MS : IDLE_MS) - 100) refresh();
  }, ACTIVE_MS / 3);
}

/** Load the queue now (throttled to one request a second). */
export const refresh = throttle(async () => {
  state.loadedAt = Date.now();
  const asked = ++state.asked;
  let answer;
  try {
    answer = await queueApi.queue();
  } catch {
    return; // the next poll tries again; a key prompt comes from request()
  }
  // A poll sent before an action may answer after the action's own refresh: keep the newer.
  if (asked < state.shown) return;
  state.shown = asked;
  state.entries = answer.jobs;
  state.workers = answer.workers;
  render();
}, 1000);

// ---- batch ------------------------------------------------------------------------------

function renderPresets() {
  const current = el.preset.value;
  el.preset.replaceChildren(
    h("option", { value: "" }, t("batch.formSettings")),
    ...state.presets.map((p) => h("option", { value: p.name }, t("batch.presetOption", { name: p.name }))));
  el.preset.value = state.presets.some((p) => p.name === current) ? current : "";
}

function chosenFiles() {
  return [...el.files.files];
}

function renderChosen() {
  const files = chosenFiles();
  el.chosen.textContent = files.length
    ? t("batch.chosen", { n: files.length, names: files.map((f) => f.name).join(", ") })
    : t("batch.none");
  el.submit.textContent = files.length ? t("batch.submitN", { n: files.length }) : t("batch.submit");
}

function tell(text, kind = "info") {
  state.message = text ? { text, kind } : null;
  renderMessage();
}

function renderMessage() {
  say(el.message, state.message ? state.message.text() : "", state.message ? state.message.kind : "info");
}

async function queueBatch() {
  const files = chosenFiles();
  if (!files.length) return tell(() => t("batch.noFiles"), "error");
  const wrong = files.find((f) => !SCRIPT_TYPES.test(f.name));
  if (wrong) return tell(() => t("batch.badType", { name: wrong.name }), "error");
  let body;
  if (el.preset.value) {
    body = { preset: el.preset.value };
  } else {
    const read = currentSettings();
    if (read.error) return tell(() => read.error, "error");
    body = { settings: read.settings };
  }
  el.submit.disabled = true;
  el.submit.textContent = t("batch.busy");
  try {
    const batch = await queueApi.batch(files, body);
    const n = batch.jobs.length;
    tell(() => t("batch.queued", { n, id: batch.batch_id }), "ok");
    el.files.value = "";
  } catch (err) {
    // One bad script refuses the whole batch; the server names it.
    tell(() => t("batch.error", { error: err.message }), "error");
  } finally {
    el.submit.disabled = false;
    renderChosen();
  }
  refresh.now();
}

// ---- the queue --------------------------------------------------------------------------

async function act(run) {
  try {
    await run();
    if (state.message && state.message.kind === "error") tell(null);
  } catch (err) {
    tell(() => t("queue.error", { error: err.message }), "error");
  }
  refresh.now();
}

function makeRow(id) {
  const button = (role, key, cls, onclick) => h("button", {
    type: "button", class: `small${cls ? ` ${cls}` : ""}`, dataset: { testid: `queue-${role}-${id}`, role }, onclick,
  }, t(key));
  const entry = () => state.entries.find((e) => e.id === id);
  const cells = {
    position: h("td", { class: "num", dataset: { testid: `queue-position-${id}` } }),
    open: h("button", { type: "button", class: "link", dataset: { testid: `queue-open-${id}` }, onclick: () => state.hooks.openJob(id) }),
    meta: h("div", { class: "muted small mono" }),
    state: h("td", {}),
    eta: h("td", { class: "num eta", dataset: { testid: `queue-eta-${id}` } }),
    up: button("up", "queue.up", "ghost", () => {
      const e = entry();
      if (e && e.position > 1) act(() => queueApi.move(id, e.position - 1));
    }),
    down: button("down", "queue.down", "ghost", () => {
      const e = entry();
      if (e && e.position) act(() => queueApi.move(id, e.position + 1));
    }),
    pause: button("pause", "job.pause", null, () => act(() => queueApi.control(id, "pause"))),
    resume: button("resume", "job.resume", null, () => act(() => queueApi.control(id, "resume"))),
    cancel: button("cancel", "job.cancel", "danger", () => {
      const e = entry();
      if (confirm(t("queue.cancelConfirm", { title: (e && e.title) || id }))) act(() => queueApi.control(id, "cancel"));
    }),
  };
  const tr = h("tr", { dataset: { testid: `queue-row-${id}`, id } },
    cells.position,
    h("td", { class: "text" }, cells.open, cells.meta),
    cells.state, cells.eta,
    h("td", { class: "row-actions" }, cells.up, cells.down, cells.pause, cells.resume, cells.cancel));
  return { tr, cells, signature: null };
}

function fillRow(row, entry, lastPosition) {
  const { cells, tr } = row;
  const signature = JSON.stringify([entry, lastPosition]);
  if (signature === row.signature) return;
  row.signature = signature;
  const { id, state: jobState, position } = entry;
  tr.dataset.state = jobState;
  tr.dataset.position = position == null ? "" : String(position);
  tr.classList.toggle("current", jobState === "running");
  cells.position.textContent = jobState === "running" ? t("queue.now") : position == null ? "–" : String(position);
  const title = entry.title || t("history.untitled");
  cells.open.textContent = title;
  cells.open.title = t("queue.open", { title });
  cells.meta.textContent = [id, entry.batch_id].filter(Boolean).join(" · ");
  cells.state.replaceChildren(badge(jobState, stateLabel(jobState), `queue-state-${id}`));
  // Until something was measured on this machine there is no ETA: "--:--".
  const waiting = jobState === "running" || jobState === "queued";
  cells.eta.textContent = waiting ? formatClock(entry.eta_s) : "–";
  cells.eta.title = waiting ? t("queue.etaHelp") : "";
  // What the server allows in this state (GET /api/queue: "actions").
  const actions = entry.actions || [];
  const movable = actions.includes("move");
  cells.up.disabled = !movable || position <= 1;
  cells.down.disabled = !movable || position >= lastPosition;
  cells.pause.disabled = !actions.includes("pause");
  cells.resume.disabled = !actions.includes("resume");
  cells.cancel.disabled = !actions.includes("cancel");
  for (const [key, name] of [["up", "queue.up"], ["down", "queue.down"], ["pause", "job.pause"], ["resume", "job.resume"], ["cancel", "job.cancel"]]) {
    cells[key].textContent = t(name);
  }
  cells.up.setAttribute("aria-label", t("queue.upLabel", { title }));
  cells.down.setAttribute("aria-label", t("queue.downLabel", { title }));
}

/** Where the takes are rendered: the server's own process, or its engine actors on Ray. */
function whereText(w) {
  if (!w) return t("queue.here");
  const where = w.address ? t("queue.rayAt", { address: w.address }) : t("queue.localRay");
  if (w.gpu) return t("queue.workersGpu", { n: w.workers, where });
  return t(w.threads === 1 ? "queue.workersCpuOne" : "queue.workersCpu", { n: w.workers, where, threads: w.threads });
}

function render() {
  el.where.textContent = whereText(state.workers);
  const entries = state.entries;
  const lastPosition = Math.max(0, ...entries.map((e) => e.position || 0));
  const seen = new Set();
  entries.forEach((entry) => {
    seen.add(entry.id);
    let row = state.rows.get(entry.id);
    if (!row) {
      row = makeRow(entry.id);
      state.rows.set(entry.id, row);
    }
    fillRow(row, entry, lastPosition);
  });
  for (const [id, row] of state.rows) {
    if (!seen.has(id)) {
      row.tr.remove();
      state.rows.delete(id);
    }
  }
  // Put the rows in the queue's order, moving only those out of place.
  entries.forEach((entry, i) => {
    const tr = state.rows.get(entry.id).tr;
    if (el.rows.children[i] !== tr) el.rows.insertBefore(tr, el.rows.children[i] || null);
  });
  el.empty.hidden = entries.length > 0;
  el.wrap.hidden = entries.length === 0;
  el.rows.dataset.order = entries.map((e) => e.id).join(" ");
}
