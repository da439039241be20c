// Accessibility controls: text size and high contrast, remembered in localStorage.
// The page is fully usable without this module; it only adds the two controls
// and moves the focus to a form's error summary.
const root = document.documentElement;
const KEY = "forumjst.a11y";
const MIN = 0.9, MAX = 1.6, STEP = 0.1;

function load() {
  try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch { return {}; }
}
function save(s) {
  try { localStorage.setItem(KEY, JSON.stringify(s)); } catch { /* private mode: not remembered */ }
}
function apply(s) {
  root.style.setProperty("--font-scale", String(s.scale || 1));
  root.classList.toggle("contrast", !!s.contrast);
  const btn = document.querySelector("[data-a11y-contrast]");
  if (btn) btn.setAttribute("aria-pressed", s.contrast ? "true" : "false");
}

const state = load();
apply(state);

function init() {
  const box = document.querySelector("[data-a11y]");
  if (!box) return;
  box.hidden = false;
  box.addEventListener("click", (e) => {
    const t = e.target.closest("button");
    if (!t) return;
    if (t.dataset.a11yFont) {
      const d = t.dataset.a11yFont === "up" ? STEP : -STEP;
      state.scale = Math.min(MAX, Math.max(MIN, Math.round(((state.scale || 1) + d) * 10) / 10));
    } else if ("a11yContrast" in t.dataset) {
      state.contrast = !state.contrast;
    }
    save(state);
    apply(state);
  });
  apply(state);
}

// A form that came back with errors: move the focus to the error summary, so
// that a screen reader reads it out and the keyboard starts from its links.
function focusErrors() {
  const summary = document.querySelector(".error-summary[tabindex]");
  if (summary && !location.hash) summary.focus();
}

// A summary link moves the focus into its field (a fragment link alone only
// scrolls), and keeps the field's label in view above it.
document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest(".error-summary a[href^='#']");
  if (!a) return;
  const el = document.getElementById(a.getAttribute("href").slice(1));
  if (!el) return;
  e.preventDefault();
  const label = document.querySelector(`label[for="${el.id}"]`) || el.closest("fieldset") || el;
  label.scrollIntoView({ block: "start" });
  el.focus({ preventScroll: true });
});

// A confirmation ("Zapisano", "Wpis dodany") is rendered at the top of the
// page; when the page lands on an anchor further down (#p123), it is moved
// next to that place, where the reader looks.
function flashToTarget() {
  const flash = document.querySelector("main > .flash");
  if (!flash || !location.hash) return;
  let target = null;
  try { target = document.querySelector(location.hash); } catch { return; }
  if (!target || target === flash || !document.querySelector("main").contains(target)) return;
  target.before(flash);
}

function ready() {
  init();
  flashToTarget();
  focusErrors();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
else ready();

// SHIFT+ALT+F focuses the search box in the header, as on the programme's
// sites (the box's accesskey does the same in Firefox).
document.addEventListener("keydown", (e) => {
  if (!e.shiftKey || !e.altKey || e.ctrlKey || e.metaKey || e.code !== "KeyF") return;
  const box = document.getElementById("site-search");
  if (!box) return;
  e.preventDefault();
  box.focus();
  box.select();
});
