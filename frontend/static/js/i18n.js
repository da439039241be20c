// Texts for the live modules come from the server's catalog, rendered into
// data attributes (the page stays the single source of wording):
//  - a plain text with a placeholder, rendered as "… {name} …", is filled by fill();
//  - a plural text is rendered for the sample counts 1, 2 and 5
//    (data-X-1, data-X-2, data-X-5: one, few and many in Polish; one and
//    other in English). plural() picks the sample of the same CLDR category
//    (Intl.PluralRules) and puts the real number in place of the sample's.

const lang = document.documentElement.lang || "pl";
const rules = new Intl.PluralRules(lang);
const SAMPLES = [1, 2, 5];

export function fill(text, vars) {
  return String(text || "").replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// plural(el, "new-posts", 7) reads data-new-posts-5 of el: "7 nowych wpisów".
export function plural(el, key, n) {
  const cat = rules.select(n);
  const sample = SAMPLES.find((s) => rules.select(s) === cat) ?? SAMPLES[SAMPLES.length - 1];
  const text = el.getAttribute(`data-${key}-${sample}`) || "";
  // The sample number stands alone ("5 nowych wpisów"): replace that token only.
  return text.replace(new RegExp("(^|\\D)" + sample + "(?!\\d)"), (m, pre) => pre + n);
}

// dateTime writes an ISO time as the server does: "23 listopada 2026, 18:05",
// Warsaw time whatever the reader's zone.
const dtf = new Intl.DateTimeFormat(lang, {
  timeZone: "Europe/Warsaw", day: "numeric", month: "long", year: "numeric",
  hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
export function dateTime(iso) {
  const parts = {};
  for (const p of dtf.formatToParts(new Date(iso))) parts[p.type] = p.value;
  return `${parts.day} ${parts.month} ${parts.year}, ${parts.hour}:${parts.minute}`;
}

// date "23 listopada 2026", clock "18:05" and day "2026-11-23": a chat line
// shows its time under a separator for its day, as the server renders it.
export function date(iso) {
  return dateTime(iso).split(", ")[0];
}
export function clock(iso) {
  return dateTime(iso).split(", ")[1];
}
const dayFmt = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Warsaw", year: "numeric", month: "2-digit", day: "2-digit" });
export function day(iso) {
  return dayFmt.format(new Date(iso));
}

// initials "Katarzyna Wójcik" → "KW", as the server's avatar partial draws them.
export function initials(name) {
  const w = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!w.length) return "?";
  const first = (s) => [...s][0].toUpperCase();
  return w.length === 1 ? first(w[0]) : first(w[0]) + first(w[w.length - 1]);
}

// avatar builds the same span as the "avatar" partial (_people.html).
export function avatar(id, name) {
  const s = document.createElement("span");
  s.className = "avatar tone-" + (((Number(id) % 8) + 8) % 8);
  s.setAttribute("aria-hidden", "true");
  s.textContent = initials(name);
  return s;
}
