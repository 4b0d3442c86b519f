// The Review panel of the job being followed: the segments that proofreading says need a
// person's ears (flagged, not checked, or with a check not back yet), the script against what
// speech recognition heard, a player per take to compare them (A/B), and the actions —
// approve, use this take, one more take, edit the text (docs/API.md, "Review").
//
// The rows come from /segments (takes, can_retake), the counts from /review. Everything the
// server sends is drawn as text nodes: scripts and transcripts are never parsed as HTML.

import { speakerTag } from "./cast.js";
import { api } from "./client.js";
import { $, h, say, throttle } from "./dom.js";
import { checkLabel, formatClock, formatNumber, lang, t } from "./i18n.js";

const NEEDS_EARS = new Set(["flagged", "not_checked", "unchecked"]);
const COUNTS = ["ok", "flagged", "not_checked", "approved"];
const MAX_ITEMS = 200; // drawn at once; a long narration lists the rest as a count

/** As the CLI's `review`: a status that needs ears, and audio to listen to. */
const needsEars = (seg) => NEEDS_EARS.has(seg.status) && seg.take != null;

/** One side of a take's diff as nodes: the script with what was not heard as <del> and what
 * was heard differently as <mark>; what was heard with additions as <ins>, changes <mark>. */
function diffNodes(diff, side) {
  const sep = diff.unit === "char" ? "" : " ";
  const out = [];
  for (const op of diff.ops || []) {
    const words = (side === "script" ? op.reference : op.heard) || [];
    if (!words.length) continue;
    const text = words.join(sep);
    if (out.length && sep) out.push(sep);
    if (op.kind === "equal") out.push(text);
    else if (op.kind === "changed") out.push(h("mark", { class: "diff-changed", title: t("review.changed") }, text));
    else if (op.kind === "missing") out.push(h("del", { class: "diff-missing", title: t("review.missing") }, text));
    else if (op.kind === "added") out.push(h("ins", { class: "diff-added", title: t("review.added") }, text));
  }
  return out;
}

function statusBadge(status, testid) {
  return h("span", { class: `badge check-${status}`, dataset: { status, testid } }, checkLabel(status));
}

export class ReviewPanel {
  /** @param {{editable: () => boolean, edit: (index) => void, requeued: () => void}} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.jobId = null;
    this.segments = [];
    this.counts = null;
    this.items = new Map(); // segment index -> {li, signature}
    // Segments acted on here stay listed once they no longer need ears, so the result
    // shows and can be undone.
    this.touched = new Set();
    this.el = {
      root: $("#review"), counts: $("#review-counts"), message: $("#review-message"),
      empty: $("#review-empty"), list: $("#review-list"), more: $("#review-more"), all: $("#review-all"),
    };
    this.el.all.addEventListener("change", () => this.render());
    this.refresh = throttle(() => this.load(), () => 1500 + this.segments.length);
  }

  attach(jobId) {
    this.detach();
    this.jobId = jobId;
    this.load();
  }

  detach() {
    this.refresh.cancel();
    this.jobId = null;
    this.segments = [];
    this.counts = null;
    this.items.clear();
    this.touched.clear();
    this.el.list.replaceChildren();
    say(this.el.message, "");
  }

  async load() {
    const id = this.jobId;
    if (!id) return;
    let review, segments;
    try {
      [review, segments] = await Promise.all([api.review(id), api.segments(id)]);
    } catch (err) {
      if (this.jobId === id && err.status !== 404) say(this.el.message, err.message, "error");
      return;
    }
    if (this.jobId !== id) return;
    this.counts = review.counts;
    this.segments = segments;
    this.render();
  }

  /** Draw the counts and the list; an item is rebuilt only when what it shows changed, so a
   * refresh does not stop a take that is playing. */
  render() {
    const counts = this.counts || {};
    this.el.counts.replaceChildren(...COUNTS.map((status) => h("span", {
      class: `review-count check-${status}`, dataset: { testid: `review-count-${status}`, n: String(counts[status] ?? 0) },
    }, t("review.count", { label: checkLabel(status), n: formatNumber(counts[status] ?? 0) }))));
    const all = this.el.all.checked;
    const wanted = this.segments.filter((seg) => all || needsEars(seg) || this.touched.has(seg.index));
    // What needs ears first, each group in script order.
    wanted.sort((a, b) => Number(needsEars(b)) - Number(needsEars(a)) || a.index - b.index);
    const shown = wanted.slice(0, MAX_ITEMS);
    const editable = this.hooks.editable();
    const keep = new Set();
    const lis = shown.map((seg) => {
      keep.add(seg.index);
      const signature = JSON.stringify([seg, editable, lang()]);
      let item = this.items.get(seg.index);
      if (!item) {
        item = { li: h("li", { class: "review-item", dataset: { testid: `review-item-${seg.index}` } }), signature: null };
        this.items.set(seg.index, item);
      }
      if (item.signature !== signature) {
        item.signature = signature;
        this.fill(item.li, seg, editable);
      }
      return item.li;
    });
    for (const index of [...this.items.keys()]) if (!keep.has(index)) this.items.delete(index);
    const list = this.el.list;
    // Re-order only when the order changed: moving a playing <audio> could stop it.
    if (lis.length !== list.children.length || lis.some((li, i) => list.children[i] !== li)) list.replaceChildren(...lis);
    this.el.empty.hidden = lis.length > 0;
    this.el.empty.textContent = this.segments.length ? t("review.empty") : t("review.none");
    this.el.more.hidden = wanted.length <= MAX_ITEMS;
    this.el.more.textContent = t("review.more", { n: formatNumber(wanted.length - MAX_ITEMS) });
  }

  relabel() {
    this.render(); // the signatures hold the language: every item is redrawn
  }

  fill(li, seg, editable) {
    const i = seg.index;
    const n = i + 1;
    const chosen = seg.takes.find((take) => take.take === seg.take) || null;
    li.dataset.status = seg.status;
    const head = h("div", { class: "review-head" },
      h("strong", {}, t("review.segment", { n })),
      speakerTag(seg.speaker, `review-speaker-${i}`),
      h("span", { class: "muted small mono", title: t("review.atTitle") }, seg.start_s != null ? formatClock(seg.start_s) : "--:--"),
      statusBadge(seg.status, `review-status-${i}`),
      seg.takes.length ? h("span", { class: "muted small" }, t("review.takeOf", { take: seg.take ?? "–", n: seg.takes.length })) : null);
    const script = h("p", { class: "review-line", dataset: { testid: `review-script-${i}` } },
      h("span", { class: "review-label" }, t("review.script")), " ",
      ...(chosen && chosen.diff ? diffNodes(chosen.diff, "script") : [seg.text]));
    const takes = h("ol", { class: "review-takes" }, seg.takes.map((take) => this.takeItem(seg, take, editable)));
    li.replaceChildren(head, script, takes, this.actions(seg, editable));
  }

  /** One take: its status, what its checks found, what was heard, a player, "Use this take". */
  takeItem(seg, take, editable) {
    const i = seg.index;
    const inUse = take.take === seg.take;
    const findings = [
      ...(take.verdicts || []).filter((v) => !v.ok).map((v) => v.evidence || v.name),
      ...(take.notes || []),
    ];
    return h("li", {
      class: `review-take${inUse ? " chosen" : ""}${take.rejected ? " rejected" : ""}`,
      dataset: { testid: `review-take-${i}-${take.take}`, take: String(take.take), status: take.status, chosen: String(inUse) },
    },
    h("div", { class: "review-take-head" },
      h("strong", {}, t("review.take", { take: take.take })),
      statusBadge(take.status, `review-take-status-${i}-${take.take}`),
      inUse ? h("span", { class: "tag", dataset: { testid: `review-chosen-${i}-${take.take}` } }, t("review.inUse")) : null,
      take.rejected ? h("span", { class: "muted small" }, t("review.rejected")) : null,
      inUse ? null : h("button", {
        type: "button", class: "small", disabled: !editable, dataset: { testid: `review-use-${i}-${take.take}` },
        "aria-label": t("review.useLabel", { n: i + 1, take: take.take }),
        onclick: () => this.act(seg, () => api.chooseTake(this.jobId, i, take.take), true),
      }, t("review.use"))),
    findings.length ? h("ul", { class: "review-findings" }, findings.map((line) => h("li", {}, line))) : null,
    h("p", { class: "review-line", dataset: { testid: `review-heard-${i}-${take.take}` } },
      h("span", { class: "review-label" }, t("review.heard")), " ",
      ...(take.diff ? diffNodes(take.diff, "heard") : [take.heard || t("review.notHeard")])),
    // preload="none": a long list must not fetch every take before one is played.
    h("audio", {
      controls: true, preload: "none", src: api.takeAudioUrl(this.jobId, i, take.take),
      "aria-label": t("review.playLabel", { n: i + 1, take: take.take }),
    }));
  }

  actions(seg, editable) {
    const i = seg.index;
    const approve = h("button", {
      type: "button", class: seg.approved ? "small" : "small primary", disabled: !editable || seg.take == null,
      dataset: { testid: `review-approve-${i}` },
      onclick: () => this.act(seg, () => api.approveSegment(this.jobId, i, !seg.approved), false),
    }, t(seg.approved ? "review.unapprove" : "review.approve"));
    // An engine without a seed says the same again: the button stays, disabled, saying why.
    const why = !seg.can_retake ? t("review.noRetake", { engine: seg.engine })
      : seg.retake_asked ? t("review.retakeAsked") : null;
    const retake = h("button", {
      type: "button", class: "small", disabled: !editable || Boolean(why) || seg.take == null,
      title: why || null, dataset: { testid: `review-retake-${i}` },
      onclick: () => this.act(seg, () => api.retakeSegment(this.jobId, i), true),
    }, t("review.retake"));
    const edit = h("button", {
      type: "button", class: "small", disabled: !editable, dataset: { testid: `review-edit-${i}` },
      onclick: () => this.hooks.edit(i),
    }, t("review.edit"));
    return h("div", { class: "actions review-actions" }, approve, retake, edit,
      why ? h("span", { class: "muted small", dataset: { testid: `review-retake-why-${i}` } }, why) : null);
  }

  /** Run one action; `rerenders`: the job goes back to the queue and the page follows it. */
  async act(seg, call, rerenders) {
    const id = this.jobId;
    this.touched.add(seg.index);
    for (const button of this.items.get(seg.index)?.li.querySelectorAll("button") || []) button.disabled = true;
    say(this.el.message, "");
    try {
      await call();
      if (rerenders && this.jobId === id) this.hooks.requeued();
    } catch (err) {
      if (this.jobId === id) say(this.el.message, t("review.error", { n: seg.index + 1, error: err.message }), "error");
    }
    if (this.jobId !== id) return;
    const item = this.items.get(seg.index);
    if (item) item.signature = null; // redrawn even if nothing changed (the buttons come back)
    await this.load();
    if (item && item.signature === null) this.render(); // the load failed: draw what we have
  }
}
