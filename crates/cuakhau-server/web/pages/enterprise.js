// An enterprise's declarations: file, submit, amend, cancel, book an hour or join the virtual
// queue, and the link for the driver. Only the actions the server lists for a declaration appear.
import { html, render, $, $$ } from "../dom.js";
import { api, apiAll, check, navNow } from "../api.js";
import { t, word, num, fmt, hourIn, zoneName, pairName } from "../i18n.js";
import { enterprise } from "../state.js";
import { field, select, table, gate, showError, showResult } from "../ui.js";
import { gatePairs } from "./public.js";

export const title = () => t("declarations");

const actionButton = (d, act, key, cls = "alt") => (d.actions.includes(act === "slots" ? "book" : act) ? html`<button class="${cls}" data-act="${act}" data-id="${d.id}">${t(key)}</button>` : "");

export default async function pageEnterprise(main) {
  if (!gate(main, enterprise())) return;
  const tk = navNow();
  const [pairs, list] = await Promise.all([gatePairs(), apiAll("/declarations")]);
  check(tk);
  const byId = new Map(pairs.map((p) => [p.id, p]));
  const pairOf = (id) => (byId.has(id) ? pairName(byId.get(id)) : id);
  const rows = list.map((d) => html`<tr><td>${d.id}</td><td>${pairOf(d.gate_pair)}<br><small>${word("dir", d.direction)}</small></td><td>${d.plate}</td>
    <td>${word("state", d.state)}${d.state === "accepted" ? html`<br><small><a class="driver-link" href="#/driver?d=${d.id}&code=${d.track_code}">${t("driver_link")}</a> · <code>${d.track_code}</code></small>` : ""}${d.trip_status ? html`<br><small class="trip-status" data-trip-status="${d.trip_status}">${word("trip", d.trip_status)}</small>` : ""}${d.reasons.length ? html`<br><small>${d.reasons.join("; ")}</small>` : ""}</td>
    <td class="actions">${actionButton(d, "submit", "submit", "")}${actionButton(d, "amend", "amend")}${actionButton(d, "cancel", "cancel")}${actionButton(d, "slots", "slots")}${actionButton(d, "queue", "join_queue")}</td></tr>`);
  render(main, html`<h1>${t("declarations")}</h1><div id="msg" aria-live="polite"></div>
  ${table(t("declarations"), ["#", t("gate_pair"), t("plate"), t("state"), t("actions")], rows)}<div id="slots" aria-live="polite"></div>
  <h2>${t("new_decl")}</h2><form id="nd" class="card" novalidate><div class="row">
    ${select("gate_pair", t("gate_pair"), pairs.map((p) => [p.id, pairName(p)]))}
    ${select("direction", t("direction"), [["export", word("dir", "export")], ["import", word("dir", "import")]])}
    ${field("plate", t("plate"), { required: true })}${select("plate_country", t("plate_country"), [["VN", word("nationality", "VN")], ["CN", word("nationality", "CN")]])}
    ${select("vehicle_kind", t("vehicle_kind"), ["truck", "tractor-trailer", "refrigerated", "agv"].map((v) => [v, word("vehicle", v)]))}
    ${field("driver_name", t("driver_name"))}${select("nationality", t("nationality"), [["VN", word("nationality", "VN")], ["CN", word("nationality", "CN")]])}${field("document_no", t("document_no"))}</div>
    <h2>${t("consignments")}</h2><div class="row">${field("hs_code", t("hs_code"), { inputmode: "numeric" })}${field("description_vi", t("desc_vi"))}${field("description_zh", t("desc_zh"))}
    ${field("packages", t("packages"), { type: "number", min: 1, value: 1 })}${field("gross_kg", t("gross_kg"), { type: "number", step: "any", value: 1000 })}${field("value", t("value"), { type: "number", step: "any", value: 1000 })}
    ${field("currency", t("currency"), { value: "USD" })}${field("origin", t("origin"), { value: "VN" })}${field("shelf_life_h", t("shelf_life"), { type: "number", min: 1 })}${field("certificate", t("certificate"))}</div>
    <button>${t("create")}</button><div id="nderr"></div></form>`);
  const msg = $("#msg");
  $$("button[data-act]", main).forEach((b) => (b.onclick = async () => {
    const id = b.dataset.id;
    const d = list.find((x) => String(x.id) === id);
    try {
      if (b.dataset.act === "slots") return await slots(d, pairOf(d.gate_pair));
      if (b.dataset.act === "amend") return startAmend(d);
      await api("POST", `/declarations/${id}/${b.dataset.act}`);
      await pageEnterprise(main);
      showResult($("#msg"), `#${id}: ${t("saved")}`);
    } catch (e) { showError(msg, e); }
  }));
  let amending = null;
  const startAmend = (d) => {
    // Amending replaces the goods: the form keeps the vehicle and takes the first consignment's values.
    amending = d;
    const c = d.consignments[0];
    const form = $("#nd");
    for (const k of ["hs_code", "description_vi", "description_zh", "packages", "gross_kg", "value", "currency", "origin", "certificate"]) form[k].value = c[k] ?? "";
    form.shelf_life_h.value = c.shelf_life_h ?? "";
    form.querySelector("button").textContent = `${t("amend")} #${d.id}`;
    form.scrollIntoView();
    form.hs_code.focus();
  };
  $("#nd").onsubmit = async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    const body = {
      gate_pair: f.gate_pair, direction: f.direction, plate: f.plate, plate_country: f.plate_country, vehicle_kind: f.vehicle_kind,
      driver: f.vehicle_kind === "agv" ? null : { name: f.driver_name, nationality: f.nationality, document_no: f.document_no },
      consignments: [{ hs_code: f.hs_code, description_vi: f.description_vi, description_zh: f.description_zh, packages: Number(f.packages), gross_kg: Number(f.gross_kg),
        value: Number(f.value), currency: f.currency, origin: f.origin, shelf_life_h: f.shelf_life_h ? Number(f.shelf_life_h) : null, certificate: f.certificate }],
    };
    try {
      const saved = amending ? await api("POST", `/declarations/${amending.id}/amend`, { consignments: body.consignments }) : await api("POST", "/declarations", body);
      await pageEnterprise(main);
      showResult($("#msg"), `#${saved.id}: ${t("saved")}`);
    } catch (e) { showError($("#nderr"), e, ev.target); }
  };
}

/** The kind of cargo a declaration's truck books as: `agv`, `perishable` or `general`. */
const cargo = (d) => (d.vehicle_kind === "agv" ? "agv" : d.perishable ? "perishable" : "general");

/** The slot calendar of a declaration's gate pair and direction, and its booking if it has one. */
async function slots(d, pair) {
  const box = $("#slots");
  const [cal, booking] = await Promise.all([
    api("GET", `/gate-pairs/${encodeURIComponent(d.gate_pair)}/slots?direction=${d.direction}&hours=24`),
    api("GET", `/declarations/${d.id}/booking`).catch(() => null),
  ]);
  // A booked hour that no longer takes anyone (a suspension added since, or hours changed) is said so.
  // (Read again only when it lies beyond the hours already read.)
  const bookedHour = booking && (cal.find((h) => h.hour === booking.hour)
    ?? (await api("GET", `/gate-pairs/${encodeURIComponent(d.gate_pair)}/slots?direction=${d.direction}&from=${encodeURIComponent(booking.hour)}&hours=1`).catch(() => []))[0]);
  const closed = bookedHour && Object.values(bookedHour.capacity).every((c) => c === 0);
  render(box, html`<h2 tabindex="-1">${t("slots")} · #${d.id} · ${pair} · ${word("dir", d.direction)} (${zoneName()})</h2>
  ${closed ? html`<p class="err" role="alert" id="booked-closed">${t("booked_hour_closed")}</p>` : ""}
  ${booking ? confirmation(d, booking, pair) : ""}<div id="serr"></div>
  ${booking ? "" : table(t("slots"), [t("hour"), t("free"), t("actions")], cal.map((h) => {
    // The places this truck can book: a general truck cannot take the share held for perishables.
    const free = h.free_by_cargo[cargo(d)];
    return html`<tr><td>${fmt(h.hour)}</td><td>${num(free)}</td><td>${free > 0 ? html`<button data-hour="${h.hour}">${t("book")}</button>` : ""}</td></tr>`;
  }))}`);
  $$("button[data-hour]", box).forEach((b) => (b.onclick = async () => {
    try { await api("POST", `/declarations/${d.id}/booking`, { hour: b.dataset.hour }); await slots(d, pair); } catch (e) {
      // The hours changed under the page (taken, or a lane closed): read them again, so the
      // table agrees with the message.
      await slots(d, pair).catch(() => {});
      showError($("#serr"), e);
    }
  }));
  const cb = $("#cb");
  // Cancelling asks first, in the page.
  if (cb) cb.onclick = () => {
    const ask = $("#cancel-ask");
    ask.hidden = false;
    ask.querySelector("button").focus();
  };
  const yes = $("#cancel-yes");
  if (yes) yes.onclick = async () => {
    try { await api("DELETE", `/declarations/${d.id}/booking`); await slots(d, pair); showResult($("#serr"), t("booking_cancelled")); } catch (e) { showError($("#serr"), e); }
  };
  const keep = $("#cancel-keep");
  if (keep) keep.onclick = () => { $("#cancel-ask").hidden = true; cb.focus(); };
  const print = $("#print");
  if (print) print.onclick = () => window.print();
  (booking ? $("#confirm h3") : box.firstElementChild).focus();
}

/** A booking's confirmation: what the firm and the driver need, printable, with the driver's link as a QR code. */
function confirmation(d, b, pair) {
  const link = `${location.origin}/#/driver?d=${d.id}&code=${encodeURIComponent(d.track_code)}`;
  return html`<section class="card confirm" id="confirm" aria-labelledby="confirm-h">
  <h3 id="confirm-h" tabindex="-1">${t("booking_confirmed")} · ${t("reference")} B-${b.id}</h3>
  <div class="confirm-body"><dl>
    <dt>${t("gate_pair")}</dt><dd>${pair} · ${word("dir", d.direction)}</dd>
    <dt>${t("hour")}</dt><dd class="hour-vn">${hourIn(b.hour, "VN")}</dd><dd class="hour-cn">${hourIn(b.hour, "CN")}</dd>
    <dt>${t("plate")}</dt><dd>${d.plate}</dd>
    <dt>${t("decl_no")}</dt><dd>#${d.id} · ${t("track_code")} <code>${d.track_code}</code></dd>
    <dt>${t("driver_link")}</dt><dd><a class="driver-link" href="${link}">${link}</a></dd>
  </dl>
  <figure class="qr"><img src="/qr.svg?text=${encodeURIComponent(link)}" width="160" height="160" alt="${t("qr_alt")}"><figcaption>${t("qr_caption")}</figcaption></figure></div>
  <h4>${t("rules")}</h4><ul class="rules"><li>${t("rule_arrive")}</li><li>${t("rule_no_show")}</li><li>${t("rule_perishable")}</li></ul>
  <p class="actions noprint"><button id="print">${t("print")}</button><button class="alt" id="cb">${t("cancel_booking")}</button></p>
  <p class="actions noprint" id="cancel-ask" hidden role="group" aria-label="${t("cancel_booking")}">${t("cancel_confirm")} <button class="bad" id="cancel-yes">${t("cancel_yes")}</button><button class="alt" id="cancel-keep">${t("cancel_keep")}</button></p>
  </section>`;
}
