// Pieces every page uses: form fields with labels, tables that scroll and can be focused, status
// pills, the sign-in gate, and how an error or a result is shown (on its field, announced, focused).
import { html, render, after, $$ } from "./dom.js";
import { t, fmt, num, zoneName } from "./i18n.js";
import { S } from "./state.js";

export const field = (n, label, attrs = {}) => html`<label class="f"><span>${label}</span><input name="${n}" ${attrList(attrs)}></label>`;
export const select = (n, label, opts, chosen) => html`<label class="f"><span>${label}</span><select name="${n}">${opts.map(([v, l]) => html`<option value="${v}" ${v === chosen ? "selected" : ""}>${l}</option>`)}</select></label>`;
/** `{type: "number", min: 1, required: true}` as attributes, each value escaped. */
function attrList(attrs) {
  return Object.entries(attrs).map(([k, v]) => (v === true ? html` ${k}` : v === false || v == null ? "" : html` ${k}="${v}"`));
}

/** A table in a region (a heading is a string, or `[text, class]`) that scrolls sideways on a phone and can be reached and scrolled by keyboard. */
export const table = (label, head, rows, attrs = "") => html`<div class="scroll" role="region" tabindex="0" aria-label="${label}"><table ${attrs ? html`id="${attrs}"` : ""}><thead><tr>${head.map((h) => (Array.isArray(h) ? html`<th scope="col" class="${h[1]}">${h[0]}</th>` : html`<th scope="col">${h}</th>`))}</tr></thead><tbody>
${rows.length ? rows : html`<tr><td colspan="${head.length}">${t("nothing")}</td></tr>`}</tbody></table></div>`;

export const openPill = (open) => {
  const k = open == null ? "unknown" : open ? "open" : "closed";
  return html`<span class="pill ${k}">${open == null ? t("hours_unknown") : open ? t("open") : t("closed")}</span>`;
};

/** Pages for signed-in people only: says so, with a link, and returns false. */
export function gate(main, ok) {
  if (!S.me) { render(main, html`<h1>${t("login")}</h1><p>${t("need_login")} <a href="#/login">${t("login")}</a></p>`); return false; }
  if (!ok) { render(main, html`<h1>${t("error")}</h1><p class="err">${t("not_allowed")}</p>`); return false; }
  return true;
}

/** Shows a result in `el` (a live region), and moves the focus there so the reader hears it. */
export function showResult(el, text) {
  render(el, html`<p class="msg" tabindex="-1">${text}</p>`);
  el.firstElementChild.focus();
}

/** The form's input for a field path of the API (`consignments[0].hs_code`, `driver.name`). */
const inputName = (path) => path.replace(/^consignments\[\d+\]\./, "").replace(/^driver\.name$/, "driver_name").replace(/^driver\./, "");

/**
 * Shows an error in `el`; when the server names fields of `form` (a 422's `errors`, each with its
 * label, path and message), also each under its own field, marked invalid; the first is focused.
 */
export function showError(el, e, form) {
  if (form) {
    $$(".fielderr", form).forEach((x) => x.remove());
    $$("[aria-invalid]", form).forEach((x) => { x.removeAttribute("aria-invalid"); x.removeAttribute("aria-describedby"); });
  }
  const p = e.p || {};
  // A problem without `errors` may still name one field (by its path): its label replaces the path.
  const errors = p.errors?.length ? p.errors : p.field ? [{ path: p.field, message: e.message, bare: true }] : [];
  const inputs = errors.map((x) => form?.querySelector(`[name="${CSS.escape(inputName(x.path))}"]`));
  const said = errors.map((x, i) => {
    const label = x.bare && inputs[i]?.labels?.[0]?.querySelector("span")?.textContent;
    return label ? x.message.replaceAll(x.path, label) : x.message;
  });
  const title = p.title || "";
  render(el, errors.length > 1
    ? html`<div class="err" role="alert" tabindex="-1"><p>${title}</p><ul>${said.map((m) => html`<li>${m}</li>`)}</ul></div>`
    : html`<p class="err" role="alert" tabindex="-1">${title ? `${title}: ` : ""}${said[0] ?? e.message}</p>`);
  inputs.forEach((input, i) => {
    if (!input || input.getAttribute("aria-invalid")) return;
    const id = `err-${input.name}`;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    after(input, html`<div class="fielderr" id="${id}">${said[i]}</div>`);
  });
  const first = inputs.find(Boolean);
  if (first) first.focus(); else el.firstElementChild.focus();
}

/** Read from a replica `lag` seconds behind: how fresh the data is ("Data as of 10:02 … (3 s behind)"); nothing when read from the primary, unless the replica did not answer (`source` "primary-fallback"). */
export function behind(lag, asOf, source) {
  if (source === "primary-fallback") return html`<p class="muted" id="as-of">${t("read_fallback")}</p>`;
  return lag == null ? "" : html`<p class="muted" id="as-of">${t("as_of_behind", { time: `${fmt(asOf.utc)} ${zoneName()}`, seconds: num(Math.round(lag)) })}</p>`;
}
