// The JSON API client (docs/API.md) and the API key. (Named client.js, not api.js, so that
// no static file path starts with "/api".)
//
// A key is asked for only when a request comes back 401: one dialog for however many
// requests failed at once. It lives in sessionStorage (this tab only) and goes out as
// "Authorization: Bearer" on fetches and as ?key= on URLs the browser loads itself
// (<audio src>, EventSource, download links).

import { t } from "./i18n.js";

const KEY_STORAGE = "indextts-yt.key";
let apiKey = readKey();
let asking = null; // the pending dialog, shared by every request that got a 401

function readKey() {
  // A key in the page's own URL (/?key=…) is taken once and removed from the address bar.
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("key");
  if (fromUrl) {
    url.searchParams.delete("key");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
    try { sessionStorage.setItem(KEY_STORAGE, fromUrl); } catch { /* ignore */ }
    return fromUrl;
  }
  try { return sessionStorage.getItem(KEY_STORAGE) || ""; } catch { return ""; }
}

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** `url` with query parameters added: addQuery("/a?x=1", {v: 2}) -> "/a?x=1&v=2". */
export function addQuery(url, params) {
  const query = Object.entries(params)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join("&");
  return query ? `${url}${url.includes("?") ? "&" : "?"}${query}` : url;
}

/** `path` with ?key= added when a key is in use (for audio, EventSource, downloads). */
export function withKey(path) {
  return apiKey ? addQuery(path, { key: apiKey }) : path;
}

export function hasKey() {
  return Boolean(apiKey);
}

/** Show the key dialog once; resolves true when a key was entered, false if dismissed. */
export function askForKey(rejected = false) {
  if (asking) return asking;
  const dialog = document.getElementById("key-dialog");
  const form = dialog.querySelector("form");
  const input = dialog.querySelector("input");
  dialog.querySelector("[data-role=key-rejected]").hidden = !rejected;
  input.value = "";
  asking = new Promise((resolve) => {
    const done = (ok) => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      asking = null;
      resolve(ok);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      apiKey = value;
      try { sessionStorage.setItem(KEY_STORAGE, value); } catch { /* ignore */ }
      done(true);
    };
    const onClose = () => done(false);
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    input.focus();
  });
  return asking;
}

/** fetch() with the key; a 401 asks for the key (once) and retries. Returns the Response. */
export async function request(path, options = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(options.headers || {});
    if (apiKey) headers.set("Authorization", `Bearer ${apiKey}`);
    let response;
    try {
      response = await fetch(path, { ...options, headers });
    } catch {
      throw new ApiError(t("error.network"), 0);
    }
    if (response.status === 401 && attempt < 5) {
      const hadKey = Boolean(apiKey);
      if (await askForKey(hadKey)) continue;
      throw new ApiError(t("error.keyMissing"), 401);
    }
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try {
        const body = await response.json();
        message = body.error || body.detail || message;
        if (typeof message !== "string") message = JSON.stringify(message);
      } catch { /* not JSON */ }
      throw new ApiError(message, response.status);
    }
    return response;
  }
}

async function json(path, options = {}) {
  const response = await request(path, options);
  if (response.status === 204) return null;
  return response.json();
}

function sendJson(method, path, body) {
  return json(path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const enc = encodeURIComponent;

export const api = {
  health: () => json("/api/health"),
  engines: () => json("/api/engines"),
  preview: (body) => sendJson("POST", "/api/preview", body),
  createJob: (body) => sendJson("POST", "/api/jobs", body),
  /** multipart: `file` plus the same fields, options/pauses as JSON strings. */
  createJobFromFile: (file, fields) => {
    const form = new FormData();
    form.append("file", file);
    for (const [name, value] of Object.entries(fields)) {
      if (value == null) continue;
      form.append(name, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    return json("/api/jobs", { method: "POST", body: form });
  },
  // Reference clips (the voices of the cloning engines)
  clips: () => json("/api/clips"),
  /** multipart `file`: WAV, FLAC, MP3, OGG or M4A of 1-15 s; -> {id, name, seconds, sample_rate}. */
  uploadClip: (file) => {
    const form = new FormData();
    form.append("file", file);
    return json("/api/clips", { method: "POST", body: form });
  },
  /** Load the engine's model and analyse the clip now -> {clip, engine, result, seconds}. */
  preloadClip: (id, engine) => sendJson("POST", `/api/clips/${enc(id)}/preload`, { engine }),
  // The voice library: named recordings (library) and the engines' own voices (bundled)
  voices: () => json("/api/voices"),
  /** multipart: the recording plus name, language, tags (comma-separated), notes -> the voice. */
  addVoice: (file, fields) => {
    const form = new FormData();
    form.append("file", file);
    for (const [name, value] of Object.entries(fields)) if (value) form.append(name, value);
    return json("/api/voices", { method: "POST", body: form });
  },
  editVoice: (id, body) => sendJson("PATCH", `/api/voices/${enc(id)}`, body),
  deleteVoice: (id) => json(`/api/voices/${enc(id)}`, { method: "DELETE" }),
  /** A .voice.zip; `name` imports it under another name. */
  importVoice: (file, name) => {
    const form = new FormData();
    form.append("file", file);
    if (name) form.append("name", name);
    return json("/api/voices/import", { method: "POST", body: form });
  },
  jobs: () => json("/api/jobs"),
  job: (id) => json(`/api/jobs/${enc(id)}`),
  deleteJob: (id) => json(`/api/jobs/${enc(id)}`, { method: "DELETE" }),
  control: (id, action) => sendJson("POST", `/api/jobs/${enc(id)}/${action}`),
  segments: (id) => json(`/api/jobs/${enc(id)}/segments`),
  patchSegment: (id, index, body) => sendJson("PATCH", `/api/jobs/${enc(id)}/segments/${index}`, body),
  // Review: what proofreading heard, and a person's say on it
  review: (id) => json(`/api/jobs/${enc(id)}/review`),
  approveSegment: (id, index, approved = true) =>
    sendJson("POST", `/api/jobs/${enc(id)}/segments/${index}/approve`, { approved }),
  retakeSegment: (id, index) => sendJson("POST", `/api/jobs/${enc(id)}/segments/${index}/retake`),
  chooseTake: (id, index, take) => sendJson("POST", `/api/jobs/${enc(id)}/segments/${index}/takes/${take}/choose`),
  // URLs the browser loads by itself (they carry ?key=)
  eventsUrl: (id) => withKey(`/api/jobs/${enc(id)}/events`),
  audioUrl: (id) => withKey(`/api/jobs/${enc(id)}/audio`),
  segmentAudioUrl: (id, index) => withKey(`/api/jobs/${enc(id)}/segments/${index}/audio`),
  takeAudioUrl: (id, index, take) => withKey(`/api/jobs/${enc(id)}/segments/${index}/takes/${take}/audio`),
  /** The finished WAV, or the file in the format the job was made in (`format`: "mp3", ...). */
  downloadUrl: (id, format = "wav") =>
    withKey(addQuery(`/api/jobs/${enc(id)}/download`, format === "wav" ? {} : { format })),
  srtUrl: (id) => withKey(`/api/jobs/${enc(id)}/subtitles.srt`),
  vttUrl: (id) => withKey(`/api/jobs/${enc(id)}/subtitles.vtt`),
  chaptersUrl: (id) => withKey(`/api/jobs/${enc(id)}/chapters.txt`),
  clipAudioUrl: (id) => withKey(`/api/clips/${enc(id)}/audio`),
  voiceAudioUrl: (id) => withKey(`/api/voices/${enc(id)}/audio`),
  voiceExportUrl: (id) => withKey(`/api/voices/${enc(id)}/export`),
};
