// The API client: JSON in and out in the reader's language, problems as `Problem` errors, lists
// followed page by page, event streams that reconnect, and the navigation token that lets a page
// stop when the reader has moved on.
import { S } from "./state.js";
import { t } from "./i18n.js";

export class Problem extends Error {
  constructor(p, status) { super(p.detail || p.title || String(status)); this.p = p; this.status = status; }
}

// Each route() takes a new number; a page that finds, after an await, that another route() has
// started since, stops (throws STALE) instead of drawing over the newer page.
let NAV = 0;
export const STALE = Symbol("stale");
export const newNav = () => ++NAV;
export const navNow = () => NAV;
export const check = (tk) => { if (tk !== NAV) throw STALE; };

const offline = () => new Problem({ title: t("error"), detail: t("offline") }, 0);

export async function api(method, path, body, type = "application/json") {
  const opts = { method, headers: { "Accept-Language": S.lang }, credentials: "same-origin" };
  if (body !== undefined) { opts.headers["Content-Type"] = type; opts.body = type === "application/json" ? JSON.stringify(body) : body; }
  let r;
  try { r = await fetch("/api/v1" + path, opts); } catch (_) { throw offline(); }
  const ct = r.headers.get("content-type") || "";
  const data = ct.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Problem(typeof data === "object" ? data : { detail: data }, r.status);
  return data;
}

/** Every page of a list, following the server's `Link: <…>; rel="next"` headers (never cut). */
export async function apiAll(path) {
  let url = "/api/v1" + path;
  const all = [];
  while (url) {
    let r;
    try { r = await fetch(url, { headers: { "Accept-Language": S.lang }, credentials: "same-origin" }); } catch (_) { throw offline(); }
    const data = await r.json();
    if (!r.ok) throw new Problem(data, r.status);
    all.push(...data);
    const m = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get("link") || "");
    url = m ? m[1] : null;
  }
  return all;
}

/**
 * Follows a server-sent event stream for as long as the page is open: `onEvent(data)` on each
 * `event` event, `onState(live)` when the connection drops or comes back. The browser reconnects by
 * itself after a drop (the server asks for 2 s); a refused reconnect (the server stopping) closes
 * the EventSource, so the page opens a new one.
 */
export function liveStream(url, onEvent, onState, event = "queue") {
  const tk = NAV;
  const open = () => {
    if (tk !== NAV) return;
    const es = new EventSource(url);
    S.streams.push(es);
    // Open is live: a reconnect whose board is still current is sent nothing until the next change.
    es.onopen = () => onState(true);
    es.addEventListener(event, (ev) => { onState(true); onEvent(JSON.parse(ev.data)); });
    es.onerror = () => {
      onState(false);
      if (es.readyState === EventSource.CLOSED) { S.streams = S.streams.filter((x) => x !== es); setTimeout(open, 2000); }
    };
  };
  open();
}
