// The console's words and formats. The messages come from the server's catalogue
// (`GET i18n/LANG.json` beside this module, generated from cuakhau-core's Rust catalogue, so the
// browser and the server say the same thing); numbers, dates and times from Intl.
import { S } from "./state.js";

const CATALOGUES = new Map();
let CAT = {};

/** Loads the language's messages (once per language) and makes them current. */
export async function loadCatalogue(lang) {
  if (!CATALOGUES.has(lang)) {
    CATALOGUES.set(lang, fetch(new URL(`./i18n/${lang}.json`, import.meta.url)).then((r) => r.json()));
  }
  try { CAT = await CATALOGUES.get(lang); } catch (e) { CATALOGUES.delete(lang); throw e; }
}

/** The message `key` with `{name}` parameters filled in. */
export const t = (key, vars = {}) => (CAT[key] ?? key).replace(/\{(\w+)\}/g, (_, v) => vars[v] ?? "");
/** A code the API returns (`state`, `trip`, `class`…), in words; the code itself if unknown. */
export const word = (kind, c) => (c == null ? t("none") : CAT[`${kind}.${c}`] ?? c);

/** Who acts at a clearance step (`VN:customs`, `handover`), in words. */
export const holder = (step) => CAT[`holder.${step}`] ?? word("step", step);
/** A role (`officer:VN:customs:huu-nghi`) in words: the agency of its side, and its gate pair. */
export function roleWords(role, pairOf) {
  const [kind, side, agency, pair] = role.split(":");
  if (kind !== "officer") return CAT[`role.${kind}`] ?? role;
  const who = CAT[`step.${side}:${agency}`] ?? CAT[`officer.${side}:${agency}`] ?? `${side}:${agency}`;
  return `${who} · ${pair === "*" ? t("all_gate_pairs") : pairOf(pair)}`;
}

export const LOCALE = { vi: "vi-VN", zh: "zh-CN", en: "en-GB" };
export const ZONE = { VN: "Asia/Ho_Chi_Minh", CN: "Asia/Shanghai" };

export const num = (n, d = 0) => (n == null ? t("none") : new Intl.NumberFormat(LOCALE[S.lang], { maximumFractionDigits: d }).format(n));
export const fmt = (iso, opts = { dateStyle: "short", timeStyle: "short" }) => (iso ? new Intl.DateTimeFormat(LOCALE[S.lang], { ...opts, timeZone: ZONE[S.zone] }).format(new Date(iso)) : t("none"));
/** An hour (start to end) in a side's zone, the zone named: "23/11/2026 10:00–11:00 Vietnam time (UTC+7)". */
export function hourIn(iso, z) {
  const f = (d, opts) => new Intl.DateTimeFormat(LOCALE[S.lang], { ...opts, timeZone: ZONE[z] }).format(d);
  const start = new Date(iso), end = new Date(start.getTime() + 3600_000), hm = { hour: "2-digit", minute: "2-digit" };
  return `${f(start, { dateStyle: "medium" })} ${f(start, hm)}–${f(end, hm)} ${zoneName(z)}`;
}
export const hhmm = (iso) => fmt(iso, { hour: "2-digit", minute: "2-digit" });
/** A date and time in side `z`'s zone, the zone named (a side's own times, as its board typed them). */
export const fmtIn = (iso, z) => `${new Intl.DateTimeFormat(LOCALE[S.lang], { dateStyle: "short", timeStyle: "short", timeZone: ZONE[z] }).format(new Date(iso))} ${zoneName(z)}`;
export const dur = (s) => (s == null ? t("none") : s < 60 ? `${num(s)} ${t("seconds")}` : s < 3600 ? `${num(s / 60)} ${t("minutes")}` : `${num(s / 3600, 1)} ${t("hours_short")}`);
export const zoneName = (z = S.zone) => t(z === "VN" ? "zone_vn" : "zone_cn");
/** A time a person must act on: hours and minutes in their zone, with the zone named. */
export const actBy = (iso) => `${hhmm(iso)} ${zoneName()}`;
/** A name in the reader's language; where unknown, the place's own-language name. */
export const name = (n, own = "vi") => (S.lang === "zh" ? n.zh : S.lang === "vi" ? n.vi : n.en) || (own === "zh" ? n.zh || n.pinyin : n.vi) || n.en;
/** A gate pair's name: each gate in the reader's language, else in its own. */
export const pairName = (p) => `${name(p.vn.name, "vi")} – ${name(p.cn.name, "zh")}`;
