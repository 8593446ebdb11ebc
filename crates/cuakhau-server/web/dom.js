// The only module that writes markup into the page. Markup is built with the `html` tagged
// template, which escapes every interpolated value (strings, numbers, arrays of values) unless it
// is itself `html` or was marked trusted with `raw()`; `render`, `append` and `after` accept only
// such values. So untrusted text (names, plates, reasons, server messages) never becomes markup.
// A test (routes/web.rs) fails if another module assigns innerHTML or inserts HTML itself.

class Html {
  constructor(s) { this.s = s; }
  toString() { return this.s; }
}

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
function part(v) {
  if (v == null || v === false) return "";
  if (v instanceof Html) return v.s;
  if (Array.isArray(v)) return v.map(part).join("");
  return String(v).replace(/[&<>"']/g, (c) => ESC[c]);
}

/** Markup with every `${value}` escaped. */
export function html(strings, ...values) {
  let s = strings[0];
  for (let i = 0; i < values.length; i++) s += part(values[i]) + strings[i + 1];
  return new Html(s);
}

/** Trusted markup, used as is. Only for fragments the console itself computed (SVG path data). */
export const raw = (s) => new Html(String(s));

function markup(h) {
  if (!(h instanceof Html)) throw new TypeError("markup must come from html``");
  return h.s;
}

/** Replaces an element's content. */
export function render(el, h) { el.innerHTML = markup(h); return el; }
/** Adds markup at the end of an element. */
export function append(el, h) { el.insertAdjacentHTML("beforeend", markup(h)); return el.lastElementChild; }
/** Adds markup right after an element. */
export function after(el, h) { el.insertAdjacentHTML("afterend", markup(h)); return el.nextElementSibling; }

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
