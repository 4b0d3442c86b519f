// The studio's pronunciation dictionary (/api/dictionary, docs/API.md): list, add, remove,
// "say it" (hear an entry, or a pronunciation before saving it), import and export files.

import { request, withKey } from "./client.js";
import { h, say } from "./dom.js";
import { onLangChange, t } from "./i18n.js";

const KINDS = ["respell", "ipa", "espeak", "pinyin", "indextts25"];
const LANGUAGES = ["*", "en", "zh"];

async function call(path, options = {}) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

const post = (path, body) => request(path, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
});

const el = {};
let entries = [];
let player = null;

const label = (tag, key, attrs = {}) =>
  h(tag, { ...attrs, dataset: { ...(attrs.dataset || {}), i18n: key } }, t(key));

/** Build the dictionary panel in `root` and load the entries. */
export function setupDictionary(root) {
  el.match = h("input", { id: "dict-match", dataset: { testid: "dict-match", i18nPlaceholder: "dict.match" }, placeholder: t("dict.match"), maxlength: "200" });
  el.say = h("input", { id: "dict-say", dataset: { testid: "dict-say", i18nPlaceholder: "dict.say" }, placeholder: t("dict.say"), maxlength: "500" });
  el.kind = h("select", { id: "dict-kind", dataset: { testid: "dict-kind", i18nAriaLabel: "dict.kind" }, "aria-label": t("dict.kind") },
    KINDS.map((k) => h("option", { value: k }, k)));
  el.language = h("select", { id: "dict-language", dataset: { testid: "dict-language", i18nAriaLabel: "dict.language" }, "aria-label": t("dict.language") },
    LANGUAGES.map((l) => h("option", { value: l }, l)));
  el.regex = h("input", { type: "checkbox", id: "dict-regex", dataset: { testid: "dict-regex" } });
  el.caseSensitive = h("input", { type: "checkbox", id: "dict-case", dataset: { testid: "dict-case" } });
  el.message = h("p", { class: "message", role: "status", dataset: { testid: "dict-message" }, hidden: true });
  el.list = h("tbody", { dataset: { testid: "dict-list" } });
  el.file = h("input", { type: "file", accept: ".csv,.json", hidden: true, dataset: { testid: "dict-import-file" }, onchange: importFile });
  el.exportCsv = label("a", "dict.exportCsv", { class: "button small", href: withKey("/api/dictionary/export?format=csv"), download: "dictionary.csv", dataset: { testid: "dict-export-csv" } });
  el.exportJson = label("a", "dict.exportJson", { class: "button small", href: withKey("/api/dictionary/export?format=json"), download: "dictionary.json", dataset: { testid: "dict-export-json" } });

  root.append(
    h("div", { class: "job-head" }, label("h2", "dict.heading", { id: "dictionary-heading" })),
    label("p", "dict.help", { class: "muted small" }),
    h("div", { class: "dict-add row" },
      el.match, el.say, el.kind, el.language,
      h("label", { class: "small" }, el.regex, label("span", "dict.regex")),
      h("label", { class: "small" }, el.caseSensitive, label("span", "dict.case")),
      label("button", "dict.try", { type: "button", class: "small", dataset: { testid: "dict-try" }, onclick: () => tryIt(el.match.value, el.say.value) }),
      label("button", "dict.add", { type: "button", class: "primary small", dataset: { testid: "dict-add" }, onclick: add })),
    el.message,
    h("table", { class: "dict-table" },
      h("thead", {}, h("tr", {}, ["dict.match", "dict.say", "dict.kind", "dict.language", "dict.actions"]
        .map((key) => label("th", key)))),
      el.list),
    h("div", { class: "actions" },
      label("button", "dict.import", { type: "button", class: "small", dataset: { testid: "dict-import" }, onclick: () => el.file.click() }),
      el.file, el.exportCsv, el.exportJson),
  );
  onLangChange(render);
  load();
}

async function load() {
  try {
    entries = (await call("/api/dictionary")).entries;
    render();
  } catch (err) {
    say(el.message, err.message, "error");
  }
}

function render() {
  el.list.replaceChildren(...(entries.length ? entries.map((e) => h("tr", { dataset: { testid: "dict-entry", match: e.match } },
    h("td", {}, h("code", {}, e.match)), h("td", {}, e.say), h("td", {}, e.kind),
    h("td", {}, e.language),
    h("td", {},
      label("button", "dict.sayIt", { type: "button", class: "small", dataset: { testid: "dict-say-it" }, onclick: () => tryIt(e.match) }),
      label("button", "dict.remove", { type: "button", class: "small danger", dataset: { testid: "dict-remove" }, onclick: () => remove(e) })),
  )) : [h("tr", {}, h("td", { colspan: "5", class: "muted small" }, t("dict.empty")))]));
}

function entryOfForm() {
  return {
    match: el.match.value, say: el.say.value, kind: el.kind.value, language: el.language.value,
    regex: el.regex.checked, case_sensitive: el.caseSensitive.checked,
  };
}

async function add() {
  try {
    const saved = await (await post("/api/dictionary", entryOfForm())).json();
    say(el.message, t("dict.added", { match: saved.match }), "ok");
    el.match.value = "";
    el.say.value = "";
    await load();
  } catch (err) {
    say(el.message, err.message, "error");
  }
}

async function remove(entry) {
  const params = new URLSearchParams({ match: entry.match, language: entry.language, kind: entry.kind });
  try {
    await call(`/api/dictionary?${params}`, { method: "DELETE" });
    await load();
  } catch (err) {
    say(el.message, err.message, "error");
  }
}

/** Say it: the word in a short sentence, with the stored entries or `sayAs` tried over them. */
async function tryIt(word, sayAs = "") {
  if (!word.trim()) return say(el.message, t("dict.needWord"), "error");
  const body = { word };
  if (sayAs.trim()) Object.assign(body, { say: sayAs, kind: el.kind.value, language: el.language.value });
  try {
    say(el.message, t("dict.rendering"), "info");
    const response = await post("/api/dictionary/try", body);
    const spoken = decodeURIComponent(response.headers.get("X-Spoken-Text") || "");
    const blob = await response.blob();
    if (player) URL.revokeObjectURL(player.src);
    player = new Audio(URL.createObjectURL(blob));
    player.play().catch(() => {});
    say(el.message, t("dict.spoken", { text: spoken }), "ok");
  } catch (err) {
    say(el.message, err.message, "error");
  }
}

async function importFile() {
  const file = el.file.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  try {
    const result = await call("/api/dictionary/import", { method: "POST", body: form });
    say(el.message, t("dict.imported", { n: result.imported }), "ok");
    await load();
  } catch (err) {
    say(el.message, err.message, "error");
  } finally {
    el.file.value = "";
  }
}
