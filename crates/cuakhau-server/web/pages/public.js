// The public map and the list of every gate pair, each with links to its two queue boards.
import { html, raw, render } from "../dom.js";
import { api, check, navNow } from "../api.js";
import { t, word, num, name, pairName } from "../i18n.js";
import { table, openPill } from "../ui.js";

export const title = () => t("map_title");

let MAP = null;
/** The map's shapes (fetched once; the request starts as soon as this module loads). */
export const mapData = () => (MAP = MAP || fetch(new URL("../map.json", import.meta.url)).then((r) => r.json()));
let PAIRS = null;
/** Every gate pair, cached for the session; `fresh` drops the cache (after an operator's change). */
export const gatePairs = (fresh = false) => {
  if (fresh || !PAIRS) PAIRS = api("GET", "/gate-pairs").catch((e) => { PAIRS = null; throw e; });
  return PAIRS;
};

// A marker's radius in map units: the map is at least 900 px wide (it pans on a phone), so a
// marker is at least 24 px across, a target a finger can hit.
const R = 13.5;

export default async function pagePublic(main) {
  const tk = navNow();
  const [map, pairs] = await Promise.all([mapData(), gatePairs()]);
  check(tk);
  const proj = (lon, lat) => [(lon - map.bounds.west) * map.k * map.scale, (map.bounds.north - lat) * map.scale];
  const withCoords = pairs.filter((p) => p.vn.coordinate || p.cn.coordinate);
  const marks = withCoords.map((p) => {
    const c = p.vn.coordinate || p.cn.coordinate;
    const [x, y] = proj(c.lon, c.lat);
    const color = p.vn.open_now && p.cn.open_now ? "#17663a" : p.vn.open_now == null || p.cn.open_now == null ? "#4a4a4a" : "#a3141c";
    return html`<a href="#/board/${p.id}/export" aria-label="${pairName(p)}: ${t("board")}"><circle cx="${x}" cy="${y}" r="${R}" fill="${color}"></circle><text x="${x + R + 3}" y="${y + 5}">${name(p.vn.name)}</text></a>`;
  });
  const label = (lon, lat, text) => { const [x, y] = proj(lon, lat); return html`<text x="${x}" y="${y}" font-weight="700" aria-hidden="true">${text}</text>`; };
  const rows = pairs.map((p) => html`<tr><td>${name(p.vn.name)} ${openPill(p.vn.open_now)}${p.vn.hours ? html`<br><small>${p.vn.hours.opens}–${p.vn.hours.closes} UTC+7</small>` : ""}</td>
    <td>${name(p.cn.name, "zh")} ${openPill(p.cn.open_now)}${p.cn.hours ? html`<br><small>${p.cn.hours.opens}–${p.cn.hours.closes} UTC+8</small>` : ""}</td>
    <td class="hide-sm">${word("kind", p.kind)}</td><td class="hide-sm">${word("mode", p.mode)}</td>
    <td class="links"><a href="#/board/${p.id}/export">VN→CN<span class="sr"> · ${pairName(p)}: ${word("dir", "export")}</span></a> <a href="#/board/${p.id}/import">CN→VN<span class="sr"> · ${pairName(p)}: ${word("dir", "import")}</span></a></td></tr>`);
  render(main, html`<h1>${t("map_title")}</h1>
  <div class="map card"><div class="pan" role="region" tabindex="0" aria-label="${t("map_title")}"><svg viewBox="0 0 ${map.width} ${map.height}" aria-labelledby="map-t"><title id="map-t">${t("map_title")}</title>
    <path class="la" d="${raw(map.la || "")}"/><path class="cn" d="${raw(map.cn)}"/><path class="vn" d="${raw(map.vn)}"/><path class="border" d="${raw(map.border)}"/>
    ${label(104.2, 23.5, t("country_cn"))}${label(104.6, 21.6, t("country_vn"))}
    ${label(102.15, 21.25, t("country_la"))}
    ${marks}</svg></div>
  <p class="muted" id="coords-note">${t("coords_note", { n: num(withCoords.length), t: num(pairs.length), m: num(pairs.length - withCoords.length) })} <small>${map.source.split(";")[0]}</small></p></div>
  <h2>${num(pairs.length)} ${t("pairs")}</h2>
  ${table(t("pairs"), [t("vn_side"), t("cn_side"), [t("kind"), "hide-sm"], [t("mode"), "hide-sm"], t("board")], rows)}`);
  // On a phone the map pans: start with the gates in view.
  const pan = main.querySelector(".pan");
  const xs = withCoords.map((p) => { const c = p.vn.coordinate || p.cn.coordinate; return proj(c.lon, c.lat)[0]; });
  if (xs.length && pan.scrollWidth > pan.clientWidth) pan.scrollLeft = ((Math.min(...xs) + Math.max(...xs)) / 2 / map.width) * pan.scrollWidth - pan.clientWidth / 2;
}
