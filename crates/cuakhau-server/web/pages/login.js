// Sign-in: on success the person lands on their page (an enterprise's list, an officer's desk, or
// the map).
import { html, render, $ } from "../dom.js";
import { api } from "../api.js";
import { S, markSignedIn } from "../state.js";
import { t } from "../i18n.js";
import { field, showError } from "../ui.js";

export const title = () => t("login");

export default function pageLogin(main) {
  render(main, html`<h1>${t("login")}</h1><form id="lf" class="card narrowform">${field("username", t("username"), { autocomplete: "username", required: true })}${field("password", t("password"), { type: "password", autocomplete: "current-password", required: true })}<button>${t("login")}</button><div id="lerr"></div></form>`);
  $("#lf").onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/auth/login", Object.fromEntries(new FormData(ev.target)));
      S.me = await api("GET", "/auth/me");
      markSignedIn(true);
      $("#zone").value = S.zone;
      location.hash = S.me.roles.some((r) => r.startsWith("enterprise:")) ? "#/enterprise" : S.me.roles.some((r) => r.startsWith("officer:")) ? "#/desk" : "#/";
    } catch (e) { showError($("#lerr"), e, ev.target); }
  };
}
