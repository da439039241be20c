// Accessibility controls: text size, high contrast and wider spacing,
// remembered in localStorage, and the keyboard shortcuts of the programme's
// sites. The page is fully usable without this module; it only adds the
// controls and the shortcuts and moves the focus to a form's error summary.
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
  root.classList.toggle("spacing", !!s.spacing);
  const btn = document.querySelector("[data-a11y-contrast]");
  if (btn) btn.setAttribute("aria-pressed", s.contrast ? "true" : "false");
  const sp = document.querySelector("[data-a11y-spacing]");
  if (sp) sp.setAttribute("aria-pressed", s.spacing ? "true" : "false");
}

const state = load();
apply(state);

// The phone header's Menu button (see initMenu) and the width it works at.
const phone = window.matchMedia("(max-width: 40rem)");
let menuButton = null;

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
    } else if ("a11ySpacing" in t.dataset) {
      state.spacing = !state.spacing;
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
  initMenu();
  initHelp();
  flashToTarget();
  focusErrors();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
else ready();

// The keyboard shortcuts (listed on /deklaracja-dostepnosci and in the help
// dialog). They use event.code, the physical key: with ALT held, event.key
// is a different character on some layouts (Polish programmer's: ALT+H is
// not "h"), and SHIFT turns "/" into "?".
function shortcut(e) {
  if (!e.shiftKey || !e.altKey || e.ctrlKey || e.metaKey) return false;
  const code = e.code;
  if (code === "KeyH") {
    location.assign("/");
  } else if (code === "KeyM") {
    const main = document.getElementById("main") || document.querySelector("main");
    if (!main) return false;
    if (!main.hasAttribute("tabindex")) main.setAttribute("tabindex", "-1");
    main.focus();
    main.scrollIntoView({ block: "start" });
  } else if (code === "KeyF") {
    // The box's accesskey does the same in Firefox.
    const box = document.getElementById("site-search");
    if (!box) return false;
    box.focus();
    box.select();
  } else if (/^Digit[1-8]$/.test(code)) {
    const links = document.querySelectorAll(".main-nav a[href]");
    const link = links[Number(code.slice(5)) - 1];
    if (!link) return false;
    link.click();
  } else if (code === "Slash") {
    openHelp();
  } else {
    return false;
  }
  return true;
}

// The help dialog is a native modal <dialog> (layout.html): the browser
// keeps the focus inside it and closes it with ESC; the focus goes back
// where it was.
let returnFocus = null;
function openHelp() {
  const dlg = document.getElementById("shortcuts-dialog");
  if (!dlg || dlg.open) return;
  returnFocus = document.activeElement;
  dlg.showModal();
  const close = dlg.querySelector("[data-dialog-close]");
  if (close) close.focus();
}

// aria-keyshortcuts tells screen reader users which shortcut reaches what.
function announceShortcuts() {
  document.querySelectorAll(".main-nav a[href]").forEach((a, i) => {
    if (i < 8) a.setAttribute("aria-keyshortcuts", `Shift+Alt+${i + 1}`);
  });
  const home = document.querySelector(".brand");
  if (home) home.setAttribute("aria-keyshortcuts", "Shift+Alt+H");
}

function initHelp() {
  announceShortcuts();
  const dlg = document.getElementById("shortcuts-dialog");
  if (!dlg) return;
  dlg.addEventListener("close", () => {
    const back = returnFocus;
    returnFocus = null;
    if (back && back.isConnected && typeof back.focus === "function") back.focus();
  });
  // A click on the backdrop (outside the dialog's box) closes it too.
  dlg.addEventListener("click", (e) => {
    if (e.target === dlg) {
      const r = dlg.getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) dlg.close();
    }
  });
}

// The phone header's Menu button (layout.html): below the phone breakpoint
// it folds the menu and the tools (the parts its aria-controls names) behind
// one disclosure button. Opening moves the focus to the first menu item; ESC
// inside closes it and gives the focus back to the button. On a wide screen
// CSS shows both parts whatever the button's state, and without this script
// the button stays hidden and everything is shown.
function menuParts() {
  return (menuButton.getAttribute("aria-controls") || "").split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean);
}

function setMenu(open, moveFocus) {
  menuButton.setAttribute("aria-expanded", open ? "true" : "false");
  menuButton.closest(".site-header").classList.toggle("menu-open", open);
  if (open && moveFocus) {
    const first = menuParts().map((p) => p.querySelector("a[href], button, input, select")).find(Boolean);
    if (first) first.focus();
  }
}

function initMenu() {
  menuButton = document.querySelector("[data-menu-button]");
  if (!menuButton) return;
  menuButton.closest(".site-header").classList.add("menu-ready");
  menuButton.hidden = false;
  menuButton.addEventListener("click", () => setMenu(menuButton.getAttribute("aria-expanded") !== "true", true));
}

// menuEscape closes the open phone menu when ESC is pressed in it (or on
// its button); it reports whether it did.
function menuEscape() {
  if (!menuButton || !phone.matches || menuButton.getAttribute("aria-expanded") !== "true") return false;
  const active = document.activeElement;
  if (active !== menuButton && !menuParts().some((p) => p.contains(active))) return false;
  setMenu(false, false);
  menuButton.focus();
  return true;
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented) return;
  if (shortcut(e)) {
    e.preventDefault();
    return;
  }
  // ESC closes a hint: the open <details> the focus is in (the formatting
  // help, a collapsed section) folds and the focus stays on its summary.
  // Dialogs close themselves on ESC; the mention list handles its own.
  if (e.key === "Escape" && !e.shiftKey && !e.altKey) {
    if (menuEscape()) {
      e.preventDefault();
      return;
    }
    const open = document.activeElement && document.activeElement.closest("details[open]");
    if (open && !open.closest("dialog")) {
      open.open = false;
      const summary = open.querySelector("summary");
      if (summary) summary.focus();
    }
  }
});
