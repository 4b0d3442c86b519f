// The page: voice picker, script, settings, preview, generate, job history.
// The narration being followed lives in job.js.

import { api, askForKey } from "./client.js";
import { $, badge, h, say, throttle } from "./dom.js";
import {
  apply, formatDate, formatDuration, formatNumber, formatSize, lang, onLangChange, optionLabel,
  setLang, stateLabel, t,
} from "./i18n.js";
import { JobView } from "./job.js";

const CHARS_PER_MINUTE = 850; // speaking rate used for estimates before anything is rendered
const MAX_SCRIPT_BYTES = 5 * 1024 * 1024;
const PREVIEW_ROWS = 300; // rows shown; the counts always cover the whole script
const VOICE_STORAGE = "indextts-yt.voice";
const ACTIVE = new Set(["queued", "running", "paused"]);

const state = {
  engines: [],
  preview: null, // {text, segments}
  jobs: [],
  cloneFile: null,
};

const el = {
  voice: $("#voice-select"), engineInfo: $("#engine-info"),
  clonePanel: $("#clone-panel"), cloneNote: $("#clone-note"), cloneControls: $("#clone-controls"),
  cloneFile: $("#clone-file"), clonePreload: $("#clone-preload"), cloneLight: $("#clone-light"),
  cloneStatus: $("#clone-status"), cloneDrop: $("#clone-drop"),
  title: $("#title-input"), script: $("#script-input"), scriptFile: $("#script-file"),
  counts: $("#script-counts"),
  speed: $("#speed-input"), speedRange: $("#speed-range"),
  pauses: { sentence: $("#pause-sentence"), paragraph: $("#pause-paragraph"), heading: $("#pause-heading") },
  engineOptions: $("#engine-options"), settingsReset: $("#settings-reset"),
  streaming: $("#streaming-toggle"),
  previewButton: $("#preview-button"), generate: $("#generate-button"), message: $("#compose-message"),
  preview: $("#preview"), previewCounts: $("#preview-counts"), previewRows: $("#preview-rows"),
  previewStale: $("#preview-stale"),
  historyRows: $("#history-rows"), historyEmpty: $("#history-empty"), historyRefresh: $("#history-refresh"),
};

const jobView = new JobView({
  engines: () => state.engines,
  onChange: () => refreshHistory(),
});

// ---- voice and engines ------------------------------------------------------------------

/** The user's choice: {engine: "auto"|name, voice: id|null}. */
function choice() {
  const [engine, voice] = el.voice.value.split("|");
  return { engine: engine || "auto", voice: voice || null };
}

/** Engines the choice can use: the chosen one, or every available one for "auto". */
function enginesInPlay() {
  const { engine } = choice();
  const usable = state.engines.filter((e) => e.available !== false);
  return engine === "auto" ? usable : usable.filter((e) => e.name === engine);
}

function renderVoices() {
  const previous = el.voice.value || localStorage.getItem(VOICE_STORAGE) || "auto|";
  const options = [h("option", { value: "auto|" }, t("voice.auto"))];
  for (const engine of state.engines) {
    const unavailable = engine.available === false;
    const cloning = engine.capabilities && engine.capabilities.cloning;
    const label = unavailable
      ? t("voice.unavailable", { engine: engine.name })
      : `${engine.name} — ${t(cloning ? "engine.cloning.yes" : "engine.cloning.no")}`;
    const group = h("optgroup", { label, disabled: unavailable });
    for (const voice of engine.voices || []) {
      const text = [voice.name || voice.id, voice.language && `(${voice.language})`].filter(Boolean).join(" ");
      group.append(h("option", { value: `${engine.name}|${voice.id}`, title: voice.description || "" }, text));
    }
    options.push(group);
  }
  el.voice.replaceChildren(...options);
  el.voice.value = previous;
  if (el.voice.selectedIndex < 0 || el.voice.value !== previous) el.voice.value = "auto|";
  renderEngineInfo();
}

function renderEngineInfo() {
  const { engine } = choice();
  const items = [];
  if (engine === "auto") items.push(h("li", { class: "muted" }, t("voice.autoHelp")));
  for (const e of enginesInPlay()) {
    const caps = e.capabilities || {};
    items.push(h("li", { dataset: { testid: `engine-${e.name}` } },
      h("strong", {}, e.name), " ",
      h("span", { class: `pill ${caps.cloning ? "yes" : "no"}`, dataset: { testid: `engine-cloning-${e.name}` } },
        t(caps.cloning ? "engine.cloning.yes" : "engine.cloning.no")),
      " ", h("span", { class: "muted small" }, [
        t("engine.rate", { rate: e.sample_rate }),
        t("engine.voices", { n: (e.voices || []).length }),
        t("engine.languages", { list: (caps.languages || []).join(", ") }),
        caps.streaming ? t("engine.streaming") : null,
      ].filter(Boolean).join(" · "))));
  }
  el.engineInfo.replaceChildren(...items);
  renderClonePanel();
  renderEngineOptions();
}

// ---- reference clip (only for engines that clone) ----------------------------------------

function renderClonePanel() {
  const engines = enginesInPlay();
  const cloners = engines.filter((e) => e.capabilities && e.capabilities.cloning);
  const { engine } = choice();
  const enabled = engine !== "auto" && cloners.length > 0;
  el.clonePanel.dataset.enabled = String(enabled);
  el.cloneControls.hidden = !enabled;
  el.clonePanel.disabled = !enabled;
  el.cloneNote.hidden = enabled;
  if (!enabled) {
    el.cloneNote.textContent = engine === "auto"
      ? t("clone.unavailableAuto")
      : t("clone.unavailable", { engine });
  }
  renderCloneStatus();
}

function renderCloneStatus(status = el.cloneLight.dataset.state, detail = el.cloneStatus.dataset.detail || "") {
  el.cloneLight.dataset.state = status;
  el.cloneStatus.dataset.detail = detail;
  const key = { off: "clone.status.none", picked: "clone.status.picked", loading: "clone.status.loading",
    ready: "clone.status.ready", error: "clone.status.error" }[status] || "clone.status.none";
  el.cloneStatus.textContent = t(key, { name: detail, error: detail });
  el.clonePreload.disabled = !state.cloneFile || status === "loading";
}

function pickCloneFile(file) {
  if (!file) return;
  state.cloneFile = file;
  renderCloneStatus("picked", file.name);
}

async function preloadVoice() {
  const file = state.cloneFile;
  if (!file) return;
  renderCloneStatus("loading", file.name);
  try {
    const voice = await api.preloadVoice(file, choice().engine);
    renderCloneStatus("ready", voice.name || file.name);
  } catch (err) {
    renderCloneStatus("error", err.message);
  }
}

// ---- settings ---------------------------------------------------------------------------

/** Bounds of "speed" across the engines in play (every built-in engine has it). */
function speedSpec() {
  const specs = enginesInPlay().map((e) => (e.settings || []).find((s) => s.name === "speed")).filter(Boolean);
  if (!specs.length) return null;
  return {
    minimum: Math.max(...specs.map((s) => s.minimum)),
    maximum: Math.min(...specs.map((s) => s.maximum)),
    default: specs[0].default,
  };
}

function renderEngineOptions() {
  const keep = currentEngineOptions(true);
  const groups = [];
  const engines = enginesInPlay();
  for (const engine of engines) {
    const specs = (engine.settings || []).filter((s) => s.name !== "speed");
    const fields = specs.map((spec) => {
      const id = `opt-${engine.name}-${spec.name}`;
      const value = keep[`${engine.name}.${spec.name}`] ?? spec.default;
      const range = h("input", { type: "range", min: spec.minimum, max: spec.maximum, step: "any", value, tabindex: "-1", "aria-hidden": "true" });
      const input = h("input", {
        type: "number", id, min: spec.minimum, max: spec.maximum, step: stepFor(spec), value,
        dataset: { testid: `option-${engine.name}-${spec.name}`, engine: engine.name, name: spec.name, default: String(spec.default) },
      });
      linkRange(range, input);
      return h("div", { class: "field slider" },
        h("label", { for: id, title: spec.help || "" }, optionLabel(spec.name)), range, input,
        h("span", { class: "muted small hint", title: spec.help || "" },
          t("settings.range", { min: spec.minimum, max: spec.maximum, default: formatNumber(spec.default, 2) })));
    });
    groups.push(h("fieldset", { class: "engine-group" },
      h("legend", {}, t("settings.engineFor", { engine: engine.name })),
      fields.length ? fields : h("p", { class: "muted small" }, t("settings.none"))));
  }
  el.engineOptions.replaceChildren(...groups);
  const speed = speedSpec();
  el.speed.closest(".field").hidden = !speed;
  if (speed) {
    for (const input of [el.speed, el.speedRange]) {
      input.min = speed.minimum;
      input.max = speed.maximum;
    }
  }
}

function stepFor(spec) {
  const span = spec.maximum - spec.minimum;
  return span > 10 ? 1 : span > 2 ? 0.1 : 0.05;
}

function linkRange(range, input) {
  range.addEventListener("input", () => { input.value = range.value; });
  input.addEventListener("input", () => { range.value = input.value; });
}

/** Options the user changed, as sent to the API (defaults are left to the server). */
function currentEngineOptions(byEngine = false) {
  const out = {};
  for (const input of el.engineOptions.querySelectorAll("input[type=number]")) {
    const value = Number(input.value);
    if (input.value === "" || !isFinite(value)) continue;
    if (byEngine) out[`${input.dataset.engine}.${input.dataset.name}`] = value;
    else if (value !== Number(input.dataset.default)) out[input.dataset.name] = value;
  }
  return out;
}

function jobSettings() {
  const options = currentEngineOptions();
  if (speedSpec()) options.speed = Number(el.speed.value) || 1;
  const pauses = {};
  for (const [name, input] of Object.entries(el.pauses)) {
    if (input.value !== "" && isFinite(Number(input.value))) pauses[name] = Number(input.value);
  }
  return { options, pauses };
}

function resetSettings() {
  const speed = speedSpec();
  el.speed.value = el.speedRange.value = speed ? speed.default : 1;
  for (const input of Object.values(el.pauses)) input.value = input.defaultValue;
  for (const input of el.engineOptions.querySelectorAll("input[type=number]")) {
    input.value = input.dataset.default;
    input.dispatchEvent(new Event("input"));
  }
}

// ---- script, counts, preview ------------------------------------------------------------

function estimate(chars) {
  return formatDuration((chars / CHARS_PER_MINUTE) * 60);
}

const updateCounts = throttle(() => {
  const chars = el.script.value.trim().length;
  el.counts.textContent = t("script.counts", { chars: formatNumber(chars), duration: estimate(chars) });
  el.previewStale.hidden = !state.preview || state.preview.text === el.script.value;
}, 250);

async function loadScriptFile(file) {
  if (!file) return;
  if (!/\.(txt|md|markdown)$/i.test(file.name)) return say(el.message, t("script.badType"), "error");
  if (file.size > MAX_SCRIPT_BYTES) return say(el.message, t("script.tooBig", { name: file.name }), "error");
  el.script.value = await file.text();
  if (!el.title.value.trim()) el.title.value = file.name.replace(/\.(txt|md|markdown)$/i, "");
  updateCounts.now();
  say(el.message, t("script.loaded", { name: file.name, size: formatSize(file.size) }), "ok");
}

async function runPreview() {
  const text = el.script.value;
  if (!text.trim()) return say(el.message, t("script.empty"), "error");
  el.previewButton.disabled = true;
  try {
    const { engine, voice } = choice();
    const result = await api.preview({ text, engine, voice });
    state.preview = { text, segments: result.segments };
    renderPreview();
    say(el.message, "");
  } catch (err) {
    say(el.message, err.message, "error");
  } finally {
    el.previewButton.disabled = false;
  }
}

function renderPreview() {
  const preview = state.preview;
  el.preview.hidden = !preview;
  if (!preview) return;
  const segments = preview.segments;
  const chars = segments.reduce((sum, s) => sum + (s.chars ?? s.text.length), 0);
  el.previewCounts.textContent = t("preview.counts", {
    segments: formatNumber(segments.length), chars: formatNumber(chars), duration: estimate(chars),
  });
  el.previewCounts.dataset.segments = String(segments.length);
  const rows = segments.slice(0, PREVIEW_ROWS).map((s) => h("tr", { dataset: { testid: "preview-row" } },
    h("td", { class: "num" }, String(s.index + 1)),
    h("td", { class: "text" },
      s.chapter ? h("span", { class: "chapter", title: s.chapter }, t("seg.chapter")) : null, s.text),
    h("td", { class: "num" }, formatNumber(s.chars ?? s.text.length)),
    h("td", { class: "nowrap" }, t(`pause.${s.pause_after}`)),
    h("td", { class: "small" }, `${s.engine} · ${s.voice}`, h("span", { class: "muted" }, ` (${s.language})`)),
  ));
  if (segments.length > PREVIEW_ROWS) {
    rows.push(h("tr", {}, h("td", { colspan: "5", class: "muted" }, t("preview.more", { n: formatNumber(segments.length - PREVIEW_ROWS) }))));
  }
  el.previewRows.replaceChildren(...rows);
  el.previewStale.hidden = preview.text === el.script.value;
}

// ---- generate ---------------------------------------------------------------------------

async function generate() {
  const text = el.script.value;
  if (!text.trim()) return say(el.message, t("script.empty"), "error");
  el.generate.disabled = true;
  el.generate.textContent = t("generate.busy");
  try {
    const { engine, voice } = choice();
    const { options, pauses } = jobSettings();
    const job = await api.createJob({
      text, title: el.title.value.trim() || null, engine, voice, options, pauses,
      streaming: el.streaming.checked,
    });
    say(el.message, "");
    await jobView.attach(job, { autoplay: true });
    refreshHistory.now();
    if (window.matchMedia("(max-width: 900px)").matches) $("#job-heading").scrollIntoView({ behavior: "smooth" });
  } catch (err) {
    say(el.message, err.message, "error");
  } finally {
    el.generate.disabled = false;
    el.generate.textContent = t("generate.button");
  }
}

// ---- history ----------------------------------------------------------------------------

const refreshHistory = throttle(async () => {
  try {
    state.jobs = await api.jobs();
  } catch {
    return;
  }
  renderHistory();
}, 2000);

function renderHistory() {
  el.historyEmpty.hidden = state.jobs.length > 0;
  const rows = state.jobs.map((job) => {
    const ready = job.output_ready || job.state === "done";
    const current = job.id === jobView.id;
    const id = job.id;
    return h("tr", { class: current ? "current" : "", dataset: { testid: `history-row-${id}`, state: job.state } },
      h("td", { class: "text" }, h("strong", {}, job.title || t("history.untitled")),
        current ? h("span", { class: "muted small" }, ` ${t("history.current")}`) : null,
        h("div", { class: "muted small mono" }, id)),
      h("td", {}, badge(job.state, stateLabel(job.state))),
      h("td", { class: "progress-cell" },
        h("progress", { max: Math.max(job.total || 0, 1), value: job.done || 0, "aria-label": t("col.progress") }),
        h("span", { class: "small" }, ` ${job.done}/${job.total}`)),
      h("td", { class: "num" }, job.audio_seconds ? formatDuration(job.audio_seconds) : "–"),
      h("td", { class: "small" }, formatDate(job.created_at)),
      h("td", { class: "downloads" }, ready
        ? [h("a", { href: api.downloadUrl(id), download: "", class: "button-like small", dataset: { testid: `history-download-${id}` } }, t("history.wav")),
          " ",
          h("a", { href: api.srtUrl(id), download: "", class: "button-like small", dataset: { testid: `history-srt-${id}` } }, t("history.srt"))]
        : "–"),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "small", dataset: { testid: `history-open-${id}` }, onclick: () => openJob(id) }, t("history.open")),
        h("button", { type: "button", class: "small ghost danger", dataset: { testid: `history-delete-${id}` }, onclick: () => deleteJob(job) }, t("history.delete"))),
    );
  });
  el.historyRows.replaceChildren(...rows);
}

async function openJob(id) {
  try {
    await jobView.attach(id);
    renderHistory();
    $("#job-heading").scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (err) {
    if (err.status === 404 && location.hash) history.replaceState(null, "", location.pathname + location.search);
    say(el.message, err.message, "error");
  }
}

async function deleteJob(job) {
  if (!confirm(t("history.deleteConfirm", { title: job.title || job.id }))) return;
  try {
    await api.deleteJob(job.id);
    if (jobView.id === job.id) jobView.clear();
  } catch (err) {
    say(el.message, err.message, "error");
  }
  refreshHistory.now();
}

// Poll the list while something is queued or running and the tab is visible.
setInterval(() => {
  if (document.visibilityState === "visible" && state.jobs.some((j) => ACTIVE.has(j.state))) refreshHistory();
}, 5000);

// ---- wiring -----------------------------------------------------------------------------

function relabel() {
  renderVoices();
  renderCloneStatus();
  updateCounts.now();
  renderPreview();
  renderHistory();
  jobView.relabel();
  el.generate.textContent = t("generate.button");
}

function wire() {
  $("#lang-toggle").addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
  onLangChange(relabel);
  $("#key-cancel").addEventListener("click", () => $("#key-dialog").close());

  el.voice.addEventListener("change", () => {
    localStorage.setItem(VOICE_STORAGE, el.voice.value);
    renderEngineInfo();
  });
  el.cloneFile.addEventListener("change", () => pickCloneFile(el.cloneFile.files[0]));
  el.clonePreload.addEventListener("click", preloadVoice);
  for (const target of [el.cloneDrop, el.script]) {
    target.addEventListener("dragover", (e) => { e.preventDefault(); target.classList.add("dragging"); });
    target.addEventListener("dragleave", () => target.classList.remove("dragging"));
  }
  el.cloneDrop.addEventListener("drop", (e) => {
    e.preventDefault();
    el.cloneDrop.classList.remove("dragging");
    if (!el.clonePanel.disabled) pickCloneFile(e.dataTransfer.files[0]);
  });
  el.script.addEventListener("drop", (e) => {
    if (!e.dataTransfer.files.length) return;
    e.preventDefault();
    el.script.classList.remove("dragging");
    loadScriptFile(e.dataTransfer.files[0]);
  });
  el.script.addEventListener("input", updateCounts);
  el.scriptFile.addEventListener("change", () => {
    loadScriptFile(el.scriptFile.files[0]);
    el.scriptFile.value = "";
  });
  linkRange(el.speedRange, el.speed);
  el.settingsReset.addEventListener("click", resetSettings);
  el.previewButton.addEventListener("click", runPreview);
  el.generate.addEventListener("click", generate);
  el.script.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) generate();
  });
  el.historyRefresh.addEventListener("click", () => refreshHistory.now());
}

async function start() {
  apply();
  wire();
  updateCounts.now();
  renderCloneStatus("off", "");
  try {
    state.engines = await api.engines();
  } catch (err) {
    say(el.message, err.message, "error");
  }
  renderVoices();
  refreshHistory.now();
  const match = location.hash.match(/^#job=(.+)$/);
  if (match) openJob(decodeURIComponent(match[1]));
  document.body.dataset.ready = "true";
}

// Exposed for debugging in the console only.
window.indexttsYt = { jobView, state, askForKey };
start();
