// What the console remembers between pages: the language, the zone, the signed-in person, the
// open event stream. The zone a person chose wins; otherwise their side's (an officer's role, a
// driver's exit side), otherwise their language's (zh: Beijing time, else Vietnam time).

export const LANGS = ["vi", "zh", "en"];

/** An officer's side, from their roles (when all their officer roles are of one side). */
export function sideOfRoles(me) {
  const sides = new Set((me?.roles || []).filter((r) => r.startsWith("officer:")).map((r) => r.split(":")[1]));
  return sides.size === 1 ? [...sides][0] : null;
}

export const S = {
  lang: localStorage.getItem("lang") || (navigator.languages || [navigator.language]).map((l) => l.slice(0, 2)).find((l) => LANGS.includes(l)) || "en",
  chosenZone: localStorage.getItem("zone"),
  pageZone: null,
  get zone() { return this.chosenZone || this.pageZone || sideOfRoles(this.me) || (this.lang === "zh" ? "CN" : "VN"); },
  me: null,
  /** The event streams the open page follows (closed when the reader leaves it). */
  streams: [],
};

export const roles = () => (S.me ? S.me.roles : []);
export const isOfficer = () => roles().some((r) => r.startsWith("officer:") || r === "admin");
export const enterprise = () => (roles().find((r) => r.startsWith("enterprise:")) || "").slice(11);

// Whether this browser has signed in (and not out) since: an anonymous visitor's console never
// asks `/auth/me`, so it never meets a 401. The session cookie itself is HttpOnly.
export const SIGNED_IN = "signed-in";
export const markSignedIn = (yes) => (yes ? localStorage.setItem(SIGNED_IN, "1") : localStorage.removeItem(SIGNED_IN));
export const maybeSignedIn = () => localStorage.getItem(SIGNED_IN) === "1";
