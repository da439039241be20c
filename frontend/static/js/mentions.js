// Mention completion: in a textarea marked data-mention-group="{id}", typing
// "@" and the start of a name offers the people who can read the place
// (GET /api/v1/groups/{id}/people?q=), as a listbox under the textarea.
// Keyboard: ArrowDown/ArrowUp choose, Enter or Tab insert "@Name ", Escape
// closes; the textarea keeps the focus throughout and points at the chosen
// option with aria-activedescendant (the ARIA 1.2 combobox pattern, with the
// textarea as a textbox: a textarea may not take the combobox role). A polite
// status says how many people were found. Without JavaScript the textarea is
// plain text, and "@Name" typed by hand is linked all the same by the server.
import { plural } from "./i18n.js";

const i18n = document.getElementById("mention-i18n");
let seq = 0;

// mentionQuery finds the "@…" being typed just before the caret: an "@" at
// the start or after a space or punctuation, then up to 50 characters of a
// name on the same line.
function mentionQuery(ta) {
  const end = ta.selectionStart;
  if (end !== ta.selectionEnd) return null;
  const before = ta.value.slice(Math.max(0, end - 51), end);
  const at = before.lastIndexOf("@");
  if (at < 0) return null;
  const q = before.slice(at + 1);
  if (q.length < 1 || /[\n@]/.test(q) || /^\s/.test(q)) return null;
  const start = end - before.length + at;
  const prev = start > 0 ? ta.value[start - 1] : "";
  if (prev && /[\p{L}\p{N}_]/u.test(prev)) return null; // jan@gmina.pl
  return { start, end, q };
}

function enhance(ta) {
  const n = ++seq;
  const list = document.createElement("ul");
  list.id = `mention-list-${n}`;
  list.className = "mention-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", i18n.dataset.label);
  list.hidden = true;
  const status = document.createElement("div");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  const hint = document.createElement("p");
  hint.className = "hint";
  hint.id = `mention-hint-${n}`;
  hint.textContent = i18n.dataset.hint;
  ta.after(list, status, hint);
  ta.setAttribute("aria-autocomplete", "list");
  ta.setAttribute("aria-controls", list.id);
  ta.setAttribute("aria-describedby", [ta.getAttribute("aria-describedby"), hint.id].filter(Boolean).join(" "));

  let items = [], active = -1, query = null, timer = 0, ctrl = null, chose = false;

  function close() {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    active = -1;
    query = null;
    ta.removeAttribute("aria-activedescendant");
  }

  function setActive(i) {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    if (i >= 0) {
      ta.setAttribute("aria-activedescendant", list.children[i].id);
      list.children[i].scrollIntoView({ block: "nearest" });
    } else {
      ta.removeAttribute("aria-activedescendant");
    }
  }

  function insert(i) {
    const p = items[i];
    if (!p || !query) return;
    const text = `@${p.name} `;
    ta.setRangeText(text, query.start, query.end, "end");
    close();
    ta.dispatchEvent(new Event("input", { bubbles: true }));
    ta.focus();
  }

  function show(people) {
    items = people;
    list.replaceChildren(...people.map((p, i) => {
      const li = document.createElement("li");
      li.id = `${list.id}-${i}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.textContent = p.name;
      if (p.jst) {
        const j = document.createElement("span");
        j.className = "mention-jst";
        j.textContent = ` (${p.jst})`;
        li.append(j);
      }
      // mousedown, not click: the textarea must not lose the focus (and the caret).
      li.addEventListener("mousedown", (e) => { e.preventDefault(); insert(i); });
      return li;
    }));
    if (!people.length) {
      const li = document.createElement("li");
      li.className = "mention-none";
      li.setAttribute("role", "option");
      li.setAttribute("aria-disabled", "true");
      li.setAttribute("aria-selected", "false");
      li.id = `${list.id}-none`;
      li.textContent = i18n.dataset.none;
      list.append(li);
    }
    list.hidden = false;
    status.textContent = people.length ? plural(i18n, "found", people.length) : i18n.dataset.none;
    setActive(people.length ? 0 : -1);
  }

  async function lookup(q) {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    try {
      const r = await fetch(`/api/v1/groups/${ta.dataset.mentionGroup}/people?q=${encodeURIComponent(q.q)}`,
        { headers: { Accept: "application/json" }, credentials: "same-origin", signal: ctrl.signal });
      if (!r.ok) { close(); return; } // 429 and the like: plain text still works
      const body = await r.json();
      const now = mentionQuery(ta);
      if (!now || now.q !== q.q) return; // typed on meanwhile
      query = now;
      show(body.items || []);
    } catch (e) {
      if (e.name !== "AbortError") close();
    }
  }

  ta.addEventListener("input", () => {
    const q = mentionQuery(ta);
    clearTimeout(timer);
    if (!q) { close(); return; }
    query = q;
    timer = setTimeout(() => lookup(q), 150);
  });

  ta.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    switch (e.key) {
      case "ArrowDown":
        if (!items.length) return;
        e.preventDefault();
        setActive((active + 1) % items.length);
        break;
      case "ArrowUp":
        if (!items.length) return;
        e.preventDefault();
        setActive((active - 1 + items.length) % items.length);
        break;
      case "Enter":
      case "Tab":
        if (active < 0) return;
        e.preventDefault();
        e.stopImmediatePropagation(); // the chat sends on Enter: not this one
        chose = e.key === "Enter";
        insert(active);
        break;
      case "Escape":
        e.preventDefault();
        close();
        break;
    }
  }, true);

  // Some input paths deliver the Enter's line break apart from its keydown
  // (as the chat's composer also knows): an Enter that chose a name must not
  // also break the line.
  ta.addEventListener("beforeinput", (e) => {
    if (chose && (e.inputType === "insertLineBreak" || e.inputType === "insertParagraph")) e.preventDefault();
    chose = false;
  }, true);
  ta.addEventListener("keyup", () => { chose = false; });

  ta.addEventListener("blur", () => setTimeout(close, 100));
}

if (i18n) document.querySelectorAll("textarea[data-mention-group]").forEach(enhance);
