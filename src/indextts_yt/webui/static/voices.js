// The voice library panel: the user's recordings by name (add, play, edit, export, delete,
// import) and the engines' own voices, listed read-only. The server checks everything
// (docs/API.md, /api/voices); this shows its one-line answers.

import { api } from "./client.js";
import { $, h, say } from "./dom.js";
import { formatNumber, t, termsLabel } from "./i18n.js";

export class VoicesPanel {
  /** @param {{onChange: (voices: any[]) => void}} hooks called after every load */
  constructor(hooks) {
    this.hooks = hooks;
    this.voices = [];
    this.editing = null; // id of the row being edited
    this.playing = null; // id of the voice whose recording plays (it has started, really)
    this.requested = null; // id of the voice asked to play
    this.player = new Audio();
    this.player.addEventListener("playing", () => { this.playing = this.requested; this.render(); });
    for (const name of ["pause", "ended", "error"]) {
      this.player.addEventListener(name, () => { this.playing = null; this.render(); });
    }
    this.el = {
      form: $("#voice-add-form"), file: $("#voice-add-file"), fileName: $("#voice-add-file-name"),
      name: $("#voice-add-name"), language: $("#voice-add-language"), tags: $("#voice-add-tags"),
      notes: $("#voice-add-notes"), submit: $("#voice-add-submit"),
      importFile: $("#voice-import-file"), importName: $("#voice-import-name"),
      filter: $("#voices-filter"), message: $("#voices-message"), rows: $("#voice-rows"),
      empty: $("#voices-empty"),
    };
    this.el.form.addEventListener("submit", (e) => { e.preventDefault(); this.add(); });
    this.el.file.addEventListener("change", () => {
      const file = this.el.file.files[0];
      this.el.fileName.textContent = file ? file.name : t("voices.add.none");
      // A name to start from: the file's, as the CLI does.
      if (file && !this.el.name.value.trim()) this.el.name.value = file.name.replace(/\.[^.]+$/, "");
    });
    this.el.importFile.addEventListener("change", () => this.importFile(this.el.importFile.files[0]));
    this.el.filter.addEventListener("input", () => this.render());
  }

  async load() {
    try {
      this.voices = await api.voices();
    } catch (err) {
      say(this.el.message, err.message, "error");
    }
    this.render();
    this.hooks.onChange(this.voices);
  }

  async add() {
    const file = this.el.file.files[0];
    if (!file) return say(this.el.message, t("voices.needFile"), "error");
    if (!this.el.name.value.trim()) return say(this.el.message, t("voices.needName"), "error");
    this.el.submit.disabled = true;
    this.el.submit.textContent = t("voices.add.busy");
    try {
      const voice = await api.addVoice(file, {
        name: this.el.name.value, language: this.el.language.value, tags: this.el.tags.value,
        notes: this.el.notes.value,
      });
      this.el.form.reset();
      this.el.fileName.textContent = t("voices.add.none");
      say(this.el.message, t("voices.added", { name: voice.name, seconds: formatNumber(voice.seconds, 1) }), "ok");
      await this.load();
    } catch (err) {
      say(this.el.message, err.message, "error"); // too long, silent, name taken, ...
    } finally {
      this.el.submit.disabled = false;
      this.el.submit.textContent = t("voices.add.submit");
    }
  }

  async importFile(file) {
    if (!file) return;
    try {
      const voice = await api.importVoice(file, this.el.importName.value.trim() || null);
      this.el.importName.value = "";
      say(this.el.message, t("voices.imported", { name: voice.name }), "ok");
      await this.load();
    } catch (err) {
      say(this.el.message, err.message, "error");
    } finally {
      this.el.importFile.value = "";
    }
  }

  async save(voice, inputs) {
    try {
      const saved = await api.editVoice(voice.id, {
        name: inputs.name.value, language: inputs.language.value, notes: inputs.notes.value,
        tags: inputs.tags.value.split(/[,，]/).map((tag) => tag.trim()).filter(Boolean),
      });
      this.editing = null;
      say(this.el.message, t("voices.saved", { name: saved.name }), "ok");
      await this.load();
    } catch (err) {
      say(this.el.message, err.message, "error");
    }
  }

  async remove(voice) {
    if (!confirm(t("voices.deleteConfirm", { name: voice.name }))) return;
    if (this.requested === voice.id) this.player.pause();
    try {
      await api.deleteVoice(voice.id);
      say(this.el.message, t("voices.deleted", { name: voice.name }), "ok");
      await this.load();
    } catch (err) {
      say(this.el.message, err.message, "error"); // e.g. an unfinished job still uses it
    }
  }

  togglePlay(voice) {
    if (this.playing === voice.id) {
      this.player.pause();
      return;
    }
    this.requested = voice.id;
    this.player.src = api.voiceAudioUrl(voice.id);
    // (AbortError: another voice was asked for before this one started; not a failure.)
    this.player.play().catch((err) => err.name !== "AbortError" && say(this.el.message, err.message, "error"));
  }

  render() {
    const needle = this.el.filter.value.trim().toLowerCase();
    const shown = this.voices.filter((v) => !needle || [v.name, v.id, v.language, v.engine, v.notes, ...(v.tags || [])]
      .filter(Boolean).join(" ").toLowerCase().includes(needle));
    this.el.empty.hidden = shown.length > 0;
    this.el.rows.replaceChildren(...shown.map((v) => (v.id === this.editing ? this.editorRow(v) : this.row(v))));
  }

  row(v) {
    const id = v.id;
    const kind = v.read_only
      ? h("span", { class: "pill no", dataset: { testid: `voice-kind-${id}` } }, t("voices.kind.bundled", { engine: v.engine }))
      : h("span", { class: "pill yes", dataset: { testid: `voice-kind-${id}` } }, t("voices.kind.library"));
    const actions = v.read_only
      ? [h("span", { class: "muted small" }, t("voices.readOnly"))]
      : [
        h("button", { type: "button", class: "small", "aria-label": t("voices.playLabel", { name: v.name }),
          dataset: { testid: `voice-play-${id}`, playing: String(this.playing === id) },
          onclick: () => this.togglePlay(v) }, t(this.playing === id ? "voices.stop" : "voices.play")),
        h("button", { type: "button", class: "small", dataset: { testid: `voice-edit-${id}` },
          onclick: () => { this.editing = id; this.render(); } }, t("voices.edit")),
        h("a", { class: "button-like small", href: api.voiceExportUrl(id), download: "",
          dataset: { testid: `voice-export-${id}` } }, t("voices.export")),
        h("button", { type: "button", class: "small ghost danger", dataset: { testid: `voice-delete-${id}` },
          onclick: () => this.remove(v) }, t("voices.delete")),
      ];
    return h("tr", { dataset: { testid: `voice-row-${id}`, kind: v.kind } },
      h("td", { class: "text" }, h("strong", { dataset: { testid: `voice-name-${id}` } }, v.name),
        v.notes ? h("div", { class: "muted small notes" }, v.notes) : null,
        v.terms ? h("div", { class: "small warn", title: v.terms, dataset: { testid: `voice-terms-${id}` } },
          termsLabel(v.terms)) : null,
        h("div", { class: "muted small mono" }, v.read_only ? v.voice : id)),
      h("td", {}, v.language || "–"),
      h("td", {}, (v.tags || []).map((tag) => h("span", { class: "tag" }, tag))),
      h("td", { class: "num" }, v.seconds == null ? "–" : t("dur.s", { s: formatNumber(v.seconds, 1) })),
      h("td", {}, kind),
      h("td", { class: "row-actions" }, actions));
  }

  editorRow(v) {
    const id = v.id;
    const input = (field, value, attrs = {}) => h("input", {
      type: "text", value: value || "", "aria-label": t(`voices.field.${field}`),
      dataset: { testid: `voice-edit-${field}-${id}` }, ...attrs,
    });
    const inputs = {
      name: input("name", v.name, { maxlength: "80", required: true }),
      language: input("language", v.language, { maxlength: "16", placeholder: t("voices.field.languagePlaceholder") }),
      tags: input("tags", (v.tags || []).join(", "), { placeholder: t("voices.field.tagsPlaceholder") }),
      notes: input("notes", v.notes, { maxlength: "2000" }),
    };
    const cell = (field) => h("label", { class: "voice-edit-field" }, h("span", { class: "small muted" }, t(`voices.field.${field}`)), inputs[field]);
    return h("tr", { class: "editing", dataset: { testid: `voice-row-${id}`, kind: v.kind } },
      h("td", { colspan: "5" }, h("div", { class: "voice-edit" }, ["name", "language", "tags", "notes"].map(cell))),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "small primary", dataset: { testid: `voice-save-${id}` },
          onclick: () => this.save(v, inputs) }, t("voices.save")),
        h("button", { type: "button", class: "small", dataset: { testid: `voice-cancel-${id}` },
          onclick: () => { this.editing = null; this.render(); } }, t("voices.cancel"))));
  }

  relabel() {
    if (!this.el.file.files[0]) this.el.fileName.textContent = t("voices.add.none");
    this.el.submit.textContent = t("voices.add.submit");
    this.render();
  }
}
