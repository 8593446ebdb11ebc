// The driver's page, opened by the declaration number and its tracking code (the link the firm
// sends): place in the queue, expected call, and "your turn" with the lane and the deadline in the
// driver's zone, the zone named. Follows the gate's event stream.
import { html, render, $ } from "../dom.js";
import { api, navNow, liveStream } from "../api.js";
import { S } from "../state.js";
import { t, word, num, fmt, hhmm, actBy, zoneName, holder } from "../i18n.js";
import { showError, behind } from "../ui.js";

export const title = () => t("driver_title");

let ticking = null;
let called = false;
// The server's clock minus this device's, learnt from each board snapshot's time: a phone's clock
// may be wrong, and the deadline is the server's.
let skew = null;
/** Counts down to the call's deadline every second while the page is open. */
function countdown(tk, deadline) {
  clearInterval(ticking);
  const tick = () => {
    const el = $("#countdown");
    if (tk !== navNow() || !el) { clearInterval(ticking); return; }
    if (skew == null) return;
    const s = Math.max(0, Math.round((new Date(deadline) - (Date.now() + skew)) / 1000));
    el.textContent = t("time_left", { time: `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` });
  };
  tick();
  ticking = setInterval(tick, 1000);
}

/** "Your turn" felt as well as seen: a vibration and a tone, where the browser allows them. */
function alertDriver() {
  try { navigator.vibrate?.([400, 150, 400, 150, 400]); } catch (_) { /* not allowed */ }
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.6);
  } catch (_) { /* no sound before a gesture */ }
}

export default async function pageDriver(main) {
  const tk = navNow();
  const q = new URLSearchParams(location.hash.split("?")[1] || "");
  render(main, html`<h1>${t("driver_title")}</h1><div id="out" aria-live="polite"></div><form id="f" class="card"><div class="row">
    <label class="f"><span>${t("decl_no")}</span><input name="declaration" inputmode="numeric" required value="${q.get("d") || ""}"></label>
    <label class="f"><span>${t("track_code")}</span><input name="code" required autocomplete="off" value="${q.get("code") || ""}"></label></div>
    <button>${t("find")}</button></form>`);
  const out = $("#out");
  const show = async (d, code) => {
    try {
      const r = await api("GET", `/track/${encodeURIComponent(d)}?code=${encodeURIComponent(code)}`);
      if (tk !== navNow()) return;
      // A driver reads the clock of the side they leave from, unless they chose a zone.
      S.pageZone = r.direction === "import" ? "CN" : "VN";
      $("#zone").value = S.zone;
      // The call names a place the driver can find: the lane by its number and class, the gate they
      // leave from, the direction, and the deadline in their zone, named (the webhook's words).
      const lane = r.lane_number ? t("lane_named", { number: String(r.lane_number), class: word("class", r.lane_class) }) : r.lane;
      const turn = r.your_turn ? t("your_turn", { lane, gate: r.exit_gate[S.lang], direction: word("dir", r.direction), time: hhmm(r.call_deadline.utc), zone: zoneName() }) : null;
      document.title = turn ? `⚠ ${turn}` : `${t("driver_title")} · ${r.plate} · cuakhau`;
      // A hold or a refusal says who stops the truck, why, and what the driver should do now.
      const stop = r.stopped;
      const stopped = stop ? html`<div class="card stop ${stop.state}" id="stopped" role="alert"><p class="big">${t(stop.state === "held" ? "held_by" : "refused_by", { who: holder(stop.step), reason: stop.reason || t("none") })}</p><p>${t(stop.state === "held" ? "held_next" : "refused_next")}</p></div>` : "";
      render(out, html`${turn ? html`<p class="turn" role="alert">${turn}</p><p class="countdown" id="countdown" role="timer" aria-live="off"></p>` : ""}${stopped}
      <div class="card"><p class="big">${r.plate}</p>
      ${r.status === "none" ? html`<p>${t("not_in_queue")}</p>` : html`<p>${t("status")}: <b>${word("trip", r.status)}</b></p>`}
      ${r.position ? html`<p class="place">${t("place")}: <span class="big">${num(r.position)}</span> ${t("of")} ${num(r.waiting_total)}</p><p>${t("est_call")}: <b class="est-call">${actBy(r.estimated_call?.utc)}</b></p>` : ""}
      ${r.booking ? html`<p>${t("booking")}: ${fmt(r.booking.hour)} ${zoneName()}</p>` : ""}${r.current_step ? html`<p>${t("step_now")}: ${word("step", r.current_step)}</p>` : ""}
      ${r.channel ? html`<p class="channel">${t("channel")}: <span class="pill ${r.channel}">${word("channel", r.channel)}</span> ${r.channel_reason_words[S.lang]}</p>` : ""}
      ${behind(r.replica_lag_s, r.as_of, r.source)}</div>`);
      if (turn) { countdown(tk, r.call_deadline.utc); if (!called) alertDriver(); }
      called = !!turn;
      if (!S.streams.length) liveStream(`/api/v1/gate-pairs/${encodeURIComponent(r.gate_pair)}/queue/stream?direction=${encodeURIComponent(r.direction)}`, (q) => { skew = Date.parse(q.at.utc) - Date.now(); show(d, code); }, () => {});
    } catch (e) { showError(out, e); }
  };
  $("#f").onsubmit = (ev) => { ev.preventDefault(); const f = new FormData(ev.target); show(f.get("declaration"), f.get("code")); };
  if (q.get("d")) await show(q.get("d"), q.get("code"));
}
