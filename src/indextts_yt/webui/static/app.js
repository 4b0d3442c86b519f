// The page: voice picker, script, settings, preview, generate, job history.
// The narration being followed lives in job.js.

import { CastEditor, speakerTag } from "./cast.js";
import { api, askForKey } from "./client.js";
import { $, badge, h, say, throttle, withCode } from "./dom.js";
import {
  apply, formatDate, formatDuration, formatNumber, formatSize, lang, onLangChange, setLang, stateLabel, t, termsLabel,
  tNodes,
} from "./i18n.js";
import { JobView } from "./job.js";
import {
  applyOutput, downloadLinks, notesList, outputFields, relabelOutput, reportView, resetOutput, setupOutput,
} from "./output.js";
import { setupDictionary } from "./dictionary.js";
import { setupPresets } from "./presets.js";
import { refresh as refreshQueue, setupQueue } from "./queue.js";
import { changedOptions, emotionModeOf, settingsForm } from "./settings.js";
import { VoicesPanel } from "./voices.js";

// Characters a minute of narration when the engine gives no rate of its own (its
// capabilities.chars_per_minute): typical English (150 words) and Mandarin (Han characters).
const TYPICAL_RATES = { en: 850, zh: 280 };
const HAN = /\p{Script=Han}/gu;
const MAX_SCRIPT_BYTES = 5 * 1024 * 1024;
const PREVIEW_ROWS = 300; // rows shown; the counts always cover the whole script
const VOICE_STORAGE = "indextts-yt.voice";
const ACTIVE = new Set(["queued", "running", "paused"]);

const state = {
  engines: [],
  clips: [], // reference clips: [{id, name, seconds, sample_rate}]
  library: [], // the voice library's own voices (named clips): [{id, name, seconds, ...}]
  preview: null, // {text, segments}
  jobs: [],
  clone: { light: "off", text: () => t("clone.status.none") }, // the clip status line
  preloaded: new Map(), // "engine|clip id" -> the answer of its preload
  openWarnings: new Set(), // history rows whose warnings are unfolded
};

/** The engine settings on screen: one settingsForm() per engine in play. */
const form = { groups: [] };
/** What the user set per engine, kept while the form is rebuilt (engine or language change). */
const kept = { values: {}, modes: {}, advancedOpen: {} };
const clipPlayer = new Audio();

const el = {
  voice: $("#voice-select"), engineInfo: $("#engine-info"),
  clonePanel: $("#clone-panel"), cloneNote: $("#clone-note"), cloneControls: $("#clone-controls"),
  cloneFile: $("#clone-file"), clonePreload: $("#clone-preload"), cloneLight: $("#clone-light"),
  cloneStatus: $("#clone-status"), cloneDrop: $("#clone-drop"), clonePlay: $("#clone-play"),
  emotionArea: $("#emotion-area"),
  title: $("#title-input"), script: $("#script-input"), scriptFile: $("#script-file"),
  counts: $("#script-counts"),
  speed: $("#speed-input"), speedRange: $("#speed-range"),
  maxChars: $("#max-chars"), maxCharsHint: $("#max-chars-hint"), checkMode: $("#check-mode"),
  pauses: {
    clause: $("#pause-clause"), sentence: $("#pause-sentence"), paragraph: $("#pause-paragraph"),
    heading: $("#pause-heading"),
  },
  engineOptions: $("#engine-options"), settingsReset: $("#settings-reset"),
  streaming: $("#streaming-toggle"),
  previewButton: $("#preview-button"), generate: $("#generate-button"), message: $("#compose-message"),
  preview: $("#preview"), previewCounts: $("#preview-counts"), previewRows: $("#preview-rows"),
  previewStale: $("#preview-stale"), previewNotes: $("#preview-notes"),
  historyRows: $("#history-rows"), historyEmpty: $("#history-empty"), historyRefresh: $("#history-refresh"),
};

// The library panel: after every change the voice picker gets the library's voices (and the
// clips again, since adding or deleting a voice adds or deletes its clip).
const voicesPanel = new VoicesPanel({
  onChange: async (voices) => {
    state.library = voices.filter((v) => v.kind === "library");
    if (state.engines.some((e) => e.available !== false && isCloning(e))) await loadClips();
    renderVoices();
  },
});

// The cast: its voice pickers offer the voice picker's own choices that name a voice.
const castEditor = new CastEditor($("#cast-panel"), { voiceOptions: castVoiceOptions });

const jobView = new JobView({
  engines: () => state.engines,
  clips: () => state.clips,
  onChange: () => {
    refreshHistory();
    refreshQueue();
  },
});

// ---- voice and engines ------------------------------------------------------------------

/** The user's choice: {engine: "auto"|name, voice: id|null}. */
function choice() {
  const [engine, voice] = el.voice.value.split("|");
  return { engine: engine || "auto", voice: voice || null };
}

const isCloning = (engine) => Boolean(engine && engine.capabilities && engine.capabilities.cloning);

function engineNamed(name) {
  return state.engines.find((e) => e.name === name && e.available !== false) || null;
}

/** Engines the choice can use: the chosen one, or for "auto" the built-in ones it picks from
 * (a cloning engine needs a clip, so "auto" never picks one). */
function enginesInPlay() {
  const { engine } = choice();
  const usable = state.engines.filter((e) => e.available !== false);
  return engine === "auto" ? usable.filter((e) => !isCloning(e)) : usable.filter((e) => e.name === engine);
}

function clipLabel(clip) {
  return t("clip.label", { name: clip.name, seconds: formatNumber(clip.seconds, 1) });
}

/** Fill the voice picker; `select` is the value to keep selected ("engine|voice"). */
function renderVoices(select = el.voice.value || localStorage.getItem(VOICE_STORAGE) || "auto|") {
  const options = [h("option", { value: "auto|" }, t("voice.auto"))];
  for (const engine of state.engines) {
    if (engine.available === false) {
      // Shown, but it cannot be picked: the reason says what to install or download.
      const why = unavailableTitle(engine);
      options.push(h("optgroup", { label: t("voice.unavailable", { engine: engine.name }), title: why },
        h("option", { value: `${engine.name}|`, disabled: true, title: why, dataset: { testid: `voice-unavailable-${engine.name}` } },
          t("voice.unavailableOption", { engine: engine.name }))));
      continue;
    }
    const cloning = isCloning(engine);
    const group = h("optgroup", { label: `${engine.name} — ${t(cloning ? "engine.cloning.yes" : "engine.cloning.no")}` });
    if (cloning) {
      // A cloning engine speaks in the voice of a reference clip: the library's voices by
      // name first, then the clips stored without one (uploaded here, or used once).
      const named = new Set(state.library.map((v) => v.id));
      group.append(h("option", { value: `${engine.name}|` }, t("voice.pickClip", { engine: engine.name })),
        ...state.library.map((v) => h("option", { value: `${engine.name}|${v.id}`, title: v.notes || "" },
          t("clip.libraryLabel", { name: v.name, seconds: formatNumber(v.seconds, 1) }))),
        ...state.clips.filter((clip) => !named.has(clip.id))
          .map((clip) => h("option", { value: `${engine.name}|${clip.id}` }, clipLabel(clip))));
    } else {
      // This engine with each language's default voice (a preset or the CLI's --engine alone).
      group.append(h("option", { value: `${engine.name}|` }, t("voice.engineDefault", { engine: engine.name })));
    }
    for (const voice of engine.voices || []) {
      const text = [voice.name || voice.id, voice.language && `(${voice.language})`,
        voice.terms && `— ${termsLabel(voice.terms)}`].filter(Boolean).join(" ");
      group.append(h("option", { value: `${engine.name}|${voice.id}`, title: voice.description || "" }, text));
    }
    options.push(group);
  }
  el.voice.replaceChildren(...options);
  el.voice.value = select;
  const picked = el.voice.selectedOptions[0];
  if (el.voice.value !== select || !picked || picked.disabled) el.voice.value = "auto|";
  renderEngineInfo();
  castEditor.refreshVoices();
}

/** The voice picker's choices a character can take: its groups, without "automatic", an
 * engine's default voice or what cannot be picked (every option left names a voice). */
function castVoiceOptions() {
  const groups = [];
  for (const group of el.voice.querySelectorAll("optgroup")) {
    const options = [...group.querySelectorAll("option")]
      .filter((o) => !o.disabled && !o.value.endsWith("|"))
      .map((o) => o.cloneNode(true));
    if (options.length) groups.push(h("optgroup", { label: group.label }, ...options));
  }
  return groups;
}

function renderEngineInfo() {
  const { engine } = choice();
  const items = [];
  if (engine === "auto") items.push(h("li", { class: "muted" }, t("voice.autoHelp")));
  for (const e of enginesInPlay()) {
    const caps = e.capabilities || {};
    const emotion = (caps.emotion || []).map((mode) => t(`emotion.mode.${mode}`)).join(", ");
    items.push(h("li", { dataset: { testid: `engine-${e.name}` } },
      h("strong", {}, e.name), " ",
      h("span", { class: `pill ${caps.cloning ? "yes" : "no"}`, dataset: { testid: `engine-cloning-${e.name}` } },
        t(caps.cloning ? "engine.cloning.yes" : "engine.cloning.no")),
      " ", h("span", { class: "muted small" }, [
        t("engine.rate", { rate: e.sample_rate }),
        caps.cloning ? t("engine.clips", { n: state.clips.length }) : t("engine.voices", { n: (e.voices || []).length }),
        t("engine.languages", { list: (caps.languages || []).join(", ") }),
        emotion ? t("engine.emotion", { list: emotion }) : null,
        caps.streaming ? t("engine.streaming") : null,
        e.load ? t("engine.load", { device: e.load.device, flags: loadFlags(e.load) }) : null,
      ].filter(Boolean).join(" · "))));
  }
  // Engines that cannot run here, with what to install: always in view, not only in a tooltip,
  // the commands in the server's reason as <code> to copy verbatim. The reason is the
  // server's English line, kept as it is and marked as English inside a translated label.
  for (const e of state.engines.filter((x) => x.available === false)) {
    items.push(h("li", { class: "unavailable small", title: unavailableTitle(e), dataset: { testid: `engine-unavailable-${e.name}` } },
      tNodes("voice.unavailableNote", {
        engine: e.name,
        reason: h("span", { lang: "en", dataset: { testid: `engine-reason-${e.name}` } }, withCode(e.reason)),
      })));
  }
  el.engineInfo.replaceChildren(...items);
  renderMaxCharsHint();
  renderClonePanel();
  renderEngineOptions();
}

/** Why an engine cannot run here, as a tooltip: the server's reason inside a translated label. */
function unavailableTitle(engine) {
  return t("voice.unavailableNote", { engine: engine.name, reason: engine.reason || "" });
}

/** The serve flags a model was loaded with (--fp16, --accel, ...), as the user typed them. */
function loadFlags(load) {
  const flags = [["fp16", "--fp16"], ["accel", "--accel"], ["compile", "--compile"], ["cuda_kernel", "--cuda-kernel"]]
    .filter(([key]) => load[key]).map(([, flag]) => flag);
  return flags.length ? flags.join(" ") : "—";
}

// ---- reference clip (only for engines that clone) ----------------------------------------

function renderClonePanel() {
  const { engine, voice } = choice();
  const enabled = engine !== "auto" && enginesInPlay().some(isCloning);
  el.clonePanel.dataset.enabled = String(enabled);
  el.cloneControls.hidden = !enabled;
  el.clonePanel.disabled = !enabled;
  el.cloneNote.hidden = enabled;
  if (!enabled) {
    el.cloneNote.textContent = engine === "auto"
      ? t("clone.unavailableAuto")
      : t("clone.unavailable", { engine });
    stopClip();
  }
  el.clonePlay.disabled = !enabled || !voice;
  renderCloneStatus();
}

/** The status line of the clip area: a light and a text made in the current language. */
function setCloneStatus(light, text) {
  state.clone = { light, text };
  renderCloneStatus();
}

function renderCloneStatus() {
  const { light, text } = state.clone;
  el.cloneLight.dataset.state = light;
  el.cloneStatus.dataset.state = light;
  el.cloneStatus.textContent = text();
  el.clonePreload.disabled = !choice().voice || light === "loading";
  renderClipPlay();
}

/** The status for the clip now chosen: none, picked, or ready if it was preloaded. */
function cloneStatusForChoice() {
  const { engine, voice } = choice();
  // A library voice by its name; any other stored clip by its file's name.
  const clip = state.library.find((v) => v.id === voice) || state.clips.find((c) => c.id === voice);
  if (!clip) return setCloneStatus("off", () => t("clone.status.none"));
  const done = state.preloaded.get(`${engine}|${clip.id}`);
  if (done) return setCloneStatus("ready", () => t("clone.status.ready", { result: preloadResult(done) }));
  setCloneStatus("picked", () => t("clone.status.picked", { name: clip.name, seconds: formatNumber(clip.seconds, 1) }));
}

async function loadClips() {
  try {
    state.clips = await api.clips();
  } catch { /* the voice picker then lists no clips; an upload still works */ }
}

async function uploadClip(file) {
  if (!file || el.clonePanel.disabled) return;
  const { engine } = choice();
  setCloneStatus("loading", () => t("clone.status.uploading", { name: file.name }));
  el.cloneFile.disabled = true;
  try {
    const clip = await api.uploadClip(file);
    state.clips = [...state.clips.filter((c) => c.id !== clip.id), clip];
    const value = `${engine}|${clip.id}`;
    renderVoices(value);
    localStorage.setItem(VOICE_STORAGE, value);
    cloneStatusForChoice();
  } catch (err) {
    // The server's one line says what is wrong (too long, silent, not audio).
    setCloneStatus("error", () => t("clone.status.uploadError", { error: err.message }));
  } finally {
    el.cloneFile.disabled = false;
    el.cloneFile.value = "";
  }
}

function preloadResult(answer) {
  const seconds = formatNumber(answer.seconds, 1);
  switch (answer.result) {
    case "analysed": return t("clone.result.analysed", { seconds });
    case "loaded from the disk cache": return t("clone.result.disk", { seconds });
    case "already in memory": return t("clone.result.memory");
    default: return t("clone.result.other", { result: answer.result, seconds });
  }
}

async function preloadVoice() {
  const { engine, voice } = choice();
  if (!voice) return;
  setCloneStatus("loading", () => t("clone.status.loading"));
  const stillChosen = () => choice().engine === engine && choice().voice === voice;
  try {
    const answer = await api.preloadClip(voice, engine);
    state.preloaded.set(`${engine}|${voice}`, answer);
    if (stillChosen()) cloneStatusForChoice();
  } catch (err) {
    if (stillChosen()) setCloneStatus("error", () => t("clone.status.error", { error: err.message }));
  }
}

function toggleClip() {
  if (!clipPlayer.paused) return stopClip();
  const { voice } = choice();
  if (!voice) return;
  clipPlayer.src = api.clipAudioUrl(voice);
  clipPlayer.play().catch(() => renderClipPlay());
  renderClipPlay();
}

function stopClip() {
  if (!clipPlayer.paused) clipPlayer.pause();
  renderClipPlay();
}

function renderClipPlay() {
  const playing = !clipPlayer.paused && !clipPlayer.ended;
  el.clonePlay.textContent = t(playing ? "clone.stop" : "clone.play");
  el.clonePlay.dataset.playing = String(playing);
}

// ---- settings ---------------------------------------------------------------------------

/** Bounds of "speed" across the engines in play (most engines have it). */
function speedSpec() {
  const specs = enginesInPlay().map((e) => (e.settings || []).find((s) => s.name === "speed")).filter(Boolean);
  if (!specs.length) return null;
  return {
    minimum: Math.max(...specs.map((s) => s.minimum)),
    maximum: Math.min(...specs.map((s) => s.maximum)),
    default: specs[0].default,
  };
}

/** Remember what the form holds now, per engine, before it is rebuilt. */
function keepSettings() {
  for (const group of form.groups) {
    const name = group.engine.name;
    const values = (kept.values[name] = {});
    for (const ctrl of group.controls) values[ctrl.spec.name] = ctrl.input.value;
    if (group.emotion) {
      for (const [setting, ctrl] of group.emotion.controls) values[setting] = ctrl.input.value;
      kept.modes[name] = group.emotion.mode();
    }
    if (group.advanced) kept.advancedOpen[name] = group.advanced.open;
  }
}

function renderEngineOptions() {
  keepSettings();
  const engines = enginesInPlay();
  form.groups = engines.map((engine) => {
    const group = settingsForm(engine, {
      idPrefix: `opt-${engine.name}`, testid: (name) => `option-${engine.name}-${name}`,
      emotionTestid: "emotion-panel", advancedTestid: `advanced-${engine.name}`,
      values: kept.values[engine.name], mode: kept.modes[engine.name], advancedOpen: kept.advancedOpen[engine.name],
      clips: state.clips, skip: ["speed"],
    });
    if (engines.length > 1) group.emotion = null; // emotion is for one chosen engine
    group.engine = engine;
    return group;
  });
  el.engineOptions.replaceChildren(...form.groups.map((group) => {
    const fields = [...group.basic.map((c) => c.el), group.advanced].filter(Boolean);
    return h("fieldset", { class: "engine-group", dataset: { engine: group.engine.name } },
      h("legend", {}, t("settings.engineFor", { engine: group.engine.name })),
      fields.length ? fields : h("p", { class: "muted small" }, t("settings.none")));
  }));
  // The emotion of the chosen engine stays in view (not in the collapsed settings).
  const emotion = form.groups.map((g) => g.emotion).find(Boolean);
  el.emotionArea.replaceChildren(...(emotion ? [emotion.el] : []));
  const speed = speedSpec();
  el.speed.closest(".field").hidden = !speed;
  if (speed) {
    for (const input of [el.speed, el.speedRange]) {
      input.min = speed.minimum;
      input.max = speed.maximum;
    }
  }
}

function linkRange(range, input) {
  range.addEventListener("input", () => { input.value = range.value; });
  input.addEventListener("input", () => { range.value = input.value; });
}

/** The longest segment the engines in play take by default (the server's rule for a blank
 * box: the smallest of their limits). */
function defaultMaxChars() {
  const limits = enginesInPlay().map((e) => (e.capabilities || {}).max_segment_chars).filter(Boolean);
  return limits.length ? Math.min(...limits) : null;
}

function renderMaxCharsHint() {
  const n = defaultMaxChars();
  el.maxChars.placeholder = n ? String(n) : "";
  el.maxCharsHint.textContent = n ? t("settings.maxCharsHint", { n: formatNumber(n) }) : "";
}

/** The longest segment typed in the form: {value} (null: the engine's) or {error}. */
function maxCharsSetting() {
  const raw = el.maxChars.value.trim();
  if (!raw) return { value: null };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 20 || n > 2000) return { error: t("settings.maxCharsBad") };
  return { value: n };
}

/** Options the user changed, as sent to the API (defaults are left to the server), the
 * longest segment, the pauses and the output fields (format, loudness, ...), or an error
 * message when one is not valid. */
function jobSettings() {
  const options = {};
  for (const group of form.groups) {
    const changed = changedOptions(group, (spec) => spec.default);
    if (changed.error) return { error: t(...changed.error) };
    Object.assign(options, changed.options);
  }
  if (speedSpec()) options.speed = Number(el.speed.value) || 1;
  const pauses = {};
  for (const [name, input] of Object.entries(el.pauses)) {
    if (input.value !== "" && isFinite(Number(input.value))) pauses[name] = Number(input.value);
  }
  const maxChars = maxCharsSetting();
  if (maxChars.error) return { error: maxChars.error };
  const output = outputFields();
  if (output.error) return { error: output.error };
  // Only a mode the user picked is sent: unset, each engine keeps its own default.
  const checks = el.checkMode.value ? { mode: el.checkMode.value } : {};
  return { options, max_chars: maxChars.value, pauses, checks, output: output.fields, error: null };
}

function resetSettings() {
  const speed = speedSpec();
  el.speed.value = el.speedRange.value = speed ? speed.default : 1;
  el.maxChars.value = "";
  el.checkMode.value = "";
  for (const input of Object.values(el.pauses)) input.value = input.defaultValue;
  for (const group of form.groups) {
    for (const ctrl of group.controls) if (!ctrl.ignored) ctrl.set(ctrl.spec.default);
    if (group.emotion) group.emotion.reset();
  }
  resetOutput();
}

// ---- presets (presets.js): the form as a preset's settings, and a preset on the form ----

/** The form's choices shaped as a preset's settings: {settings} or {error}. */
function formSettings() {
  const problem = choiceProblem();
  if (problem) return { error: problem };
  const { options, max_chars, pauses, checks, output, error } = jobSettings();
  if (error) return { error };
  const { engine, voice } = choice();
  const settings = { engine, voice, options, pauses, output };
  if (max_chars != null) settings.max_chars = max_chars;
  if (checks.mode) settings.checks = checks;
  const { cast, error: castError } = castEditor.value();
  if (castError) return { error: castError };
  if (Object.keys(cast).length) settings.cast = cast;
  const dialogue = castEditor.dialogue();
  if (dialogue) settings.dialogue = dialogue;
  return { settings };
}

/** Set the voice and every control from a preset's settings (what it leaves out goes back to
 * its default). Returns what could not be shown, as message makers. */
function applySettings(settings) {
  const problems = [];
  const value = `${settings.engine || "auto"}|${settings.voice || ""}`;
  stopClip();
  renderVoices(value);
  if (el.voice.value === value) localStorage.setItem(VOICE_STORAGE, value);
  else problems.push(() => t("presets.voiceMissing", { voice: value.replace(/\|$/, "") }));
  cloneStatusForChoice();
  const options = settings.options || {};
  const shown = new Set(["speed"]);
  for (const group of form.groups) {
    for (const ctrl of group.controls) {
      shown.add(ctrl.spec.name);
      ctrl.set(options[ctrl.spec.name] ?? ctrl.spec.default);
    }
    if (group.emotion) {
      for (const [name, ctrl] of group.emotion.controls) {
        shown.add(name);
        ctrl.set(options[name] ?? ctrl.spec.default);
      }
      group.emotion.setMode(emotionModeOf(options));
    }
  }
  const speed = speedSpec();
  el.speed.value = el.speedRange.value = options.speed ?? (speed ? speed.default : 1);
  const hidden = Object.keys(options).filter((name) => !shown.has(name));
  if (hidden.length) problems.push(() => t("presets.optionsHidden", { names: hidden.join(", ") }));
  el.maxChars.value = settings.max_chars ?? "";
  el.checkMode.value = (settings.checks && settings.checks.mode) || "";
  const pauses = settings.pauses || {};
  for (const [name, input] of Object.entries(el.pauses)) input.value = pauses[name] ?? input.defaultValue;
  applyOutput(settings.output || {});
  castEditor.set(settings.cast);
  // After the cast: its names are dialogue voices too. A preset without dialogue turns it
  // off; one on with the narrator's voice (null) has no choice here, and is named as missing.
  const dialogue = settings.dialogue ? settings.dialogue.voice || "narrator" : "";
  const attribution = !settings.dialogue || settings.dialogue.attribution !== false;
  if (!castEditor.setDialogue(dialogue, attribution)) problems.push(() => t("presets.dialogueMissing", { voice: dialogue }));
  return problems;
}

/** A message when the choice cannot make speech yet (a cloning engine without a clip). */
function choiceProblem() {
  const { engine, voice } = choice();
  return isCloning(engineNamed(engine)) && !voice ? t("clone.needClip", { engine }) : null;
}

// ---- script, counts, preview ------------------------------------------------------------

/** Characters a minute the chosen engine (for "auto": the first that has one) speaks `language` at. */
function speakingRate(language) {
  const rates = enginesInPlay().map((e) => (e.capabilities && e.capabilities.chars_per_minute) || {});
  const own = rates.find((r) => r[language]) || rates.find((r) => r["*"]);
  return own ? own[language] || own["*"] : TYPICAL_RATES[language];
}

/** Seconds of speech for a script not previewed: Chinese takes three to four times as long a
 * character as English, so Han characters go at the Chinese rate and the rest at the English. */
function estimateSeconds(text) {
  const han = (text.match(HAN) || []).length;
  return (han / speakingRate("zh") + (text.length - han) / speakingRate("en")) * 60;
}

/** The preview's own estimate (its engines' rates, per segment and language). */
const previewSeconds = (segments) => segments.reduce((sum, s) => sum + (s.seconds ?? 0), 0);

const updateCounts = throttle(() => {
  const text = el.script.value;
  const current = state.preview && state.preview.text === text;
  const seconds = current ? previewSeconds(state.preview.segments) : estimateSeconds(text.trim());
  el.counts.textContent = t("script.counts", {
    chars: formatNumber(text.trim().length), duration: formatDuration(seconds),
  });
  el.counts.dataset.seconds = String(Math.round(seconds));
  el.previewStale.hidden = !state.preview || current;
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
  const problem = choiceProblem();
  if (problem) return say(el.message, problem, "error");
  const maxChars = maxCharsSetting();
  if (maxChars.error) return say(el.message, maxChars.error, "error");
  const { cast, error } = castEditor.value();
  if (error) return say(el.message, error, "error");
  el.previewButton.disabled = true;
  try {
    const { engine, voice } = choice();
    const result = await api.preview({ text, engine, voice, max_chars: maxChars.value, cast,
      dialogue: castEditor.dialogue() });
    state.preview = { text, segments: result.segments, notes: result.notes || [] };
    renderPreview();
    updateCounts.now(); // the script's estimate is now the preview's
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
    segments: formatNumber(segments.length), chars: formatNumber(chars),
    duration: formatDuration(previewSeconds(segments)),
  });
  el.previewCounts.dataset.segments = String(segments.length);
  const rows = segments.slice(0, PREVIEW_ROWS).map((s) => h("tr", { dataset: { testid: "preview-row" } },
    h("td", { class: "num" }, String(s.index + 1)),
    h("td", { class: "text" },
      s.chapter ? h("span", { class: "chapter", title: s.chapter }, t("seg.chapter")) : null,
      speakerTag(s.speaker, `preview-speaker-${s.index}`), s.text),
    h("td", { class: "num" }, formatNumber(s.chars ?? s.text.length)),
    h("td", { class: "nowrap" }, t(`pause.${s.pause_after}`)),
    h("td", { class: "small" }, `${s.engine} · ${s.voice}`, h("span", { class: "muted" }, ` (${s.language})`)),
  ));
  if (segments.length > PREVIEW_ROWS) {
    rows.push(h("tr", {}, h("td", { colspan: "5", class: "muted" }, t("preview.more", { n: formatNumber(segments.length - PREVIEW_ROWS) }))));
  }
  el.previewRows.replaceChildren(...rows);
  const notes = notesList(preview.notes, "preview-notes");
  el.previewNotes.replaceChildren(...(notes ? [notes] : []));
  el.previewStale.hidden = preview.text === el.script.value;
}

// ---- generate ---------------------------------------------------------------------------

async function generate() {
  const text = el.script.value;
  if (!text.trim()) return say(el.message, t("script.empty"), "error");
  const problem = choiceProblem();
  if (problem) return say(el.message, problem, "error");
  const { options, max_chars, pauses, checks, output, error } = jobSettings();
  if (error) return say(el.message, error, "error");
  const { cast, error: castError } = castEditor.value();
  if (castError) return say(el.message, castError, "error");
  el.generate.disabled = true;
  el.generate.textContent = t("generate.busy");
  try {
    const { engine, voice } = choice();
    const job = await api.createJob({
      text, title: el.title.value.trim() || null, engine, voice, options, max_chars, pauses, cast, checks,
      dialogue: castEditor.dialogue(), streaming: el.streaming.checked, ...output,
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
    const report = reportView(job, {
      testid: `history-report-${id}`, warningsTestid: `history-warnings-${id}`, collapsed: true,
      open: state.openWarnings.has(id),
      ontoggle: (open) => (open ? state.openWarnings.add(id) : state.openWarnings.delete(id)),
    });
    const length = (job.state === "done" && job.report && job.report.duration_s) || job.audio_seconds;
    return h("tr", { class: current ? "current" : "", dataset: { testid: `history-row-${id}`, state: job.state } },
      h("td", { class: "text" }, h("strong", {}, job.title || t("history.untitled")),
        current ? h("span", { class: "muted small" }, ` ${t("history.current")}`) : null,
        h("div", { class: "muted small mono" }, id),
        report ? h("div", { class: "report small" }, report) : null),
      h("td", { dataset: { label: t("col.state") } }, badge(job.state, stateLabel(job.state))),
      h("td", { class: "progress-cell", dataset: { label: t("col.progress") } },
        h("progress", { max: Math.max(job.total || 0, 1), value: job.done || 0, "aria-label": t("col.progress") }),
        h("span", { class: "small" }, ` ${job.done}/${job.total}`)),
      h("td", { class: "num", dataset: { label: t("col.duration") } }, length ? formatDuration(length) : "–"),
      h("td", { class: "small", dataset: { label: t("col.created") } }, formatDate(job.created_at)),
      h("td", { class: "downloads", dataset: { label: t("col.downloads") } }, ready
        ? h("span", { class: "links" }, downloadLinks(job, { prefix: "history", suffix: `-${id}`, compact: true }))
        : "–"),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "small", dataset: { testid: `history-open-${id}` }, onclick: () => openJob(id) }, t("history.open")),
        h("button", {
          type: "button", class: "small ghost danger", dataset: { testid: `history-delete-${id}` },
          disabled: !(job.actions || []).includes("delete"), onclick: () => deleteJob(job),
        }, t("history.delete"))),
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
  relabelOutput();
  jobView.relabel();
  voicesPanel.relabel();
  castEditor.relabel();
  el.generate.textContent = t("generate.button");
}

function wire() {
  $("#lang-toggle").addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
  onLangChange(relabel);
  $("#key-cancel").addEventListener("click", () => $("#key-dialog").close());

  el.voice.addEventListener("change", () => {
    localStorage.setItem(VOICE_STORAGE, el.voice.value);
    stopClip();
    say(el.message, "");
    renderEngineInfo();
    cloneStatusForChoice();
    updateCounts.now(); // the estimate follows the engine's speaking rates
  });
  el.cloneFile.addEventListener("change", () => uploadClip(el.cloneFile.files[0]));
  el.clonePreload.addEventListener("click", preloadVoice);
  el.clonePlay.addEventListener("click", toggleClip);
  for (const name of ["play", "pause", "ended", "error"]) clipPlayer.addEventListener(name, renderClipPlay);
  for (const target of [el.cloneDrop, el.script]) {
    target.addEventListener("dragover", (e) => { e.preventDefault(); target.classList.add("dragging"); });
    target.addEventListener("dragleave", () => target.classList.remove("dragging"));
  }
  el.cloneDrop.addEventListener("drop", (e) => {
    e.preventDefault();
    el.cloneDrop.classList.remove("dragging");
    if (!el.clonePanel.disabled) uploadClip(e.dataTransfer.files[0]);
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
  setupOutput();
  wire();
  setupPresets($("#presets-panel"), { read: formSettings, apply: applySettings });
  setupQueue($("#queue-panel"), { openJob });
  setupDictionary($("#dictionary-panel"));
  updateCounts.now();
  try {
    state.engines = await api.engines();
    updateCounts.now();
  } catch (err) {
    say(el.message, err.message, "error");
  }
  await voicesPanel.load(); // lists the voices, loads the clips and fills the picker
  cloneStatusForChoice();
  refreshHistory.now();
  const match = location.hash.match(/^#job=(.+)$/);
  if (match) openJob(decodeURIComponent(match[1]));
  document.body.dataset.ready = "true";
}

// Exposed for debugging in the console only.
window.indexttsYt = { jobView, state, form, askForKey };
start();
