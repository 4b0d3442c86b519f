// The cast of a script: characters by name, each with a voice (and a speed and an emotion of
// its own).
// A script names them in dialogue lines ("Pooh: Hello!") and [voice: Pooh] directions; the
// server (jobs/plan.py) checks every voice before any work, and its error is shown as it is.
// Also the speaker tag the preview and the segment table show, in a colour of its own.

import { h } from "./dom.js";
import { t } from "./i18n.js";

/** A hue (0-359) that is always the same for the same name (any case). */
export function speakerHue(name) {
  let hash = 2166136261; // FNV-1a over the name's UTF-16 code units
  for (const ch of String(name).toLowerCase()) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash % 360;
}

/** The speaker of a segment as a coloured tag; null for the narrator (no speaker). */
export function speakerTag(name, testid) {
  if (!name) return null;
  return h("span", {
    class: "speaker", style: `--speaker-hue: ${speakerHue(name)}`, title: t("cast.speakerTitle", { name }),
    dataset: { testid, speaker: name },
  }, name);
}

export class CastEditor {
  /**
   * @param {HTMLElement} root the <details> that holds the editor
   * @param {{voiceOptions: () => Node[]}} hooks the voice picker's choices ("engine|voice" values)
   */
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.rows = [];
    this.list = root.querySelector("#cast-rows");
    this.summary = root.querySelector("#cast-count");
    this.dialogueSelect = root.querySelector("#dialogue-voice");
    this.attribution = root.querySelector("#dialogue-attribution");
    this.emotionClips = root.querySelector("#cast-emotion-clips");
    this.fillDialogue();
    this.fillEmotionClips();
    root.querySelector("#cast-add").addEventListener("click", () => {
      const row = this.addRow();
      row.name.focus();
    });
  }

  /** One more character: {name, voice: "engine|voice", speed, emotion}. */
  addRow({ name = "", voice = "", speed = "", emotion = "" } = {}) {
    const n = this.rows.length;
    const row = {};
    row.name = h("input", {
      type: "text", maxlength: "40", value: name, class: "cast-name", dataset: { testid: `cast-name-${n}` },
      oninput: () => this.renderCount(),
    });
    row.voice = h("select", { class: "cast-voice", dataset: { testid: `cast-voice-${n}` } });
    row.speed = h("input", {
      type: "number", min: "0.5", max: "2", step: "0.05", value: speed, class: "cast-speed",
      dataset: { testid: `cast-speed-${n}` },
    });
    // Free text, as an [emotion: ...] direction takes it (words, NAME=V,... or a clip id, the
    // clips offered); which forms an engine takes only the server knows, and says.
    row.emotion = h("input", {
      type: "text", maxlength: "200", value: emotion, list: "cast-emotion-clips", class: "cast-emotion",
      dataset: { testid: `cast-emotion-${n}` },
    });
    row.remove = h("button", {
      type: "button", class: "small ghost danger", dataset: { testid: `cast-remove-${n}` },
      onclick: () => this.removeRow(row),
    });
    row.labels = [0, 1, 2, 3].map(() => h("span", { class: "label small" }));
    row.li = h("li", { class: "cast-row", dataset: { testid: `cast-row-${n}` } },
      h("label", { class: "cast-field" }, row.labels[0], row.name),
      h("label", { class: "cast-field wide" }, row.labels[1], row.voice),
      h("label", { class: "cast-field narrow" }, row.labels[2], row.speed),
      h("label", { class: "cast-field" }, row.labels[3], row.emotion),
      row.remove);
    this.rows.push(row);
    this.list.append(row.li);
    this.fillVoices(row, voice);
    this.label(row);
    this.root.open = true;
    this.renderCount();
    return row;
  }

  /** Rows for a preset's cast ({name: {voice, engine, speed, emotion}}); none (or {}): no rows. */
  set(cast) {
    for (const row of this.rows) row.li.remove();
    this.rows = [];
    for (const [name, member] of Object.entries(cast || {})) {
      const voice = member.voice ? `${member.engine || "auto"}|${member.voice}` : "";
      this.addRow({ name, voice, speed: member.speed ?? "", emotion: member.emotion ?? "" });
    }
    this.renderCount();
  }

  /** Sets the dialogue voice ("" off) and whether attributions count; false when the
   * voice is not among the choices (then it is off). */
  setDialogue(voice, attribution = true) {
    this.fillDialogue(voice);
    this.attribution.checked = attribution;
    return this.dialogueSelect.value === voice;
  }

  removeRow(row) {
    this.rows = this.rows.filter((r) => r !== row);
    row.li.remove();
    this.renderCount();
  }

  fillVoices(row, select = row.voice.value) {
    row.voice.replaceChildren(h("option", { value: "" }, t("cast.pickVoice")), ...this.hooks.voiceOptions());
    row.voice.value = select;
    if (row.voice.value !== select) row.voice.value = "";
  }

  /** The voice picker changed (engines, clips or library voices loaded): keep each choice. */
  refreshVoices() {
    for (const row of this.rows) this.fillVoices(row);
    this.fillDialogue();
    this.fillEmotionClips();
  }

  /** The emotion fields' suggestions: every clip of the voice picker, by id (a cloning
   * engine takes one as the emotion of a character's lines). */
  fillEmotionClips() {
    const clips = new Map();
    for (const option of this.hooks.voiceOptions().flatMap((group) => [...group.querySelectorAll("option")])) {
      const voice = option.value.split("|")[1];
      if (voice.startsWith("clip-")) clips.set(voice, option.textContent);
    }
    this.emotionClips.replaceChildren(...[...clips].map(([id, name]) => h("option", { value: id, label: name })));
  }

  label(row) {
    row.labels[0].textContent = t("cast.name");
    row.labels[1].textContent = t("cast.voice");
    row.labels[2].textContent = t("cast.speed");
    row.labels[3].textContent = t("cast.emotion");
    row.name.placeholder = t("cast.namePlaceholder");
    row.speed.placeholder = t("cast.speedPlaceholder");
    row.emotion.placeholder = t("cast.emotionPlaceholder");
    row.remove.textContent = t("cast.remove");
    row.remove.setAttribute("aria-label", t("cast.removeLabel", { name: row.name.value || "—" }));
  }

  relabel() {
    for (const row of this.rows) {
      this.label(row);
      this.fillVoices(row);
    }
    this.fillEmotionClips();
    this.renderCount();
  }

  /** The dialogue voice's choices: off, each named character, each voice of the picker (as
   * the API names it: "engine:voice" for a bundled voice, a clip id for a library voice). */
  fillDialogue(select = this.dialogueSelect.value) {
    const names = [...new Set(this.rows.map((r) => r.name.value.trim()).filter(Boolean))];
    const voices = this.hooks.voiceOptions();
    for (const group of voices) {
      for (const option of group.querySelectorAll("option")) {
        const [engine, voice] = option.value.split("|");
        option.value = voice.startsWith("clip-") ? voice : `${engine}:${voice}`;
      }
    }
    this.dialogueSelect.replaceChildren(
      h("option", { value: "" }, t("cast.dialogueOff")),
      ...(names.length ? [h("optgroup", { label: t("cast.dialogueCast") },
        ...names.map((name) => h("option", { value: name }, name)))] : []),
      ...voices);
    this.dialogueSelect.value = select;
    if (this.dialogueSelect.value !== select) this.dialogueSelect.value = "";
  }

  /** Automatic dialogue as the API takes it: {voice, attribution}, or null when off. */
  dialogue() {
    const voice = this.dialogueSelect.value;
    return voice ? { voice, attribution: this.attribution.checked } : null;
  }

  renderCount() {
    this.fillDialogue();
    const named = this.rows.filter((r) => r.name.value.trim()).length;
    this.summary.textContent = named ? t("cast.count", { n: named }) : "";
  }

  /** {cast} as the API takes it ({} for none), or {error}: a row without a name or a voice,
   * or one name twice. The rest (names, voices, speeds, emotions) the server checks. */
  value() {
    const cast = {};
    const seen = new Set();
    for (const row of this.rows) {
      const name = row.name.value.trim();
      const emotion = row.emotion.value.trim();
      if (!name && !row.voice.value && row.speed.value === "" && !emotion) continue; // an empty row
      if (!name) return { error: t("cast.needName") };
      if (!row.voice.value) return { error: t("cast.needVoice", { name }) };
      if (seen.has(name.toLowerCase())) return { error: t("cast.twice", { name }) };
      seen.add(name.toLowerCase());
      const [engine, voice] = row.voice.value.split("|");
      const member = { voice, engine };
      if (row.speed.value !== "") member.speed = Number(row.speed.value);
      if (emotion) member.emotion = emotion;
      cast[name] = member;
    }
    return { cast };
  }
}
