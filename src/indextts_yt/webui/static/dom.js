// Small DOM helpers: element building, throttling, the status message line.

/** h("button", {class: "x", onclick: fn, dataset: {testid: "y"}}, "text", child, …) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** A server's message as nodes: its `…` spans (the commands to run) become <code> elements,
 * shown verbatim; the rest stays text. */
export function withCode(text) {
  return String(text ?? "").split("`")
    .map((part, i) => (i % 2 === 1 ? h("code", {}, part) : part))
    .filter((part) => part !== "");
}

/**
 * Call `fn` at most once every `ms` (a number, or a function giving it); calls in between
 * are folded into one trailing call, so a burst of events refreshes a table once.
 */
export function throttle(fn, ms) {
  const interval = typeof ms === "function" ? ms : () => ms;
  let last = 0;
  let timer = null;
  const run = () => {
    timer = null;
    last = Date.now();
    fn();
  };
  const throttled = () => {
    if (timer) return;
    const wait = Math.max(0, last + interval() - Date.now());
    timer = setTimeout(run, wait);
  };
  throttled.now = () => {
    if (timer) clearTimeout(timer);
    run();
  };
  throttled.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return throttled;
}

/** A state badge: <span class="badge state-running">生成中</span>. */
export function badge(state, label, testid) {
  return h("span", { class: `badge state-${state}`, dataset: { state, ...(testid ? { testid } : {}) } }, label);
}

/** Show a one-line message in a role=status element; kind: "info" | "error" | "ok". */
export function say(el, text, kind = "info") {
  el.textContent = text || "";
  el.dataset.kind = kind;
  el.hidden = !text;
}
