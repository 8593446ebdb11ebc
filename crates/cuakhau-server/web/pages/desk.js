// An officer's desk: the trucks at the officer's step (the first one open), the declarations their
// side's customs must decide (accept, or reject with a reason asked for in the row).
import { html, render, append, $, $$ } from "../dom.js";
import { api, apiAll, check, navNow, liveStream, STALE } from "../api.js";
import { t, word, num, fmt, pairName, roleWords } from "../i18n.js";
import { gatePairs } from "./public.js";
import { S, roles, isOfficer } from "../state.js";
import { table, gate, showError, showResult } from "../ui.js";

export const title = () => t("worklist");

export default async function pageDesk(main) {
  if (!gate(main, isOfficer())) return;
  const tk = navNow();
  // Customs officers also decide submitted declarations of their side's exports or imports; the
  // server filters by scope, state and side, and pages: the desk asks for exactly its work.
  const customs = [...new Set(roles().filter((r) => r.startsWith("officer:") && r.split(":")[2] === "customs").map((r) => r.split(":")[1]))];
  const [pairs, list, ...todo] = await Promise.all([gatePairs(), apiAll("/worklist"), ...customs.map((side) => apiAll(`/declarations?state=submitted&exit_side=${side}`))]);
  check(tk);
  const byId = new Map(pairs.map((p) => [p.id, p]));
  const pairOf = (id) => (byId.has(id) ? pairName(byId.get(id)) : id);
  // The officer's roles in words ("Hải quan Việt Nam · Hữu Nghị – 友谊关"), never codes.
  const mine = roles().filter((r) => r.startsWith("officer:") || r === "admin").map((r) => roleWords(r, pairOf)).join("; ");
  render(main, html`<h1>${t("worklist")} <small class="muted">${mine}</small></h1>
  <p class="muted" id="conn" role="status" data-live="true">${t("live")}</p>
  <div id="work"></div><div id="trip" aria-live="polite"></div><div id="decide"></div>`);
  const work = (rows) => {
    render($("#work"), table(t("worklist"), [["#", "hide-sm"], t("plate"), t("gate_pair"), t("channel"), t("step"), t("actions")], rows.map((x) => html`<tr data-row="${x.id}"><td class="hide-sm">${x.id}</td><td>${x.plate}</td><td>${pairOf(x.gate_pair)} · ${word("dir", x.direction)}</td><td><span class="pill ${x.channel}">${word("channel", x.channel)}</span></td>
    <td>${word("step", x.steps[x.current_step].step)} (${word("step_state", x.steps[x.current_step].state)})</td><td><button data-trip="${x.id}" aria-label="${t("view")} ${x.plate}">${t("view")}</button></td></tr>`), "worklist"));
    $$("button[data-trip]", main).forEach((b) => (b.onclick = () => showTrip(b.dataset.trip, true)));
    markOpen();
  };
  work(list);
  // The desk follows its gate pairs' event streams: a truck called or moved shows up at once.
  const scoped = [...new Set(roles().filter((r) => r.startsWith("officer:")).map((r) => r.split(":")[3]).filter((p) => p && p !== "*" && byId.has(p)))];
  let pending = null;
  const refresh = () => {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      if (tk !== navNow()) return;
      try { work(await apiAll("/worklist")); if (!$("#trip").childElementCount && $("tr[data-row]")) await showTrip($("tr[data-row]").dataset.row); } catch (_) { /* the next event tries again */ }
    }, 300);
  };
  const conn = (ok) => { const c = $("#conn"); if (c) { c.dataset.live = String(ok); c.className = ok ? "muted" : "err"; c.textContent = ok ? t("live") : t("conn_lost", { time: fmt(new Date().toISOString()) }); } };
  for (const p of scoped) for (const dir of ["export", "import"]) liveStream(`/api/v1/gate-pairs/${encodeURIComponent(p)}/queue/stream?direction=${dir}`, refresh, conn);
  // The next truck is open at once.
  if (list.length) await showTrip(list[0].id);
  check(tk);
  if (!customs.length) return;
  const decl = todo.flat();
  render($("#decide"), html`<h2>${t("declarations")}</h2><div id="derr" aria-live="polite"></div>
  ${table(t("declarations"), ["#", t("plate"), t("gate_pair"), t("consignments"), t("actions")], decl.map((d) => html`<tr><td>${d.id}</td><td>${d.plate}<br><small>${d.enterprise}</small>${d.driver ? html`<br><small>${t("driver_name")}: ${d.driver.name}</small>` : ""}</td><td>${pairOf(d.gate_pair)} · ${word("dir", d.direction)}</td><td>${d.consignments.map((c) => html`<div>${c.hs_code} ${c.description_vi || c.description_zh} · ${num(c.gross_kg)} kg · ${num(c.value, 2)} ${c.currency}${c.certificate ? html` · ${t("certificate")}: ${c.certificate}` : ""}</div>`)}</td>
  <td class="actions"><button data-accept="${d.id}">${t("accept")}</button><button class="bad" data-reject="${d.id}">${t("reject")}</button></td></tr>`))}`);
  $$("button[data-accept]", main).forEach((b) => (b.onclick = async () => {
    try {
      await api("POST", `/declarations/${b.dataset.accept}/accept`);
      await pageDesk(main);
      showResult($("#derr"), `#${b.dataset.accept}: ${t("accepted_msg")}`);
    } catch (e) { showError($("#derr"), e); }
  }));
  // A rejection's reason is asked for in the row itself, labelled, and sent with the button.
  $$("button[data-reject]", main).forEach((b) => (b.onclick = () => {
    const cell = b.parentElement;
    if (cell.querySelector("form")) return;
    const form = append(cell, html`<form class="reject row" novalidate><label class="f"><span>${t("reason")}</span><input name="reason"></label><button class="bad">${t("reject")}</button><div class="rerr"></div></form>`);
    form.querySelector("input").focus();
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const reason = form.querySelector("input").value.trim();
      try {
        await api("POST", `/declarations/${b.dataset.reject}/reject`, { reasons: reason ? [reason] : [] });
        await pageDesk(main);
        showResult($("#derr"), `#${b.dataset.reject}: ${t("rejected_msg")}`);
      } catch (e) { showError(form.querySelector(".rerr"), e, form); }
    };
  }));
}

/** One truck at the desk: its firm, goods and steps, and the acts open to this officer. */
let openTrip = null;
/** Marks the open truck's row in the worklist. */
function markOpen() {
  $$("tr[data-row]").forEach((tr) => (tr.dataset.row === String(openTrip) ? tr.setAttribute("aria-current", "true") : tr.removeAttribute("aria-current")));
}

async function showTrip(id, focus = false) {
  const tk = navNow();
  const x = await api("GET", `/trips/${id}`);
  const d = await api("GET", `/declarations/${x.declaration_id}`);
  check(tk);
  const box = $("#trip");
  const cur = x.current_step;
  openTrip = id;
  markOpen();
  render(box, html`<div class="card"><h2 tabindex="-1">${x.plate} · ${d.enterprise} · <span class="pill ${x.channel}">${word("channel", x.channel)}</span> <small class="risk">${x.channel_reason_words[S.lang]}</small></h2>
  ${d.driver ? html`<p>${t("driver_name")}: <b>${d.driver.name}</b> · ${t("nationality")}: ${word("nationality", d.driver.nationality)} · ${d.driver.document_no}</p>` : ""}
  <h3>${t("consignments")}</h3>
  ${table(t("consignments"), [t("hs_code"), t("desc_vi"), t("desc_zh"), t("gross_kg"), t("value"), t("certificate")], d.consignments.map((c) => html`<tr><td>${c.hs_code}</td><td>${c.description_vi}</td><td>${c.description_zh}</td><td>${num(c.gross_kg)}</td><td>${num(c.value, 2)} ${c.currency}</td><td>${c.certificate}</td></tr>`))}
  <h3>${t("steps")}</h3>
  ${table(t("steps"), [t("step"), t("state"), t("when"), t("reason")], x.steps.map((s) => html`<tr><td>${word("step", s.step)}</td><td>${word("step_state", s.state)}</td><td>${s.at ? fmt(s.at.utc) : s.since ? fmt(s.since.utc) : ""}</td><td>${s.reason || ""}</td></tr>`))}
  ${cur != null ? html`<form id="act" class="actions" novalidate><label class="f"><span>${t("reason")}</span><input name="reason"></label>
  ${x.steps[cur].state === "pending" ? html`<button data-o="start">${t("start")}</button>` : html`<button data-o="pass">${t("pass")}</button><button class="alt" data-o="hold">${t("hold")}</button><button class="bad" data-o="refuse">${t("refuse")}</button>`}</form><div id="aerr" aria-live="polite"></div>` : ""}</div>`);
  if (focus) box.querySelector("h2").focus();
  const form = $("#act");
  if (form) $$("button", form).forEach((b) => (b.onclick = async (ev) => {
    ev.preventDefault();
    const o = b.dataset.o;
    try {
      if (o === "start") await api("POST", `/trips/${id}/steps/${cur}/start`);
      else await api("POST", `/trips/${id}/steps/${cur}/finish`, { outcome: o, reason: form.reason.value });
      await showTrip(id);
      const done = $("#act button");
      if (done) done.focus(); else box.querySelector("h2").focus();
    } catch (e) { if (e !== STALE) showError($("#aerr"), e, form); }
  }));
}
