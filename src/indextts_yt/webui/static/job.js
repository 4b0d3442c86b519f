// The narration being followed: player, progress bar, controls, live log (SSE), its review
// panel (review.js) and its segment table with play / edit / regenerate.
//
// Long jobs stay light: the <audio> element streams the narration from the server (never
// held in JS), the log keeps its last LOG_LIMIT lines, and the segment table is patched
// row by row from events, with a throttled full refresh.

import { speakerTag } from "./cast.js";
import { addQuery, api, ApiError } from "./client.js";
import { $, badge, h, say, throttle } from "./dom.js";
import { checkLabel, formatClock, formatDuration, formatNumber, optionLabel, stateLabel, t } from "./i18n.js";
import { clock, downloadLinks, notesList, reportView } from "./output.js";
import { ReviewPanel } from "./review.js";
import { changedOptions, EMOTION_VECTOR, emotionModeOf, settingsForm } from "./settings.js";

const LOG_LIMIT = 500;
const TERMINAL = new Set(["done", "failed", "cancelled"]);

/** What a segment row shows; a refresh leaves rows whose signature did not change alone. */
function rowSignature(seg) {
  return [seg.state, seg.text, seg.chapter, seg.speaker, seg.audio_seconds, seg.rtf, seg.error, JSON.stringify(seg.settings || {}),
    JSON.stringify(seg.warnings || [])]
    .join("\u0001");
}

export class JobView {
  /** @param {{engines: () => any[], clips: () => any[], onChange: (job) => void}} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.job = null;
    this.events = null;
    this.rows = new Map(); // segment index -> {seg, tr, editing, signature}
    this.maxIndex = -1;
    this.playerMode = null; // "stream" | "final" | null
    this.needsFinalAudio = false; // output rebuilt (edit) or stream done: load the final file
    this.lastLoggedState = null;
    this.filesKey = null; // what the download links and the report were drawn from
    this.editable = false; // the job accepts segment edits (its "actions" has "edit")
    this.el = {
      empty: $("#job-empty"), body: $("#job-body"), state: $("#job-state"),
      title: $("#job-title"), id: $("#job-id"), player: $("#player"), note: $("#player-note"),
      progress: $("#job-progress"), progressText: $("#job-progress-text"),
      pause: $("#job-pause"), resume: $("#job-resume"), cancel: $("#job-cancel"),
      downloads: $("#job-downloads"), report: $("#job-report"), message: $("#job-message"),
      log: $("#log"), rows: $("#segment-rows"),
    };
    this.segPlayer = new Audio();
    this.segPlayer.addEventListener("ended", () => this.stopSegment());
    this.playingSegment = null;
    // A full refresh at most every 1.5 s, slower for very long scripts (rows are patched
    // from events in between).
    this.refreshSegments = throttle(() => this.loadSegments(), () => 1500 + 2 * this.rows.size);
    this.review = new ReviewPanel({
      editable: () => this.editable,
      edit: (index) => this.editFromReview(index),
      requeued: () => this.followAgain(),
    });

    this.el.pause.addEventListener("click", () => this.control("pause"));
    this.el.resume.addEventListener("click", () => this.control("resume"));
    this.el.cancel.addEventListener("click", () => {
      if (confirm(t("job.cancelConfirm"))) this.control("cancel");
    });
    const swapWhenIdle = () => { if (this.needsFinalAudio) this.loadFinalAudio(false); };
    this.el.player.addEventListener("pause", swapWhenIdle);
    this.el.player.addEventListener("ended", swapWhenIdle);
    this.el.player.addEventListener("loadeddata", () => this.render()); // drops the "starts soon" note
  }

  get id() {
    return this.job ? this.job.id : null;
  }

  /** Follow a job (a job object or an id); autoplay when the user just pressed Generate. */
  async attach(jobOrId, { autoplay = false } = {}) {
    const job = typeof jobOrId === "string" ? await api.job(jobOrId) : jobOrId;
    this.detach();
    this.job = job;
    this.lastLoggedState = null;
    this.eta = null;
    this.el.log.replaceChildren();
    this.el.rows.replaceChildren();
    this.rows.clear();
    this.maxIndex = -1;
    this.el.empty.hidden = true;
    this.el.body.hidden = false;
    say(this.el.message, "");
    history.replaceState(null, "", `#job=${encodeURIComponent(job.id)}`);
    this.log(t("log.attached", { id: job.id, state: stateLabel(job.state), done: job.done, total: job.total }), "info");
    this.lastLoggedState = job.state;
    this.setupPlayer(autoplay);
    this.render();
    this.loadSegments();
    this.review.attach(job.id);
    if (!TERMINAL.has(job.state)) this.connect();
  }

  detach() {
    if (this.events) this.events.close();
    this.events = null;
    this.refreshSegments.cancel();
    this.review.detach();
    this.stopSegment();
    const player = this.el.player;
    player.pause();
    player.removeAttribute("src");
    player.load();
    this.playerMode = null;
    this.needsFinalAudio = false;
    this.job = null;
  }

  /** Forget the job entirely (it was deleted). */
  clear() {
    this.detach();
    this.el.body.hidden = true;
    this.el.empty.hidden = false;
    this.el.state.replaceChildren();
    history.replaceState(null, "", location.pathname + location.search);
  }

  // ---- events -------------------------------------------------------------------------

  connect() {
    if (this.events) this.events.close();
    const id = this.job.id;
    const source = new EventSource(api.eventsUrl(id));
    this.events = source;
    let warned = false;
    source.addEventListener("snapshot", (e) => this.onSnapshot(JSON.parse(e.data)));
    source.addEventListener("progress", (e) => this.onProgress(JSON.parse(e.data)));
    source.addEventListener("message", (e) => this.onProgress(JSON.parse(e.data)));
    source.addEventListener("deleted", () => {
      source.close();
      if (this.events !== source) return;
      this.clear();
      say(this.el.message, t("job.deleted"), "info");
      this.hooks.onChange(null);
    });
    source.addEventListener("open", () => { warned = false; });
    source.addEventListener("error", async () => {
      if (this.events !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        // Refused outright (a 401 or 404): ask through fetch, which prompts for a key.
        source.close();
        try {
          const job = await api.job(id);
          if (this.events !== source) return;
          this.updateJob(job);
          if (!TERMINAL.has(job.state)) setTimeout(() => this.events === source && this.connect(), 1000);
        } catch (err) {
          if (this.events === source) say(this.el.message, t("job.error", { error: err.message }), "error");
        }
      } else if (!warned && this.job && !TERMINAL.has(this.job.state)) {
        warned = true;
        this.log(t("log.reconnecting"), "warn");
      }
    });
  }

  onSnapshot(job) {
    if (!this.job || job.id !== this.job.id) return;
    if (job.state !== this.lastLoggedState) {
      this.log(t("log.snapshot", { state: stateLabel(job.state), done: job.done, total: job.total }), `state-${job.state}`);
      this.lastLoggedState = job.state;
    }
    this.updateJob(job);
    this.refreshSegments();
    this.review.refresh();
  }

  onProgress(ev) {
    if (!this.job || ev.job_id !== this.job.id) return;
    const n = ev.index == null ? null : ev.index + 1;
    const preview = ev.text || "";
    switch (ev.kind) {
      case "started":
        this.log(t("log.started", { total: ev.total, done: ev.done }), "info");
        break;
      case "segment_started":
        this.log(t("log.segmentStarted", { n, total: ev.total, text: preview }), "started");
        this.patchRow(ev.index, { state: "running" });
        break;
      case "segment_done":
        this.log(t("log.segmentDone", {
          n, total: ev.total, text: preview,
          compute: formatNumber(ev.segment_compute_s, 2), audio: formatNumber(ev.segment_audio_s, 1),
          rtf: formatNumber(ev.segment_rtf, 3), run: formatNumber(ev.cumulative_rtf, 3), eta: formatClock(ev.eta_s),
        }) + (ev.take > 1 ? ` ${t("log.take", { take: ev.take })}` : ""), "done");
        // What the engine flagged (a runaway, a piece scaled to avoid clipping): listen to it.
        for (const warning of ev.warnings || []) this.log(t("log.segmentWarning", { n, warning }), "warn");
        this.patchRow(ev.index, {
          state: "done", audio_seconds: ev.segment_audio_s, compute_seconds: ev.segment_compute_s, rtf: ev.segment_rtf,
          warnings: ev.warnings || [],
        });
        if ((ev.warnings || []).length && !this.rows.get(ev.index)?.editing) this.fillRow(ev.index);
        break;
      case "segment_checked": {
        // Proofreading heard the take back: what its failed checks found, coloured by status.
        const findings = (ev.verdicts || []).filter((v) => !v.ok).map((v) => v.evidence || v.name);
        const vars = { n, take: ev.take, status: checkLabel(ev.status), findings: findings.join("; ") };
        this.log(t(findings.length ? "log.checkedFindings" : "log.checked", vars), `check-${ev.status}`);
        break;
      }
      case "finished":
        this.log(t("log.finished", { elapsed: formatClock(ev.elapsed_s), done: ev.done, total: ev.total }), "state-done");
        break;
      case "stopped":
        this.log(t("log.stopped", { state: stateLabel(ev.state), done: ev.done, total: ev.total }), `state-${ev.state}`);
        break;
      default:
        this.log(`${ev.kind}: ${preview}`, "info");
    }
    if (ev.error) this.log(t("log.failed", { error: ev.error }), "state-failed");
    this.lastLoggedState = ev.state;
    const audio = (this.job.audio_seconds || 0) + (ev.kind === "segment_done" ? ev.segment_audio_s || 0 : 0);
    // The actions belong to a state: after a change, none until the server says which.
    const moved = ev.state !== this.job.state;
    this.updateJob({
      ...this.job, state: ev.state, done: ev.done, total: ev.total, audio_seconds: audio,
      error: ev.error || this.job.error, report: ev.report || this.job.report,
      actions: moved ? [] : this.job.actions,
    }, ev);
    if (moved && !TERMINAL.has(ev.state)) this.refreshActions();
    this.refreshSegments();
    if (["segment_done", "segment_checked", "finished", "stopped"].includes(ev.kind)) this.review.refresh();
  }

  /** Ask the server which actions the job's current state allows. */
  refreshActions() {
    const id = this.job.id;
    api.job(id).then((fresh) => {
      // Taken only if about the state shown; else a newer event or snapshot is on its way.
      if (this.id === id && fresh.state === this.job.state) {
        this.updateJob({ ...this.job, actions: fresh.actions });
      }
    }).catch(() => {});
  }

  /** Take a newer job object: header, progress, controls, player; tell the history. */
  updateJob(job, event = null) {
    const before = this.job;
    this.job = { ...before, ...job };
    if (event && event.eta_s != null) this.eta = event.eta_s;
    const finished = before && before.state !== "done" && this.job.state === "done";
    if (finished) {
      say(this.el.message, "");
      if (this.playerMode === null) this.loadFinalAudio(true); // batch: play it at the end
      else this.needsFinalAudio = true; // stream or edited: swap for the seekable file when idle
      if (this.needsFinalAudio && (this.el.player.paused || this.el.player.ended)) this.loadFinalAudio(false);
    }
    if (TERMINAL.has(this.job.state) && this.events) {
      this.events.close();
      this.events = null;
      this.loadSegments(); // the exact final states
      this.review.refresh.now();
      const id = this.job.id;
      api.job(id).then((fresh) => this.id === id && this.updateJob(fresh)).catch(() => {});
    }
    this.render();
    if (!before || before.state !== this.job.state || before.done !== this.job.done) this.hooks.onChange(this.job);
  }

  // ---- player -------------------------------------------------------------------------

  setupPlayer(autoplay) {
    const job = this.job;
    const stoppedEarly = ["cancelled", "failed", "interrupted"].includes(job.state) && job.done > 0;
    if (job.state === "done") {
      this.loadFinalAudio(false);
    } else if ((job.streaming && !["cancelled", "failed"].includes(job.state)) || stoppedEarly) {
      // The live narration; for a job that stopped early, the segments it finished.
      this.playerMode = "stream";
      this.el.player.src = api.audioUrl(job.id);
      if (autoplay) this.el.player.play().catch(() => {});
    }
  }

  /** Point the player at the finished narration, keeping the listening position. */
  loadFinalAudio(autoplay) {
    const player = this.el.player;
    const position = this.playerMode ? player.currentTime : 0;
    this.playerMode = "final";
    this.needsFinalAudio = false;
    player.src = addQuery(api.audioUrl(this.job.id), { v: Math.round((this.job.updated_at || Date.now() / 1000) * 1000) });
    if (position) {
      player.addEventListener("loadedmetadata", () => {
        if (isFinite(player.duration)) player.currentTime = Math.min(position, player.duration);
      }, { once: true });
    }
    if (autoplay) player.play().catch(() => {});
  }

  // ---- controls -----------------------------------------------------------------------

  async control(action) {
    if (!this.job) return;
    try {
      const job = await api.control(this.job.id, action);
      this.updateJob(job);
      if (action === "resume" && !this.events) this.connect();
      if (action === "resume" && this.job.streaming && this.playerMode !== "final") {
        this.playerMode = "stream";
        if (!this.el.player.src) this.el.player.src = api.audioUrl(this.job.id);
      }
      say(this.el.message, "");
    } catch (err) {
      say(this.el.message, t("job.error", { error: err.message }), "error");
    }
  }

  // ---- rendering ----------------------------------------------------------------------

  render() {
    const job = this.job;
    if (!job) return;
    const state = job.state;
    const stateBits = [badge(state, stateLabel(state), "job-state-badge")];
    if (state === "queued" && job.queue_position != null) {
      stateBits.push(h("span", { class: "muted small" }, ` ${t("job.queuePosition", { n: job.queue_position })}`));
    }
    this.el.state.replaceChildren(...stateBits);
    this.el.state.dataset.state = state;
    this.el.title.textContent = job.title || t("history.untitled");
    this.el.id.textContent = job.id;

    const total = job.total || 0;
    const done = job.done || 0;
    this.el.progress.max = Math.max(total, 1);
    this.el.progress.value = done;
    const bits = [t("job.progress", { done, total, pct: total ? Math.floor((100 * done) / total) : 0 })];
    if (state === "running" && this.eta != null) bits.push(t("job.eta", { eta: formatDuration(this.eta) }));
    if (job.audio_seconds) bits.push(t("job.audioLength", { duration: clock(job.audio_seconds) }));
    this.el.progressText.textContent = bits.join(" · ");

    // What the server allows in this state (GET /api/jobs/{id}: "actions").
    const actions = job.actions || [];
    this.el.pause.disabled = !actions.includes("pause");
    this.el.resume.disabled = !actions.includes("resume");
    this.el.cancel.disabled = !actions.includes("cancel");
    const editable = actions.includes("edit");
    if (editable !== this.editable) {
      this.editable = editable;
      for (const index of this.rows.keys()) this.fillEdit(index);
      this.review.render(); // its buttons follow the same "edit" action
    }
    this.renderFiles();

    let note = "";
    if (this.playerMode === "stream" && ["cancelled", "failed", "interrupted"].includes(state)) note = t("job.partialAudio");
    else if (this.playerMode === "stream" && state !== "done" && this.el.player.readyState < 2) note = t("job.waitingAudio");
    else if (this.playerMode === "stream" && state !== "done") note = t("job.draftAudio");
    else if (!job.streaming && state !== "done") note = t("job.batchNote");
    else if (this.playerMode === null && state !== "done") note = t("job.noAudioYet");
    else if (state === "done" && this.needsFinalAudio) note = t("job.finalPending");
    this.el.note.textContent = note;
    this.el.note.hidden = !note;
    if (job.error && state === "failed") say(this.el.message, t("job.error", { error: job.error }), "error");
  }

  /** The download links and the report (measured loudness, warnings), redrawn only when
   * what they show changed. */
  renderFiles() {
    const job = this.job;
    const key = JSON.stringify([job.id, job.state, job.output_ready, job.output, job.report]);
    if (key === this.filesKey) return;
    this.filesKey = key;
    this.el.downloads.replaceChildren(...downloadLinks(job, { prefix: "job" }));
    const report = reportView(job, { testid: "job-report", warningsTestid: "job-warnings" }) || [];
    const notes = notesList(job.notes, "job-notes");
    this.el.report.replaceChildren(...report, ...(notes ? [notes] : []));
    this.el.report.hidden = !report.length && !notes;
  }

  /** Re-render translated parts after a language switch. */
  relabel() {
    if (!this.job) return;
    this.filesKey = null;
    this.render();
    for (const [index, row] of this.rows) if (!row.editing) this.fillRow(index);
    this.review.relabel();
  }

  // ---- the log ------------------------------------------------------------------------

  log(text, kind = "info") {
    const list = this.el.log;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 48;
    const now = new Date();
    const stamp = [now.getHours(), now.getMinutes(), now.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
    list.append(h("li", { class: `log-line kind-${kind}`, dataset: { testid: "log-line", kind } },
      h("time", { datetime: now.toISOString() }, stamp), " ", text));
    while (list.childElementCount > LOG_LIMIT) list.firstElementChild.remove();
    if (list.childElementCount === LOG_LIMIT) list.dataset.trimmed = t("log.trimmed", { n: LOG_LIMIT });
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  // ---- segments -----------------------------------------------------------------------

  async loadSegments() {
    const id = this.id;
    if (!id) return;
    let segments;
    try {
      segments = await api.segments(id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return;
      say(this.el.message, t("job.error", { error: err.message }), "error");
      return;
    }
    if (this.id !== id) return;
    const seen = new Set();
    for (const seg of segments) {
      seen.add(seg.index);
      const row = this.rows.get(seg.index);
      if (row) {
        const signature = rowSignature(seg);
        if (signature === row.signature && signature === rowSignature(row.seg)) continue; // unchanged
        row.seg = seg;
        row.signature = signature;
        if (!row.editing) this.fillRow(seg.index);
        else this.fillState(seg.index);
      } else {
        this.addRow(seg);
      }
    }
    for (const [index, row] of this.rows) {
      if (!seen.has(index)) {
        row.tr.remove();
        this.rows.delete(index);
      }
    }
  }

  addRow(seg) {
    const i = seg.index;
    const tr = h("tr", { dataset: { testid: `segment-row-${i}`, index: String(i) } });
    tr.append(
      h("td", { class: "num" }, String(i + 1)),
      h("td", { class: "state" }),
      h("td", { class: "text" }),
      h("td", { class: "num audio" }),
      h("td", { class: "num rtf" }),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "small", dataset: { testid: `segment-play-${i}`, role: "play" }, onclick: () => this.toggleSegment(i) }),
        h("button", { type: "button", class: "small", dataset: { testid: `segment-edit-${i}`, role: "edit" }, onclick: () => this.openEditor(i) }),
      ),
    );
    // keep rows in index order even if one arrives late (they normally come in order)
    const later = i < this.maxIndex ? [...this.rows.keys()].filter((k) => k > i).sort((a, b) => a - b)[0] : null;
    this.maxIndex = Math.max(this.maxIndex, i);
    if (later != null) this.el.rows.insertBefore(tr, this.rows.get(later).tr);
    else this.el.rows.append(tr);
    this.rows.set(i, { seg, tr, editing: false, signature: rowSignature(seg) });
    this.fillRow(i);
  }

  /** Apply fields from a progress event to a row without waiting for the next refresh. */
  patchRow(index, fields) {
    const row = this.rows.get(index);
    if (!row) return;
    row.seg = { ...row.seg, ...fields };
    this.fillState(index);
  }

  fillState(index) {
    const { seg, tr } = this.rows.get(index);
    tr.dataset.state = seg.state;
    tr.classList.toggle("current", seg.state === "running");
    tr.querySelector("td.state").replaceChildren(badge(seg.state, stateLabel(seg.state), `segment-state-${index}`));
    tr.querySelector("td.audio").textContent = seg.audio_seconds != null && seg.state === "done" ? formatDuration(seg.audio_seconds) : "–";
    tr.querySelector("td.rtf").textContent = seg.rtf != null && seg.state === "done" ? formatNumber(seg.rtf, 3) : "–";
    const play = tr.querySelector("[data-role=play]");
    play.disabled = seg.state !== "done";
    const playing = this.playingSegment === index;
    play.textContent = playing ? t("seg.stop") : t("seg.play");
    play.setAttribute("aria-label", playing ? t("seg.stop") : t("seg.playLabel", { n: index + 1 }));
    this.fillEdit(index);
    if (seg.state === "running" && tr.parentElement) this.scrollRowIntoView(tr);
  }

  /** The Edit button, offered only while the job accepts edits (its "actions"). */
  fillEdit(index) {
    const edit = this.rows.get(index).tr.querySelector("[data-role=edit]");
    edit.hidden = !this.editable;
    edit.textContent = t("seg.edit");
    edit.setAttribute("aria-label", t("seg.editLabel", { n: index + 1 }));
  }

  fillRow(index) {
    const { seg, tr } = this.rows.get(index);
    const cell = tr.querySelector("td.text");
    const parts = [];
    if (seg.chapter) parts.push(h("span", { class: "chapter", title: seg.chapter }, t("seg.chapter")));
    const speaker = speakerTag(seg.speaker, `segment-speaker-${index}`);
    if (speaker) parts.push(speaker);
    parts.push(h("span", { dataset: { testid: `segment-text-${index}` } }, seg.text));
    const emotion = this.emotionNote(seg);
    if (emotion) parts.push(h("span", { class: "seg-emotion muted small", dataset: { testid: `segment-emotion-note-${index}` } }, emotion));
    if (seg.error) parts.push(h("span", { class: "seg-error" }, seg.error));
    for (const warning of seg.warnings || []) {
      parts.push(h("span", { class: "seg-warning", title: t("seg.warningTitle"), dataset: { testid: `segment-warning-${index}` } },
        `\u26a0 ${warning}`));
    }
    cell.replaceChildren(...parts);
    this.fillState(index);
  }

  /** "Emotion · From a clip: excited" when the segment has an emotion of its own, else null. */
  emotionNote(seg) {
    const settings = seg.settings || {};
    const mode = emotionModeOf(settings);
    if (mode === "none") return null;
    let what = `“${settings.emotion_text}”`;
    if (mode === "reference") {
      const clip = ((this.hooks.clips && this.hooks.clips()) || []).find((c) => c.id === settings.emotion_clip);
      what = clip ? clip.name : settings.emotion_clip;
    } else if (mode === "vector") {
      what = EMOTION_VECTOR.filter((name) => Number(settings[name]) > 0)
        .map((name) => `${optionLabel(name)} ${formatNumber(settings[name], 2)}`).join(", ");
    }
    return t("seg.emotion", { mode: t(`emotion.mode.${mode}`), what });
  }

  scrollRowIntoView(tr) {
    const wrap = tr.closest(".table-wrap");
    if (!wrap) return;
    const top = tr.offsetTop - wrap.clientHeight / 3;
    if (tr.offsetTop < wrap.scrollTop || tr.offsetTop > wrap.scrollTop + wrap.clientHeight - tr.offsetHeight) {
      wrap.scrollTop = Math.max(0, top);
    }
  }

  toggleSegment(index) {
    if (this.playingSegment === index) return this.stopSegment();
    this.stopSegment();
    this.playingSegment = index;
    this.el.player.pause();
    this.segPlayer.src = addQuery(api.segmentAudioUrl(this.id, index), { t: Date.now() });
    this.segPlayer.play().catch(() => this.stopSegment());
    if (this.rows.has(index)) this.fillState(index);
  }

  stopSegment() {
    const index = this.playingSegment;
    this.playingSegment = null;
    this.segPlayer.pause();
    if (index != null && this.rows.has(index)) this.fillState(index);
  }

  // ---- review actions -----------------------------------------------------------------

  /** A review action sent the job back to the queue (a take to render, or the narration to
   * rebuild with another take): follow it again, and load the rebuilt narration when done. */
  async followAgain() {
    const id = this.id;
    try {
      const job = await api.job(id);
      if (this.id !== id) return;
      this.lastLoggedState = null;
      this.updateJob(job);
      if (!TERMINAL.has(job.state)) {
        this.needsFinalAudio = true;
        this.connect();
      }
    } catch (err) {
      say(this.el.message, t("job.error", { error: err.message }), "error");
    }
  }

  /** "Edit text" in the review panel opens the segment's editor in the table below. */
  editFromReview(index) {
    const row = this.rows.get(index);
    if (!row) return;
    row.tr.scrollIntoView({ block: "nearest" });
    this.openEditor(index);
    row.tr.querySelector("textarea")?.focus();
  }

  // ---- editing one segment ------------------------------------------------------------

  openEditor(index) {
    const row = this.rows.get(index);
    if (!row || row.editing || !this.editable) return;
    row.editing = true;
    const seg = row.seg;
    const engine = (this.hooks.engines() || []).find((e) => e.name === seg.engine);
    const current = seg.settings || {};
    const textarea = h("textarea", {
      rows: 4, class: "seg-editor-text", dataset: { testid: `segment-textarea-${index}` },
      "aria-label": t("seg.textLabel", { n: index + 1 }),
    });
    textarea.value = seg.text;
    // The segment's own settings, by kind; its emotion can be given another way than the job's.
    const settings = engine
      ? settingsForm(engine, {
        idPrefix: `seg-${index}`, testid: (name) => `segment-option-${index}-${name}`,
        emotionTestid: `segment-emotion-${index}`, advancedTestid: `segment-advanced-${index}`,
        values: current, clips: (this.hooks.clips && this.hooks.clips()) || [], compact: true,
      })
      : { basic: [], emotion: null, advanced: null, controls: [] };
    const options = h("div", { class: "seg-options" }, settings.basic.map((c) => c.el));
    const message = h("p", { class: "message", role: "status", hidden: true });
    const regenerate = h("button", { type: "button", class: "primary small", dataset: { testid: `segment-regenerate-${index}` } }, t("seg.regenerate"));
    const cancel = h("button", { type: "button", class: "small", dataset: { testid: `segment-cancel-${index}` } }, t("seg.cancelEdit"));
    const editor = h("div", { class: "seg-editor" }, textarea, options,
      settings.emotion ? settings.emotion.el : null, settings.advanced,
      h("div", { class: "actions" }, regenerate, cancel), message);
    row.tr.querySelector("td.text").replaceChildren(editor);
    row.tr.classList.add("editing");
    textarea.focus();

    const close = () => {
      row.editing = false;
      row.tr.classList.remove("editing");
      this.fillRow(index);
    };
    cancel.addEventListener("click", close);
    textarea.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) regenerate.click();
    });
    regenerate.addEventListener("click", async () => {
      const body = {};
      const text = textarea.value.trim();
      if (text && text !== seg.text) body.text = text;
      // Only what changed: the server keeps the segment's other settings.
      const changed = changedOptions(settings, (spec) => current[spec.name] ?? spec.default);
      if (changed.error) return say(message, t(...changed.error), "error");
      if (Object.keys(changed.options).length) body.options = changed.options;
      if (!body.text && !body.options) return say(message, t("seg.unchanged"), "info");
      regenerate.disabled = true;
      try {
        const updated = await api.patchSegment(this.id, index, body);
        row.seg = { ...row.seg, ...updated };
        close();
        say(this.el.message, t("seg.queued", { n: index + 1 }), "ok");
        this.needsFinalAudio = true;
        // Queued again: what it allows now comes with the snapshot connect() asks for.
        this.job = { ...this.job, state: "queued", output_ready: false, report: null, actions: [] };
        this.lastLoggedState = null;
        this.render();
        this.connect(); // the job is queued again: follow it until the rebuilt output is done
      } catch (err) {
        regenerate.disabled = false;
        say(message, err.message, "error");
      }
    });
  }
}
