// A gate board's page: each side's opening hours, the lanes (capacity, active), suspensions, and
// for administrators the users and the audit log.
import { html, render, $, $$ } from "../dom.js";
import { api, check, navNow, STALE } from "../api.js";
import { t, word, num, fmt, fmtIn, name, pairName, roleWords } from "../i18n.js";
import { roles, isOfficer } from "../state.js";
import { field, select, table, gate, showError, showResult } from "../ui.js";
import { gatePairs } from "./public.js";

export const title = () => t("nav_operator");

/** A capacity box's value for the API: a number, or an empty box as it is, for the server to refuse (Number("") is 0). */
const capacity = (v) => (v.trim() === "" ? v : Number(v));

export default async function pageOperator(main) {
  if (!gate(main, isOfficer())) return;
  const tk = navNow();
  const pair = new URLSearchParams(location.hash.split("?")[1] || "").get("pair") || "huu-nghi";
  const [pairs, lanes, sus] = await Promise.all([gatePairs(), api("GET", `/gate-pairs/${encodeURIComponent(pair)}/lanes`), api("GET", `/gate-pairs/${encodeURIComponent(pair)}/suspensions`)]);
  check(tk);
  const p = pairs.find((x) => x.id === pair);
  const hoursForm = (side) => {
    const g = side === "VN" ? p.vn : p.cn;
    return html`<form class="card hours" data-side="${side}"><b>${side} · ${name(g.name, side === "VN" ? "vi" : "zh")}</b> <small>${g.zone}</small>
    <div class="row">${field("opens", t("opens"), { value: g.hours ? g.hours.opens : "" })}${field("closes", t("closes"), { value: g.hours ? g.hours.closes : "" })}</div>
    ${field("source", t("source"), { value: g.hours ? g.hours.source : "" })}<button>${t("save")}</button></form>`;
  };
  render(main, html`<h1>${t("nav_operator")}</h1>
  <label class="f"><span>${t("gate_pair")}</span><select id="pp">${pairs.map((x) => html`<option value="${x.id}" ${x.id === pair ? "selected" : ""}>${pairName(x)}</option>`)}</select></label>
  <div id="omsg" aria-live="polite"></div>
  <h2>${t("hours")}</h2><div class="grid">${hoursForm("VN")}${hoursForm("CN")}</div>
  <h2>${t("lanes")}</h2>
  ${table(t("lanes"), [t("lane"), t("side"), t("direction"), t("class"), t("capacity"), t("active"), t("actions")], lanes.map((l) => html`<tr data-lane="${l.id}"><td class="lane-name">${t("lane_named", { number: String(l.number), class: word("class", l.class) })}<br><small class="muted">${l.name}</small></td><td>${l.side}</td><td>${word("dir", l.direction)}</td><td>${word("class", l.class)}</td><td><input type="number" min="0" name="cap" value="${l.capacity_per_hour}" aria-label="${t("capacity")} ${l.name}" class="narrow"></td>
  <td><input type="checkbox" name="active" ${l.active ? "checked" : ""} aria-label="${t("active")} ${l.name}"></td><td><button class="alt" data-save aria-label="${t("save")} ${l.name}">${t("save")}</button></td></tr>`))}
  <h2>${t("suspensions")}</h2>
  ${table(t("suspensions"), [t("side"), t("from"), t("until"), t("reason")], sus.map((s) => html`<tr><td>${s.side}</td><td>${fmtIn(s.from, s.side)}</td><td>${fmtIn(s.until, s.side)}</td><td>${s.reason}${s.preregistered_only ? ` · ${t("preregistered")}` : ""}</td></tr>`))}
  <form id="sus" class="card row" novalidate>${select("side", t("side"), [["VN", "VN"], ["CN", "CN"]])}${field("from", t("from"), { type: "datetime-local" })}${field("until", t("until"), { type: "datetime-local" })}${field("reason", t("reason"))}
  <label class="f"><input type="checkbox" name="preregistered_only"> ${t("preregistered")}</label><button>${t("add")}</button></form>
  <div id="users"></div><div id="audit"></div>`);
  const msg = $("#omsg");
  $("#pp").onchange = (e) => { location.hash = `#/operator?pair=${e.target.value}`; };
  $$("form.hours", main).forEach((f) => (f.onsubmit = async (ev) => {
    ev.preventDefault();
    try { await api("PUT", `/gates/${encodeURIComponent(pair)}/${f.dataset.side}/hours`, Object.fromEntries(new FormData(f))); showResult(msg, t("saved")); gatePairs(true); } catch (e) { showError(msg, e, f); }
  }));
  $$("button[data-save]", main).forEach((b) => (b.onclick = async () => {
    const tr = b.closest("tr");
    try { await api("PATCH", `/lanes/${encodeURIComponent(tr.dataset.lane)}`, { capacity_per_hour: capacity(tr.querySelector("[name=cap]").value), active: tr.querySelector("[name=active]").checked }); showResult(msg, t("saved")); } catch (e) { showError(msg, e); }
  }));
  $("#sus").onsubmit = async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    const off = f.side === "VN" ? "+07:00" : "+08:00";
    const iso = (v) => (v ? `${v}:00${off}` : "");
    try {
      await api("POST", `/gate-pairs/${encodeURIComponent(pair)}/suspensions`, { side: f.side, from: iso(f.from), until: iso(f.until), reason: f.reason, preregistered_only: !!f.preregistered_only });
      await pageOperator(main);
      showResult($("#omsg"), t("saved"));
    } catch (e) { showError(msg, e, ev.target); }
  };
  if (roles().includes("admin")) await users(main, tk);
  try {
    const v = await api("GET", "/audit/verify");
    const log = await api("GET", `/audit?after=${Math.max(0, v.entries - 50)}&limit=50`);
    check(tk);
    render($("#audit"), html`<h2>${t("audit")}</h2><p class="${v.ok ? "msg" : "err"}">${v.ok ? t("verified", { n: num(v.entries) }) : `${t("broken")} #${v.broken_at}: ${v.reason || ""}`}</p>
    ${table(t("audit"), ["#", t("when"), t("actor"), t("action"), t("entity")], log.reverse().map((e) => html`<tr><td>${e.seq}</td><td>${fmt(e.at)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.entity}</td></tr>`))}`);
  } catch (e) { if (e === STALE) throw e; /* the audit log is for gate boards and admins only */ }
}

async function users(main, tk) {
  const list = await api("GET", "/users");
  check(tk);
  const box = $("#users");
  render(box, html`<h2>${t("users")}</h2><div id="uerr" aria-live="polite"></div>
  ${table(t("users"), [t("username"), t("display_name"), t("roles"), t("actions")], list.map((u) => html`<tr class="${u.disabled ? "muted" : ""}"><td>${u.username}</td><td>${u.display_name}</td><td>${u.roles.map((r) => html`<div>${roleWords(r, (p) => p)} <small><code>${r}</code></small></div>`)}</td><td><button class="alt" data-user="${u.username}" data-disable="${String(!u.disabled)}" aria-label="${(u.disabled ? t("enable") : t("disable"))} ${u.username}">${(u.disabled ? t("enable") : t("disable"))}</button></td></tr>`))}
  <form id="nu" class="card row" novalidate>${field("username", t("username"))}${field("display_name", t("display_name"))}${field("password", t("password"), { type: "password" })}${field("roles", t("roles"), { placeholder: "officer:VN:customs:huu-nghi" })}<button>${t("add")}</button></form>`);
  $$("button[data-user]", box).forEach((b) => (b.onclick = async () => {
    try { await api("PATCH", `/users/${encodeURIComponent(b.dataset.user)}`, { disabled: b.dataset.disable === "true" }); await pageOperator(main); } catch (e) { showError($("#uerr"), e); }
  }));
  $("#nu").onsubmit = async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    try { await api("POST", "/users", { ...f, roles: f.roles.split(",").map((s) => s.trim()).filter(Boolean) }); await pageOperator(main); } catch (e) { showError($("#uerr"), e, ev.target); }
  };
}
