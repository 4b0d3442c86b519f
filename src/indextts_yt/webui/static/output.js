// What a narration is published as: the "Output" settings (format, bit rate, loudness,
// silence trimming, subtitle cues), remembered in this browser; and what a finished job
// offers: its report line (measured loudness, true peak, length), its warnings and the
// download links of the files it really has (job view and history).

import { api } from "./client.js";
import { $, h } from "./dom.js";
import { formatClock, formatNumber, t } from "./i18n.js";

const STORAGE = "indextts-yt.output";
/** Bit rates of the lossy formats in kbit/s (the server's audio/encode.py FORMATS). */
const LOSSY = {
  mp3: { min: 8, max: 320, default: 96 },
  opus: { min: 6, max: 256, default: 48 },
  aac: { min: 16, max: 320, default: 96 },
};
const LUFS = { min: -40, max: -5 };
/** Subtitle cue settings: the server's name, the input, whole number or not. */
const SUBTITLES = [
  { name: "max_line_chars", id: "#sub-line-chars", label: "output.sub.lineChars", integer: true },
  { name: "max_lines", id: "#sub-lines", label: "output.sub.lines", integer: true },
  { name: "max_cue_s", id: "#sub-max-cue", label: "output.sub.maxCue", integer: false },
];

const el = {
  fieldset: $("#output-settings"), format: $("#output-format"),
  bitrateField: $("#output-bitrate-field"), bitrate: $("#output-bitrate"), bitrateHint: $("#output-bitrate-hint"),
  loudness: $("#output-loudness"), lufsField: $("#output-lufs-field"), lufs: $("#output-lufs"),
  trim: $("#output-trim"),
};

/** The controls of the group, by what is remembered of each. */
function controls() {
  return {
    format: el.format, bitrate: el.bitrate, loudness: el.loudness, lufs: el.lufs, trim: el.trim,
    ...Object.fromEntries(SUBTITLES.map((s) => [s.name, $(s.id)])),
  };
}

const valueOf = (input) => (input.type === "checkbox" ? input.checked : input.value);

function setValue(input, value) {
  if (input.type === "checkbox") input.checked = Boolean(value);
  else input.value = String(value ?? "");
  if (input.tagName === "SELECT" && input.value === "") input.value = defaultOf(input); // an unknown choice
}

function defaultOf(input) {
  if (input.type === "checkbox") return input.defaultChecked;
  if (input.tagName === "SELECT") return ([...input.options].find((o) => o.defaultSelected) || input.options[0]).value;
  return input.defaultValue;
}

/** Show the bit rate only for lossy formats and the LUFS box only for "Custom". */
function show() {
  const lossy = LOSSY[el.format.value];
  el.bitrateField.hidden = !lossy;
  if (lossy) {
    el.bitrate.min = lossy.min;
    el.bitrate.max = lossy.max;
    el.bitrate.placeholder = String(lossy.default);
    el.bitrateHint.textContent = t("output.bitrateHint", { min: lossy.min, max: lossy.max, default: lossy.default });
  }
  el.lufsField.hidden = el.loudness.value !== "custom";
}

function save() {
  const values = Object.fromEntries(Object.entries(controls()).map(([name, input]) => [name, valueOf(input)]));
  try { localStorage.setItem(STORAGE, JSON.stringify(values)); } catch { /* storage may be blocked */ }
}

/** Restore the remembered choices and keep them remembered. */
export function setupOutput() {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(STORAGE) || "{}") || {}; } catch { /* ignore */ }
  for (const [name, input] of Object.entries(controls())) if (name in saved) setValue(input, saved[name]);
  show();
  // A bit rate belongs to its format (48k is good Opus, poor MP3): another format starts
  // at its own default.
  el.format.addEventListener("change", () => { el.bitrate.value = ""; });
  el.fieldset.addEventListener("change", () => { show(); save(); });
}

export function resetOutput() {
  for (const input of Object.values(controls())) setValue(input, defaultOf(input));
  show();
  save();
}

/** Loudness names the server takes besides the ones in the list (audio/loudness.py). */
const LOUDNESS_ALIASES = {
  default: "podcast", apple: "podcast", spotify: "youtube", ebu: "broadcast", r128: "broadcast",
  none: "off", no: "off", false: "off", disabled: "off",
};

/** A preset's loudness ("youtube", -18, "-18 LUFS", null) as {choice, lufs}. */
function loudnessChoice(value) {
  if (value == null) return { choice: defaultOf(el.loudness) };
  if (typeof value === "number") return { choice: "custom", lufs: value };
  const text = String(value).trim().toLowerCase().replace("\u2212", "-").replace(/\s*(lufs|lkfs|db)$/, "");
  const name = LOUDNESS_ALIASES[text] || text;
  if ([...el.loudness.options].some((o) => o.value === name && name !== "custom")) return { choice: name };
  if (text !== "" && isFinite(Number(text))) return { choice: "custom", lufs: Number(text) };
  return { choice: defaultOf(el.loudness) };
}

/** A preset's bit rate ("96k", 96000, "128 kbps") in kbit/s for the box; "" for none. */
function bitrateKbit(value) {
  if (value == null || value === "") return "";
  const m = String(value).trim().match(/^(\d+(?:\.\d+)?)\s*(k|kb|kbps|kbit\/s|kb\/s|bps|b\/s)?$/i);
  if (!m) return "";
  const n = Number(m[1]);
  const kilo = m[2] ? m[2].toLowerCase().startsWith("k") : n < 1000;
  return String(Math.round(kilo ? n : n / 1000));
}

/**
 * Set the controls from a preset's output settings ({format, bitrate, loudness, trim,
 * subtitles}); what it leaves out goes back to its default. Remembered like a choice made
 * by hand.
 */
export function applyOutput(output = {}) {
  setValue(el.format, output.format || defaultOf(el.format));
  el.bitrate.value = LOSSY[el.format.value] ? bitrateKbit(output.bitrate) : "";
  const loudness = loudnessChoice(output.loudness);
  setValue(el.loudness, loudness.choice);
  el.lufs.value = loudness.lufs != null ? String(loudness.lufs) : el.lufs.defaultValue;
  el.trim.checked = output.trim ?? el.trim.defaultChecked;
  const subtitles = output.subtitles || {};
  for (const spec of SUBTITLES) {
    const input = $(spec.id);
    input.value = subtitles[spec.name] != null ? String(subtitles[spec.name]) : input.defaultValue;
  }
  show();
  save();
}

/** Re-render the texts made in code (the bit rate hint) after a language switch. */
export function relabelOutput() {
  show();
}

function badNumber(input, check) {
  const number = Number(input.value);
  return input.value === "" || !isFinite(number) || !check(number);
}

/**
 * The output fields of POST /api/jobs: {fields: {format, bitrate, loudness, trim, subtitles},
 * error}; error is a message when a box holds no usable value. The bit rate and the subtitle
 * style go out only when set (null: the server's defaults).
 */
export function outputFields() {
  const format = el.format.value;
  const lossy = LOSSY[format];
  let bitrate = null;
  if (lossy && el.bitrate.value !== "") {
    if (badNumber(el.bitrate, (n) => n >= lossy.min && n <= lossy.max)) {
      return { error: t("output.badBitrate", { min: lossy.min, max: lossy.max }) };
    }
    bitrate = `${Number(el.bitrate.value)}k`;
  }
  let loudness = el.loudness.value;
  if (loudness === "custom") {
    if (badNumber(el.lufs, (n) => n >= LUFS.min && n <= LUFS.max)) return { error: t("output.badLufs") };
    loudness = Number(el.lufs.value);
  }
  const subtitles = {};
  for (const spec of SUBTITLES) {
    const input = $(spec.id);
    const min = Number(input.min);
    const max = Number(input.max);
    if (badNumber(input, (n) => n >= min && n <= max && (!spec.integer || Number.isInteger(n)))) {
      return { error: t("settings.invalid", { name: t(spec.label) }) };
    }
    if (Number(input.value) !== Number(input.defaultValue)) subtitles[spec.name] = Number(input.value);
  }
  return {
    fields: {
      format, bitrate, loudness, trim: el.trim.checked,
      subtitles: Object.keys(subtitles).length ? subtitles : null,
    },
    error: null,
  };
}

// ---- a finished job: report, warnings, downloads ------------------------------------------

/** -16.1 as "−16.1" (a real minus sign), "–" when not measured. */
function signed(n, digits = 1) {
  if (n == null || !isFinite(n)) return "–";
  return formatNumber(n, digits).replace(/^-/, "\u2212");
}

/** A length as "4:51" (or "1:02:03"): the report's and the job's lengths alike. */
export function clock(seconds) {
  return formatClock(seconds).replace(/^0(?=\d:)/, "");
}

/** "−16.1 LUFS, true peak −1.3 dBTP · target −16 LUFS · with pauses 2:14 · mp3, 96 kbit/s", or
 * null. The length is the file's, pauses included (the job's progress line gives the speech). */
export function reportLine(report) {
  if (!report) return null;
  const loudness = report.loudness || {};
  const target = report.target_lufs;
  return [
    t("report.measured", { lufs: signed(loudness.integrated_lufs), peak: signed(loudness.true_peak_dbtp) }),
    target == null ? t("report.noTarget") : t("report.target", { target: signed(target, Number.isInteger(target) ? 0 : 1) }),
    t("report.length", { duration: clock(report.duration_s ?? loudness.duration_s) }),
    report.format || null,
  ].filter(Boolean).join(" · ");
}

/**
 * The report of a finished job as elements: its line and its warnings (a list; with
 * `collapsed`, a closed <details> that says how many). `testid`: of the parts, e.g.
 * "job-report" -> "job-report-line", "job-warnings". Null for a job without a report.
 */
/** What the plan said (markup left out, segments read by another engine, a voice's terms
 * of use), as a list; null when nothing. The notes come from the server, in English. */
export function notesList(notes, testid) {
  if (!notes || !notes.length) return null;
  return h("ul", { class: "notes-list", dataset: { testid }, "aria-label": t("notes.heading") },
    notes.map((text) => h("li", {}, text)));
}

export function reportView(job, { testid, warningsTestid, collapsed = false, open = false, ontoggle = null }) {
  const report = job.state === "done" ? job.report : null;
  const line = reportLine(report);
  if (!line) return null;
  const parts = [h("p", { class: "report-line", dataset: { testid: `${testid}-line` } }, line)];
  const warnings = report.warnings || [];
  if (warnings.length) {
    const list = h("ul", { class: "warnings", dataset: { testid: warningsTestid }, "aria-label": t("report.warnings") },
      warnings.map((text) => h("li", {}, text)));
    if (!collapsed) parts.push(list);
    else {
      const details = h("details", { class: "warnings-box", open },
        h("summary", {}, t("report.warningCount", { n: warnings.length })), list);
      if (ontoggle) details.addEventListener("toggle", () => ontoggle(details.open));
      parts.push(details);
    }
  }
  return parts;
}

/**
 * A job's files: [{kind, format, url, ready}]. Before it is done: what it will have (shown
 * disabled). Once done: only the files it really has (its report lists what was written; a
 * job from before reports has its WAV and SRT). kind: "audio" (the chosen format, when not
 * WAV), "wav", "srt", "vtt", "chapters".
 */
export function jobFiles(job) {
  const id = job.id;
  const output = job.output || {};
  const format = output.format || "wav";
  const ready = Boolean(job.output_ready || job.state === "done");
  const report = ready ? job.report : null;
  const written = new Set((report && report.files) || []);
  const wrote = (path) => Boolean(path) && written.has(path);
  const files = [];
  if (format !== "wav") files.push({ kind: "audio", format, url: api.downloadUrl(id, format), has: wrote(output.file) });
  files.push({ kind: "wav", url: api.downloadUrl(id), has: true });
  files.push({ kind: "srt", url: api.srtUrl(id), has: !report || [...written].some((p) => p.endsWith(".srt")) });
  if (output.vtt) files.push({ kind: "vtt", url: api.vttUrl(id), has: wrote(output.vtt) });
  const chapters = Boolean(report && report.chapters && report.chapters.length) && wrote(output.chapters);
  if (ready && chapters) files.push({ kind: "chapters", url: api.chaptersUrl(id), has: true });
  return files.filter((f) => !ready || f.has).map((f) => ({ ...f, ready }));
}

const TESTID = { wav: "download", srt: "srt", vtt: "vtt", chapters: "chapters" };

function fileLabel(file, compact) {
  if (file.kind === "audio") {
    const name = t(`fmt.${file.format}`);
    return compact ? name : t("job.downloadFormat", { format: name });
  }
  const keys = compact
    ? { wav: "history.wav", srt: "history.srt", vtt: "history.vtt", chapters: "history.chapters" }
    : { wav: "job.downloadAudio", srt: "job.downloadSrt", vtt: "job.downloadVtt", chapters: "job.downloadChapters" };
  return t(keys[file.kind]);
}

/**
 * Download links for a job's files: test ids `${prefix}-download` (WAV),
 * `${prefix}-download-mp3` (the chosen format), `${prefix}-srt`, `-vtt`, `-chapters`, each
 * followed by `suffix`. Links not ready yet are shown disabled.
 */
export function downloadLinks(job, { prefix, suffix = "", compact = false }) {
  return jobFiles(job).map((file) => {
    const name = file.kind === "audio" ? `download-${file.format}` : TESTID[file.kind];
    return h("a", {
      href: file.ready ? file.url : null, download: "", class: `button-like${compact ? " small" : ""}`,
      "aria-disabled": String(!file.ready), dataset: { testid: `${prefix}-${name}${suffix}`, kind: file.kind },
    }, fileLabel(file, compact));
  });
}
