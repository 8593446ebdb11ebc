// An officer's desk: the trucks at the officer's step (the first one open), the declarations their
// side's customs must decide (accept, or reject with a reason asked for in the row).
import { html, render, append, $, $$ } from "../dom.js";
import { api, apiAll, check, navNow } from "../api.js";
import { t, word, num, fmt } from "../i18n.js";
import { roles, isOfficer } from "../state.js";
import { table, gate, showError, showResult } from "../ui.js";

export const title = () => t("worklist");

export default async function pageDesk(main) {
  if (!gate(main, isOfficer())) return;
  const tk = navNow();
  // Customs officers also decide submitted declarations of their side's exports or imports; the
  // server filters by scope, state and side, and pages: the desk asks for exactly its work.
  const customs = [...new Set(roles().filter((r) => r.startsWith("officer:") && r.split(":")[2] === "customs").map((r) => r.split(":")[1]))];
  const [list, ...todo] = await Promise.all([apiAll("/worklist"), ...customs.map((side) => apiAll(`/declarations?state=submitted&exit_side=${side}`))]);
  check(tk);
  const mine = roles().filter((r) => r.startsWith("officer:")).join(", ");
  render(main, html`<h1>${t("worklist")} <small class="muted">${mine}</small></h1>
  ${table(t("worklist"), ["#", t("plate"), t("gate_pair"), t("channel"), t("step"), t("actions")], list.map((x) => html`<tr data-row="${x.id}"><td>${x.id}</td><td>${x.plate}</td><td>${x.gate_pair} · ${word("dir", x.direction)}</td><td><span class="pill ${x.channel}">${word("channel", x.channel)}</span></td>
  <td>${word("step", x.steps[x.current_step].step)} (${word("step_state", x.steps[x.current_step].state)})</td><td><button data-trip="${x.id}" aria-label="${t("view")} ${x.plate}">${t("view")}</button></td></tr>`))}
  <div id="trip" aria-live="polite"></div><div id="decide"></div>`);
  $$("button[data-trip]", main).forEach((b) => (b.onclick = () => showTrip(b.dataset.trip, true)));
  // The next truck is open at once.
  if (list.length) await showTrip(list[0].id);
  check(tk);
  if (!customs.length) return;
  const decl = todo.flat();
  render($("#decide"), html`<h2>${t("declarations")}</h2><div id="derr" aria-live="polite"></div>
  ${table(t("declarations"), ["#", t("plate"), t("gate_pair"), t("consignments"), t("actions")], decl.map((d) => html`<tr><td>${d.id}</td><td>${d.plate}</td><td>${d.gate_pair} · ${word("dir", d.direction)}</td><td>${d.consignments.map((c) => html`${c.hs_code} ${c.description_vi || c.description_zh}<br>`)}</td>
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
async function showTrip(id, focus = false) {
  const box = $("#trip");
  const x = await api("GET", `/trips/${id}`);
  const d = await api("GET", `/declarations/${x.declaration_id}`);
  const cur = x.current_step;
  $$("tr[data-row]").forEach((tr) => (tr.dataset.row === String(id) ? tr.setAttribute("aria-current", "true") : tr.removeAttribute("aria-current")));
  render(box, html`<div class="card"><h2 tabindex="-1">${x.plate} · ${d.enterprise} · <span class="pill ${x.channel}">${word("channel", x.channel)}</span> <small>${word("risk", x.channel_reason)}</small></h2>
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
    } catch (e) { showError($("#aerr"), e, form); }
  }));
}
