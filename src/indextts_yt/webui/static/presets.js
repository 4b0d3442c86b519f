// Settings presets in the compose form: pick one to set the voice and every setting from it,
// save the form as one, delete one, export one (a download link) and import a file.
//
// Presets live on the server (/api/presets, docs/API.md). The form is read and set through
// two hooks from app.js: read() gives the form as a preset's settings, apply(settings) puts
// a preset's settings on the form. The form has a control for every setting a preset holds,
// so a job made from the form sends the preset's values once it is applied.

import { addQuery, request, withKey } from "./client.js";
import { h, say } from "./dom.js";
import { onLangChange, t } from "./i18n.js";

const enc = encodeURIComponent;

async function call(path, options = {}) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

export const presetApi = {
  list: () => call("/api/presets"),
  /** {name, description, settings, replace} -> the preset (400: a duplicate name, ...). */
  save: (body) => call("/api/presets", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  }),
  remove: (name) => call(`/api/presets/${enc(name)}`, { method: "DELETE" }),
  /** A preset file (any version) as multipart 'file'. */
  importFile: (file, replace = false) => {
    const form = new FormData();
    form.append("file", file);
    return call(addQuery("/api/presets/import", replace ? { replace: "true" } : {}), { method: "POST", body: form });
  },
  exportUrl: (name) => withKey(`/api/presets/${enc(name)}/export`),
};

const state = {
  presets: [],
  hooks: null, // {read, apply}
  message: null, // {text: () => string, kind}
  replace: null, // {name, run}: what the Replace button does after a duplicate name
  listeners: new Set(),
};
const el = {};

/** A label that follows the language: static text goes through i18n's translate(). */
const label = (tag, key, attrs = {}) => h(tag, { ...attrs, dataset: { ...(attrs.dataset || {}), i18n: key } }, t(key));

/**
 * Build the preset bar in `root` and load the list. `hooks`: {read() -> {settings} | {error},
 * apply(settings) -> [problem, ...]}.
 */
export function setupPresets(root, hooks) {
  state.hooks = hooks;
  el.select = h("select", {
    id: "preset-select", dataset: { testid: "preset-select", i18nAriaLabel: "presets.pick" }, "aria-label": t("presets.pick"),
    onchange: applySelected,
  });
  el.saveOpen = label("button", "presets.saveOpen", {
    type: "button", class: "small", dataset: { testid: "preset-save-open" },
    onclick: () => {
      el.saveForm.hidden = !el.saveForm.hidden;
      if (!el.saveForm.hidden) el.name.focus();
    },
  });
  el.exportLink = label("a", "presets.export", { class: "button-like small", download: "", dataset: { testid: "preset-export" } });
  el.remove = label("button", "presets.delete", { type: "button", class: "small ghost danger", dataset: { testid: "preset-delete" }, onclick: remove });
  el.importInput = h("input", { type: "file", accept: ".json,application/json", dataset: { testid: "preset-import" } });
  el.importInput.addEventListener("change", () => {
    const file = el.importInput.files[0];
    el.importInput.value = "";
    importFile(file);
  });
  el.about = h("p", { class: "muted small preset-about", dataset: { testid: "preset-about" } });

  el.name = h("input", { type: "text", id: "preset-name", maxlength: "80", autocomplete: "off", dataset: { testid: "preset-name" } });
  el.description = h("input", { type: "text", id: "preset-description", maxlength: "500", autocomplete: "off", dataset: { testid: "preset-description" } });
  el.saveForm = h("form", { class: "preset-save", hidden: true, dataset: { testid: "preset-save-form" } },
    label("label", "presets.name", { for: "preset-name" }), el.name,
    label("label", "presets.description", { for: "preset-description" }), el.description,
    h("div", { class: "actions" },
      h("span", { class: "spacer" }),
      label("button", "presets.cancel", { type: "button", class: "small", dataset: { testid: "preset-save-cancel" }, onclick: () => { el.saveForm.hidden = true; } }),
      label("button", "presets.save", { type: "submit", class: "primary small", dataset: { testid: "preset-save" } })));
  el.saveForm.addEventListener("submit", (event) => {
    event.preventDefault();
    save(false);
  });

  el.message = h("p", { class: "message", role: "status", hidden: true, dataset: { testid: "preset-message" } });
  el.replace = h("button", { type: "button", class: "small", hidden: true, dataset: { testid: "preset-replace" }, onclick: () => state.replace && state.replace.run() });

  root.replaceChildren(
    label("legend", "presets.heading"),
    h("div", { class: "preset-row" },
      el.select, el.saveOpen, el.exportLink, el.remove,
      h("label", { class: "button-like small", dataset: { testid: "preset-import-label" } },
        el.importInput, label("span", "presets.import"))),
    el.about, el.saveForm,
    h("div", { class: "preset-feedback" }, el.message, el.replace));
  onLangChange(render);
  render();
  return load();
}

/** The presets as listed now; `fn(presets)` is called now and on every change. */
export function onPresetsChange(fn) {
  state.listeners.add(fn);
  fn(state.presets);
}

/** The form as a preset's settings: {settings} | {error}. */
export function currentSettings() {
  return state.hooks.read();
}

async function load() {
  try {
    state.presets = await presetApi.list();
  } catch (err) {
    tell(() => err.message, "error");
  }
  render();
  for (const fn of state.listeners) fn(state.presets);
}

const find = (name) => state.presets.find((p) => p.name.toLowerCase() === String(name).trim().toLowerCase()) || null;
const selected = () => state.presets.find((p) => p.name === el.select.value) || null;

function render() {
  const current = el.select.value;
  el.select.replaceChildren(
    h("option", { value: "" }, t("presets.none")),
    ...state.presets.map((p) => h("option", { value: p.name, title: p.description || "" }, p.name)));
  el.select.value = state.presets.some((p) => p.name === current) ? current : "";
  renderSelected();
  renderMessage();
}

function renderSelected() {
  const preset = selected();
  el.remove.disabled = !preset;
  if (preset) el.exportLink.href = presetApi.exportUrl(preset.name);
  else el.exportLink.removeAttribute("href");
  el.exportLink.setAttribute("aria-disabled", String(!preset));
  const bits = [];
  if (preset && preset.description) bits.push(preset.description);
  if (!preset) bits.push(t("presets.help"));
  el.about.textContent = bits.join(" · ");
  el.about.hidden = !bits.length;
}

/** A message made in the current language (so a language switch redraws it). */
function tell(text, kind = "info") {
  state.message = text ? { text, kind } : null;
  renderMessage();
}

function renderMessage() {
  const message = state.message;
  say(el.message, message ? message.text() : "", message ? message.kind : "info");
  const replace = state.replace;
  el.replace.hidden = !replace;
  if (replace) el.replace.textContent = t("presets.replace", { name: replace.name });
}

function offerReplace(replace) {
  state.replace = replace;
  renderMessage();
}

function applySelected() {
  offerReplace(null);
  const preset = selected();
  if (!preset) {
    tell(null);
    renderSelected();
    return;
  }
  const problems = state.hooks.apply(preset.settings);
  renderSelected();
  const name = preset.name;
  if (problems.length) tell(() => t("presets.appliedWith", { name, problems: problems.map((p) => p()).join("; ") }), "error");
  else tell(() => t("presets.applied", { name }), "ok");
}

async function save(replace) {
  const name = el.name.value.trim();
  if (!name) return tell(() => t("presets.needName"), "error");
  const read = currentSettings();
  if (read.error) return tell(() => read.error, "error");
  try {
    const preset = await presetApi.save({ name, description: el.description.value.trim(), settings: read.settings, replace });
    offerReplace(null);
    await load();
    el.select.value = preset.name;
    renderSelected();
    el.saveForm.hidden = true;
    el.name.value = "";
    el.description.value = "";
    tell(() => t("presets.saved", { name: preset.name }), "ok");
  } catch (err) {
    // The server's line says what is wrong; a name in use (409) can be replaced from here.
    const taken = !replace && err.status === 409 ? find(name) : null;
    tell(() => t("presets.saveError", { error: err.message }), "error");
    offerReplace(taken ? { name: taken.name, run: () => save(true) } : null);
  }
}

async function importFile(file, replace = false) {
  if (!file) return;
  let named = null;
  try {
    named = JSON.parse(await file.text()).name;
  } catch { /* the server says what is wrong with it */ }
  try {
    const preset = await presetApi.importFile(file, replace);
    offerReplace(null);
    await load();
    tell(() => t("presets.imported", { name: preset.name }), "ok");
  } catch (err) {
    const taken = !replace && err.status === 409 && typeof named === "string" ? find(named) : null;
    tell(() => t("presets.importError", { file: file.name, error: err.message }), "error");
    offerReplace(taken ? { name: taken.name, run: () => importFile(file, true) } : null);
  }
}

async function remove() {
  const preset = selected();
  if (!preset || !confirm(t("presets.deleteConfirm", { name: preset.name }))) return;
  offerReplace(null);
  try {
    await presetApi.remove(preset.name);
    const name = preset.name;
    tell(() => t("presets.deleted", { name }), "ok");
  } catch (err) {
    tell(() => err.message, "error");
  }
  await load();
}
