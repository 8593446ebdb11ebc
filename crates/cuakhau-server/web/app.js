// cuakhau web console: one page per user group, every figure from the API, no logic of its own
// beyond formatting. This module is the router: hash routes #/ (map), #/board/PAIR/DIR, #/driver,
// #/enterprise, #/desk, #/operator, #/planner, #/login, each a module in pages/ loaded when first
// opened. Start-up asks for the catalogue, the health (demo banner) and — only if this browser has
// signed in — the person, all at once.
import { html, render, $ } from "./dom.js";
import { api, newNav, navNow, STALE } from "./api.js";
import { S, LANGS, markSignedIn, maybeSignedIn } from "./state.js";
import { t, loadCatalogue, zoneName } from "./i18n.js";
import { showError } from "./ui.js";

const PAGES = {
  public: () => import("./pages/public.js"),
  board: () => import("./pages/board.js"),
  driver: () => import("./pages/driver.js"),
  enterprise: () => import("./pages/enterprise.js"),
  desk: () => import("./pages/desk.js"),
  operator: () => import("./pages/operator.js"),
  planner: () => import("./pages/planner.js"),
  login: () => import("./pages/login.js"),
};
const navLabels = () => ({ public: t("nav_public"), driver: t("nav_driver"), enterprise: t("nav_enterprise"), desk: t("nav_desk"), operator: t("nav_operator"), planner: t("nav_planner") });
let demo = false;

function nav(current) {
  render($("#nav"), html`${Object.entries(navLabels()).map(([p, label]) => html`<a href="#/${p === "public" ? "" : p}" ${p === current ? html`aria-current="page"` : ""}>${label}</a>`)}`);
  render($("#who"), S.me ? html`<span class="me">${S.me.username}</span> <button class="alt" id="logout">${t("logout")}</button>` : html`<a href="#/login">${t("login")}</a>`);
  const lo = $("#logout");
  if (lo) lo.onclick = async () => { await api("POST", "/auth/logout").catch(() => {}); S.me = null; markSignedIn(false); route(); };
  $("#foot").textContent = `cuakhau · ${zoneName()}`;
  $("#demo").hidden = !demo;
  $("#demo").textContent = t("demo");
  // On a phone the banner is a badge in the header's one line; its name is the banner's full text.
  const badge = $("#demo-badge");
  badge.hidden = !demo;
  badge.textContent = t("demo_short");
  badge.title = t("demo");
  badge.setAttribute("aria-label", t("demo"));
  const menu = $("#menu");
  menu.setAttribute("aria-label", t("menu"));
  menu.setAttribute("aria-expanded", "false");
  $("#menu-panel").classList.remove("open");
  $(".skip").textContent = t("skip");
  $("#lang").setAttribute("aria-label", t("language"));
  $("#zone").setAttribute("aria-label", t("time_zone"));
  $("#nav").setAttribute("aria-label", t("main_nav"));
}

async function route() {
  const tk = newNav();
  S.streams.forEach((es) => es.close());
  S.streams = [];
  S.pageZone = null;
  $("#zone").value = S.zone;
  document.documentElement.lang = S.lang;
  const [path] = location.hash.replace(/^#\/?/, "").split("?");
  const [first, ...rest] = path.split("/");
  const page = PAGES[first] ? first : "public";
  nav(page === "board" ? "public" : page);
  const main = $("#main");
  try {
    await loadCatalogue(S.lang);
    const mod = await PAGES[page]();
    // The reader may have moved on while the catalogue or the page's module loaded: a page started
    // now would take the newer navigation's token as its own and draw over the page they are on.
    if (tk !== navNow()) return;
    document.title = `${mod.title()} · cuakhau`;
    await mod.default(main, rest);
  } catch (e) {
    // A page the reader has left says nothing over the page they are on.
    if (e === STALE || tk !== navNow()) return;
    if (e.status === 401) { S.me = null; markSignedIn(false); render(main, html`<h1>${t("login")}</h1><p>${t("need_login")} <a href="#/login">${t("login")}</a></p>`); nav(page); }
    else showError(main, e);
  }
}

async function start() {
  $("#lang").value = S.lang;
  // ☰ opens and closes the pages and preferences on a phone; Escape closes them.
  const menu = $("#menu"), panel = $("#menu-panel");
  const openMenu = (open) => { panel.classList.toggle("open", open); menu.setAttribute("aria-expanded", String(open)); };
  menu.onclick = () => { const open = !panel.classList.contains("open"); openMenu(open); if (open) panel.querySelector("a, select")?.focus(); };
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { openMenu(false); menu.focus(); } });
  $("#lang").onchange = (e) => { S.lang = e.target.value; localStorage.setItem("lang", S.lang); route(); };
  $("#zone").onchange = (e) => { S.chosenZone = e.target.value; localStorage.setItem("zone", S.chosenZone); route(); };
  const [me, health] = await Promise.all([
    maybeSignedIn() ? api("GET", "/auth/me").catch(() => null) : null,
    fetch("/healthz").then((r) => r.json()).catch(() => ({})),
    loadCatalogue(S.lang).catch(() => {}),
    // The map page's data and module, fetched while the rest starts.
    location.hash.replace(/^#\/?/, "") === "" ? import("./pages/public.js").then((m) => Promise.all([m.mapData(), m.gatePairs()])).catch(() => {}) : null,
  ]);
  S.me = me;
  if (!me) markSignedIn(false);
  demo = !!health.demo;
  window.addEventListener("hashchange", route);
  route();
}
if (!LANGS.includes(S.lang)) S.lang = "en";
start();
