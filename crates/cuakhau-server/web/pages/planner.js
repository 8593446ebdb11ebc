// A planner's page: dwell times the WCO Time Release Study way (chart, table, CSV) and capacity
// simulations run on the server from a shipped or uploaded scenario.
import { html, render, $ } from "../dom.js";
import { api, check, navNow } from "../api.js";
import { t, word, num, dur } from "../i18n.js";
import { isOfficer } from "../state.js";
import { select, table, gate, showError } from "../ui.js";

export const title = () => t("dwell");

function barChart(rows, label) {
  const w = 640, bh = 18, pad = 170, max = Math.max(1, ...rows.map((r) => r.p95_s));
  const sx = (v) => ((w - pad - 110) * v) / max;
  return html`<svg viewBox="0 0 ${w} ${rows.length * (bh * 2 + 8) + 30}" role="img" aria-label="${label}: p50 / p95">
  ${rows.map((r, i) => {
    const y = i * (bh * 2 + 8) + 10;
    return html`<text x="4" y="${y + bh + 4}" font-size="12">${r.group.length > 26 ? r.group.slice(0, 25) + "…" : r.group}</text>
    <rect x="${pad}" y="${y}" width="${sx(r.p50_s)}" height="${bh - 2}" fill="#0b4f8a"/><text x="${pad + sx(r.p50_s) + 4}" y="${y + 15}" font-size="12">p50 ${dur(r.p50_s)}</text>
    <rect x="${pad}" y="${y + bh}" width="${sx(r.p95_s)}" height="${bh - 2}" fill="#8a5a00"/><text x="${pad + sx(r.p95_s) + 4}" y="${y + bh + 15}" font-size="12">p95 ${dur(r.p95_s)}</text>`;
  })}</svg>`;
}

export default async function pagePlanner(main) {
  if (!gate(main, isOfficer())) return;
  const tk = navNow();
  const scenarios = await api("GET", "/scenarios");
  check(tk);
  render(main, html`<h1>${t("dwell")}</h1><form id="df" class="card actions">${select("by", t("group_by"), ["gate-pair,direction", "day", "commodity", "channel"].map((v) => [v, word("group", v)]))}
  <button>${t("refresh")}</button> <a id="csv" href="/api/v1/reports/dwell?format=csv">${t("csv")}</a></form><div id="dwell" aria-live="polite"></div>
  <h2>${t("simulate")}</h2><form id="sf" class="card" novalidate>
  ${select("pick", t("scenario"), scenarios.map((s) => [s.file, s.name]))}
  <label class="f"><span>${t("upload")}</span><input type="file" name="file" accept=".toml,text/plain"></label>
  <label class="f"><span>${t("scenario_toml")}</span><textarea name="scenario" rows="10" spellcheck="false"></textarea></label><button>${t("run")}</button></form>
  <div id="sim" aria-live="polite"></div>`);
  const dwell = async (by) => {
    const rows = await api("GET", `/reports/dwell?by=${encodeURIComponent(by)}`);
    check(tk);
    $("#csv").href = `/api/v1/reports/dwell?format=csv&by=${encodeURIComponent(by)}`;
    const total = rows.filter((r) => r.interval === "arrival-to-entry-release");
    const agency = rows.filter((r) => r.interval === "agency-time");
    render($("#dwell"), html`<div class="grid"><div class="chart card"><h3>${word("interval", "arrival-to-entry-release")}</h3>${total.length ? barChart(total, word("interval", "arrival-to-entry-release")) : t("nothing")}</div>
    <div class="chart card"><h3>${word("interval", "agency-time")}</h3>${agency.length ? barChart(agency, word("interval", "agency-time")) : t("nothing")}</div></div>
    ${table(t("dwell"), [t("group_by"), t("interval"), "n", "p50", "p95", "max"], rows.map((r) => html`<tr><td>${r.group}</td><td>${word("interval", r.interval)}</td><td>${num(r.n)}</td><td>${dur(r.p50_s)}</td><td>${dur(r.p95_s)}</td><td>${dur(r.max_s)}</td></tr>`))}`);
  };
  $("#df").onsubmit = (ev) => { ev.preventDefault(); dwell(ev.target.by.value); };
  const sf = $("#sf");
  const fill = () => { sf.scenario.value = scenarios.find((s) => s.file === sf.pick.value).toml; };
  sf.pick.onchange = fill;
  fill();
  sf.file.onchange = async () => { if (sf.file.files[0]) sf.scenario.value = await sf.file.files[0].text(); };
  sf.onsubmit = async (ev) => {
    ev.preventDefault();
    const box = $("#sim");
    try {
      let job = await api("POST", "/simulations", sf.scenario.value, "application/toml");
      render(box, html`<p>${t("running")} <progress class="progress" id="pr" max="1" value="0" aria-label="${t("running")}"></progress></p>`);
      while (job.status === "running") {
        await new Promise((r) => setTimeout(r, 400));
        job = await api("GET", `/simulations/${job.id}`);
        const pr = $("#pr");
        if (pr) pr.value = job.progress;
      }
      if (job.status !== "done") throw new Error(job.error || job.status);
      const v = job.summary.variants;
      render(box, html`<h2 tabindex="-1">${t("variants")}</h2>
      ${table(t("variants"), [t("variants"), t("mean_wait"), "±95 %", t("served"), t("spoiled")], v.map((x) => html`<tr><td>${x.name}</td><td>${num(x.wait_h_mean_ci.mean, 2)}</td><td>${num(x.wait_h_mean_ci.half_width, 2)}</td><td>${num(x.served)}</td><td>${num(x.spoiled)}</td></tr>`), "variants")}
      <div class="grid">${job.plots.map((p) => html`<figure class="card chart"><img src="${p}" alt="${p.split("/").pop()}"><figcaption>${p.split("/").pop()}</figcaption></figure>`)}</div>`);
      box.querySelector("h2").focus();
    } catch (e) { showError(box, e, sf); }
  };
  await dwell("gate-pair,direction");
}
