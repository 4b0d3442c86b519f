// Engine settings as form controls, by kind, for the compose form (app.js) and the editor of
// one segment (job.js): numbers and whole numbers (a slider beside a number box), text,
// choices, reference clips; the emotion of the cloning engines as one fieldset where a
// single way (clip, vector or text) is picked; sampling settings in a collapsed "Advanced".
//
// A setting the server marks `ignored` (it has no effect in this configuration, and the
// server refuses it) is shown disabled with the reason, and never sent.

import { h } from "./dom.js";
import { choiceLabel, formatNumber, optionLabel, t } from "./i18n.js";

/** The 8 values of IndexTTS2's emotion vector, in the model's order. */
export const EMOTION_VECTOR = [
  "emo_happy", "emo_angry", "emo_sad", "emo_afraid", "emo_disgusted", "emo_melancholic", "emo_surprised", "emo_calm",
];
const STRENGTH = "emo_alpha";
/** The settings each emotion way uses (capabilities.emotion names the ways). */
const MODE_SETTINGS = { reference: ["emotion_clip"], vector: EMOTION_VECTOR, text: ["emotion_text"] };
const EMOTION = new Set([STRENGTH, ...Object.values(MODE_SETTINGS).flat()]);
const ADVANCED = new Set([
  "temperature", "top_p", "top_k", "num_beams", "repetition_penalty", "length_penalty", "max_mel_tokens",
  "max_text_tokens_per_segment", "interval_silence", "diffusion_steps",
]);

/** An engine's settings split into {basic, emotion, advanced}, leaving out `skip` names. */
export function groupSettings(engine, skip = []) {
  const groups = { basic: [], emotion: [], advanced: [] };
  for (const spec of (engine && engine.settings) || []) {
    if (skip.includes(spec.name)) continue;
    const group = EMOTION.has(spec.name) ? "emotion" : ADVANCED.has(spec.name) ? "advanced" : "basic";
    groups[group].push(spec);
  }
  return groups;
}

const isNumeric = (spec) => spec.kind === "number" || spec.kind === "integer" || !spec.kind;

/** Whether two values of a setting are the same (numbers by value, the rest as text). */
export function sameValue(spec, a, b) {
  if (isNumeric(spec)) return Number(a) === Number(b);
  return String(a ?? "") === String(b ?? "");
}

function stepFor(spec) {
  if (spec.kind === "integer") return 1;
  const span = spec.maximum - spec.minimum;
  return span > 10 ? 1 : span > 2 ? 0.1 : 0.05;
}

function clipOptions(clips, value) {
  const options = [h("option", { value: "" }, t("settings.clipNone"))];
  for (const clip of clips) {
    options.push(h("option", { value: clip.id }, t("clip.label", { name: clip.name, seconds: formatNumber(clip.seconds, 1) })));
  }
  if (value && !clips.some((c) => c.id === value)) options.push(h("option", { value }, value)); // a clip not listed (yet)
  return options;
}

/**
 * A control for one setting. `opts`: {id, testid, value, clips, compact, onchange}. Returns
 * {spec, el, input, get(), set(value), ignored}; get() gives a number for number kinds (null
 * when the box does not hold one) and a string for the others.
 */
export function settingControl(spec, opts) {
  const { id, testid, clips = [], compact = false } = opts;
  const value = opts.value ?? spec.default;
  const ignored = Boolean(spec.ignored);
  const data = { testid, name: spec.name, kind: spec.kind || "number", ...(ignored ? { ignored: "true" } : {}) };
  const help = ignored ? t("settings.ignored", { reason: spec.ignored }) : [spec.name, spec.help].filter(Boolean).join(" — ");
  let input;
  let range = null;
  if (spec.kind === "text") {
    input = h("input", { type: "text", id, maxlength: String(spec.maximum || 300), value: String(value ?? ""), dataset: data });
  } else if (spec.kind === "choice") {
    input = h("select", { id, dataset: data },
      (spec.choices || []).map((c) => h("option", { value: c }, choiceLabel(spec.name, c))));
    input.value = String(value);
  } else if (spec.kind === "clip") {
    input = h("select", { id, dataset: data }, clipOptions(clips, value));
    input.value = String(value ?? "");
  } else {
    input = h("input", {
      type: "number", id, min: spec.minimum, max: spec.maximum, step: stepFor(spec), value, dataset: data,
    });
    if (!compact) {
      range = h("input", { type: "range", min: spec.minimum, max: spec.maximum, step: spec.kind === "integer" ? 1 : "any", value, tabindex: "-1", "aria-hidden": "true" });
      range.addEventListener("input", () => { input.value = range.value; input.dispatchEvent(new Event("change")); });
      input.addEventListener("input", () => { range.value = input.value; });
    }
  }
  input.disabled = ignored;
  if (ignored) input.title = help;
  if (opts.onchange) input.addEventListener("change", opts.onchange);
  const label = optionLabel(spec.name);
  const note = ignored
    ? h("span", { class: "small hint ignored", dataset: { testid: `${testid}-ignored` } }, help)
    : isNumeric(spec) && !compact
      ? h("span", { class: "muted small hint", title: help },
        t("settings.range", { min: spec.minimum, max: spec.maximum, default: formatNumber(spec.default, spec.kind === "integer" ? 0 : 2) }))
      : null;
  let el;
  if (compact) {
    el = h("label", { class: `seg-option kind-${data.kind}${ignored ? " is-ignored" : ""}`, title: help },
      h("span", {}, label), input, ignored ? note : null);
  } else if (range) {
    el = h("div", { class: `field slider${ignored ? " is-ignored" : ""}` },
      h("label", { for: id, title: help }, label), range, input, note);
    range.disabled = ignored;
  } else {
    el = h("div", { class: `field setting kind-${data.kind}${ignored ? " is-ignored" : ""}` },
      h("label", { for: id, title: help }, label), input, note);
  }
  const get = () => {
    if (!isNumeric(spec)) return input.value;
    const number = Number(input.value);
    return input.value === "" || !isFinite(number) ? null : number;
  };
  const set = (v) => {
    input.value = String(v ?? "");
    if (range) range.value = input.value;
  };
  return { spec, el, input, get, set, ignored };
}

/** The way a set of values gives the emotion: "reference", "vector", "text" or "none". */
export function emotionModeOf(values) {
  if (values.emotion_clip) return "reference";
  if (EMOTION_VECTOR.some((name) => Number(values[name] || 0) > 0)) return "vector";
  if (values.emotion_text) return "text";
  return "none";
}

/**
 * The emotion fieldset for `engine` (null when it takes no emotion): a radio per way it
 * offers, and only the controls of the chosen way (plus the strength). `opts`: {idPrefix,
 * testid (of the fieldset; radios are `${testid}-mode-${mode}`), controlTestid(name), values,
 * mode, clips, compact, onchange}.
 *
 * Returns {el, mode(), setMode(m), values(), check(), reset()}: values() gives every emotion
 * setting as it should be sent, the settings of the other ways at their defaults, so two
 * ways never go out together.
 */
export function emotionEditor(engine, specs, opts) {
  const ways = (engine.capabilities && engine.capabilities.emotion) || [];
  const byName = new Map(specs.map((s) => [s.name, s]));
  const modes = Object.keys(MODE_SETTINGS).filter((mode) =>
    ways.includes(mode) && MODE_SETTINGS[mode].every((name) => byName.has(name) && !byName.get(name).ignored));
  if (!modes.length) return null;
  const values = opts.values || {};
  const controls = new Map();
  const control = (name) => {
    const spec = byName.get(name);
    const ctrl = settingControl(spec, {
      id: `${opts.idPrefix}-${name}`, testid: opts.controlTestid(name), value: values[name], clips: opts.clips,
      compact: opts.compact, onchange: opts.onchange,
    });
    controls.set(name, ctrl);
    return ctrl.el;
  };
  const sections = {};
  for (const mode of modes) {
    const names = MODE_SETTINGS[mode];
    sections[mode] = h("div", { class: `emotion-way way-${mode}`, dataset: { way: mode } },
      names.map(control));
  }
  const strength = byName.has(STRENGTH) ? h("div", { class: "emotion-strength" }, control(STRENGTH)) : null;

  let current = [opts.mode, emotionModeOf(values)].find((m) => m === "none" || modes.includes(m)) || "none";
  const group = `${opts.idPrefix}-emotion-mode`;
  const radios = ["none", ...modes].map((mode) => {
    const radio = h("input", {
      type: "radio", name: group, value: mode, checked: mode === current,
      dataset: { testid: `${opts.testid}-mode-${mode}` },
    });
    radio.addEventListener("change", () => {
      if (!radio.checked) return;
      current = mode;
      show();
      if (opts.onchange) opts.onchange();
    });
    return h("label", { class: "radio" }, radio, h("span", {}, t(`emotion.mode.${mode}`)));
  });
  const hint = h("p", { class: "muted small emotion-hint" });
  const el = h("fieldset", { class: `emotion${opts.compact ? " compact" : ""}`, dataset: { testid: opts.testid } },
    h("legend", {}, t("emotion.heading")),
    h("div", { class: "emotion-modes", role: "radiogroup", "aria-label": t("emotion.heading") }, radios),
    hint, Object.values(sections), strength);
  function show() {
    for (const [mode, section] of Object.entries(sections)) section.hidden = mode !== current;
    if (strength) strength.hidden = current === "none";
    hint.textContent = t(`emotion.help.${current}`);
    el.dataset.mode = current;
  }
  show();

  return {
    el,
    mode: () => current,
    setMode(mode) {
      current = mode;
      for (const label of radios) {
        const radio = label.querySelector("input");
        radio.checked = radio.value === mode;
      }
      show();
    },
    /** Every emotion setting as it should be sent (the unchosen ways at their defaults). */
    values() {
      const out = {};
      const chosen = new Set(current === "none" ? [] : [...MODE_SETTINGS[current], STRENGTH]);
      for (const [name, ctrl] of controls) {
        if (ctrl.ignored) continue;
        out[name] = chosen.has(name) ? ctrl.get() : ctrl.spec.default;
      }
      return out;
    },
    /** A message key when the chosen way is incomplete, else null. */
    check() {
      if (current === "reference" && !controls.get("emotion_clip").get()) return "emotion.needClip";
      return null;
    },
    reset() {
      for (const ctrl of controls.values()) ctrl.set(ctrl.spec.default);
      this.setMode("none");
    },
    controls,
  };
}

/**
 * A form for `engine`'s settings: basic controls, the emotion fieldset and a collapsed
 * "Advanced" area. `opts`: {idPrefix, testid(name), emotionTestid, advancedTestid, values,
 * mode, advancedOpen, clips, compact, skip, onchange}. Returns {basic, emotion, advanced,
 * controls (every control outside the emotion fieldset)}; the caller places the parts.
 */
export function settingsForm(engine, opts) {
  const groups = groupSettings(engine, opts.skip || []);
  const values = opts.values || {};
  const make = (spec) => settingControl(spec, {
    id: `${opts.idPrefix}-${spec.name}`, testid: opts.testid(spec.name), value: values[spec.name], clips: opts.clips,
    compact: opts.compact, onchange: opts.onchange,
  });
  const basic = groups.basic.map(make);
  const advancedControls = groups.advanced.map(make);
  const advanced = advancedControls.length
    ? h("details", { class: "advanced", open: Boolean(opts.advancedOpen), dataset: { testid: opts.advancedTestid } },
      h("summary", {}, t("settings.advanced")),
      h("div", { class: opts.compact ? "seg-options" : "advanced-body" }, advancedControls.map((c) => c.el)))
    : null;
  const emotion = groups.emotion.length
    ? emotionEditor(engine, groups.emotion, {
      idPrefix: opts.idPrefix, testid: opts.emotionTestid, controlTestid: opts.testid, values, mode: opts.mode,
      clips: opts.clips, compact: opts.compact, onchange: opts.onchange,
    })
    : null;
  return { basic, emotion, advanced, controls: [...basic, ...advancedControls] };
}

/**
 * What a form's controls hold that differs from `baseline(spec)`, as sent to the API.
 * Ignored settings never go out. Returns {options, error}: error is a message key and its
 * vars when a box holds no valid value.
 */
export function changedOptions(form, baseline) {
  const options = {};
  for (const ctrl of form.controls) {
    if (ctrl.ignored) continue;
    const value = ctrl.get();
    if (value === null) return { options, error: ["settings.invalid", { name: optionLabel(ctrl.spec.name) }] };
    if (!sameValue(ctrl.spec, value, baseline(ctrl.spec))) options[ctrl.spec.name] = value;
  }
  if (form.emotion) {
    const problem = form.emotion.check();
    if (problem) return { options, error: [problem, {}] };
    for (const [name, value] of Object.entries(form.emotion.values())) {
      const spec = form.emotion.controls.get(name).spec;
      if (value === null) return { options, error: ["settings.invalid", { name: optionLabel(name) }] };
      if (!sameValue(spec, value, baseline(spec))) options[name] = value;
    }
  }
  return { options, error: null };
}
