// A gate pair's live queue board for one direction: follows the event stream, keeps the last board
// on screen (marked) when the connection drops, and comes back by itself.
import { html, render } from "../dom.js";
import { api, check, navNow, liveStream } from "../api.js";
import { t, word, num, fmt, hhmm, dur, zoneName, pairName } from "../i18n.js";
import { table, openPill, behind } from "../ui.js";
import { gatePairs } from "./public.js";

export const title = () => t("board");

function boardHtml(q, pair, live) {
  const at = `${fmt(q.at.utc)} ${zoneName()}`;
  return html`<h1>${t("board")}: ${pair} · ${word("dir", q.direction)}</h1>
  <p class="${live ? "muted" : "err"}" id="conn" role="status" data-live="${String(live)}">${live ? `${t("live")} · ${at}` : t("conn_lost", { time: at })} · VN ${openPill(q.vn_open)} CN ${openPill(q.cn_open)}</p>
  ${behind(q.replica_lag_s, q.as_of, q.source)}
  <div class="stats" id="stats">
    <div class="stat">${t("yard")}<b data-k="yard">${num(q.yard)}</b></div><div class="stat">${t("virtual")}<b>${num(q.virtual_queue)}</b></div>
    <div class="stat">${t("called")}<b>${num(q.called)}</b></div><div class="stat">${t("clearing")}<b>${num(q.clearing)}</b></div>
    <div class="stat">${t("expected_wait")}<b>${dur(q.expected_wait_s)}</b></div><div class="stat">${t("congestion")}<b><span class="pill ${q.congestion}">${word("congestion", q.congestion)}</span></b></div>
  </div>
  <div class="grid"><div><h2>${t("lanes")}</h2>
  ${table(t("lanes"), [t("lane"), t("side"), t("capacity"), t("truck")], q.lanes.map((l) => html`<tr><td class="lane-name">${t("lane_named", { number: String(l.number), class: word("class", l.class) })}<br><small class="muted">${l.name}</small></td><td>${l.side}</td><td>${num(l.capacity_per_hour)}${l.active ? "" : " ✕"}</td><td>${l.plate ? html`${l.plate} <small>${word("trip", l.trip_status)}</small>` : t("none")}</td></tr>`))}</div>
  <div><h2>${t("booked_ahead")}</h2>
  ${table(t("booked_ahead"), [t("hour"), t("booked"), t("capacity")], q.booked_ahead.map((h) => html`<tr><td>${hhmm(h.hour.utc)}</td><td>${num(h.booked)}</td><td>${h.capacity ? num(h.capacity) : t("none")}</td></tr>`))}</div></div>
  <h2>${t("queue")}</h2>
  ${table(t("queue"), [t("position"), t("plate"), t("class"), t("status"), t("est_call")], q.queue.map((e) => html`<tr><td>${e.position}</td><td>${e.plate}${e.booked ? " ⏱" : ""}</td><td>${word("class", e.class)}</td><td>${word("trip", e.status)}</td><td>${e.estimated_call ? hhmm(e.estimated_call.utc) : t("none")}</td></tr>`), "queue")}`;
}

export default async function pageBoard(main, [pairId, dir = "export"]) {
  const tk = navNow();
  const [pairs, first] = await Promise.all([gatePairs(), api("GET", `/gate-pairs/${encodeURIComponent(pairId)}/queue?direction=${encodeURIComponent(dir)}`)]);
  check(tk);
  const p = pairs.find((x) => x.id === pairId);
  const pair = p ? pairName(p) : pairId;
  document.title = `${t("board")}: ${pair} · cuakhau`;
  // The last board stays on screen when the connection drops, marked as such.
  let last = first, live = true;
  const draw = () => { if (tk === navNow()) render(main, boardHtml(last, pair, live)); };
  draw();
  liveStream(`/api/v1/gate-pairs/${encodeURIComponent(pairId)}/queue/stream?direction=${encodeURIComponent(dir)}`, (q) => { last = q; draw(); }, (ok) => { if (ok !== live) { live = ok; draw(); } });
}
