// Writing for people who do not know Markdown (issue 14): every text field
// marked data-editor gets
//  - a toolbar (bold, italic, list, link, quote, image from the meeting's
//    files) whose buttons insert the Markdown around the selection; they are
//    ordinary buttons in the tab order, and Ctrl+B / Ctrl+I work in the field;
//  - a "Podgląd" (preview) button that shows the text as it will be published,
//    rendered by the server's own sanitizer (POST /api/v1/preview);
//  - a draft kept in this browser (localStorage) while typing, so a reload, a
//    lost connection or a thread locked meanwhile loses nothing; it is
//    forgotten when the form is sent.
// Without JavaScript the field is a plain textarea with a plain-words hint.
const texts = document.getElementById("editor-i18n");
if (texts) for (const ta of document.querySelectorAll("textarea[data-editor]")) enhance(ta, texts.dataset);

function csrf() {
  const el = document.querySelector('input[name="_csrf"]');
  return el ? el.value : "";
}

function enhance(ta, t) {
  const key = "forumjst.draft:" + location.pathname + ":" + ta.name;
  const bar = document.createElement("div");
  bar.className = "editor-bar";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", t.toolbar);

  // wrap puts before/after around the selection (or a placeholder word,
  // selected so that typing replaces it).
  function wrap(before, after, placeholder) {
    const { selectionStart: s, selectionEnd: e, value } = ta;
    const inner = value.slice(s, e) || placeholder;
    ta.setRangeText(before + inner + after, s, e, "end");
    ta.selectionStart = s + before.length;
    ta.selectionEnd = s + before.length + inner.length;
    changed();
  }
  // eachLine prefixes every selected line (lists, quotes).
  function eachLine(prefix, placeholder) {
    const { value } = ta;
    const s = value.lastIndexOf("\n", ta.selectionStart - 1) + 1;
    let e = value.indexOf("\n", ta.selectionEnd);
    if (e < 0) e = value.length;
    const block = value.slice(s, e) || placeholder;
    ta.setRangeText(block.split("\n").map((l) => prefix + l).join("\n"), s, e, "end");
    changed();
  }
  function insert(text) {
    ta.setRangeText(text, ta.selectionStart, ta.selectionEnd, "end");
    changed();
  }
  function changed() {
    ta.focus();
    ta.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function button(label, onClick, extra) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "editor-button";
    b.textContent = label;
    if (extra) Object.assign(b.dataset, extra);
    b.addEventListener("click", onClick);
    bar.append(b);
    return b;
  }
  button(t.bold, () => wrap("**", "**", t.sample), { action: "bold" });
  button(t.italic, () => wrap("*", "*", t.sample), { action: "italic" });
  button(t.list, () => eachLine("- ", t.sample), { action: "list" });
  button(t.link, () => {
    const url = window.prompt(t.linkPrompt, "https://");
    if (url && /^https?:\/\/\S+$/.test(url)) wrap("[", "](" + url + ")", t.linkText);
    else ta.focus();
  }, { action: "link" });
  button(t.quote, () => eachLine("> ", t.sample), { action: "quote" });

  // Images: the meeting's image files listed on the page (note editor).
  const images = [...document.querySelectorAll("[data-image-md]")];
  if (images.length) {
    const list = document.createElement("div");
    list.className = "editor-images";
    list.hidden = true;
    const toggle = button(t.image, () => {
      list.hidden = !list.hidden;
      toggle.setAttribute("aria-expanded", String(!list.hidden));
      if (!list.hidden) list.querySelector("button").focus();
    }, { action: "image" });
    toggle.setAttribute("aria-expanded", "false");
    for (const im of images) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button-link-plain";
      b.textContent = im.dataset.imageName;
      b.addEventListener("click", () => {
        insert("\n" + im.dataset.imageMd + "\n");
        list.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
      });
      list.append(b);
    }
    bar.after(list);
  }

  // Preview: rendered by the server, shown below the field; the field stays.
  const preview = document.createElement("div");
  preview.className = "editor-preview post-body";
  preview.hidden = true;
  preview.tabIndex = -1;
  if (document.documentElement.lang !== "pl") preview.lang = "pl";
  const previewHead = document.createElement("p");
  previewHead.className = "editor-preview-head";
  previewHead.textContent = t.previewHead;
  const previewBody = document.createElement("div");
  preview.append(previewHead, previewBody);
  const pv = button(t.preview, async () => {
    if (!preview.hidden) {
      preview.hidden = true;
      pv.setAttribute("aria-expanded", "false");
      ta.focus();
      return;
    }
    previewBody.textContent = t.previewLoading;
    preview.hidden = false;
    pv.setAttribute("aria-expanded", "true");
    try {
      const r = await fetch("/api/v1/preview", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
        // In a group's text box, mentions are linked as publishing there would.
        body: JSON.stringify(ta.dataset.mentionGroup ? { body: ta.value, group_id: Number(ta.dataset.mentionGroup) } : { body: ta.value }),
      });
      if (r.ok) {
        const tpl = document.createElement("template");
        tpl.innerHTML = (await r.json()).html; // sanitized by the server (bluemonday)
        previewBody.replaceChildren(tpl.content);
      } else {
        previewBody.textContent = r.status === 400 ? t.previewEmpty : t.previewFailed;
      }
    } catch {
      previewBody.textContent = t.previewFailed;
    }
    preview.focus();
  }, { action: "preview" });
  pv.setAttribute("aria-expanded", "false");
  pv.setAttribute("aria-controls", (preview.id = ta.id + "-preview"));

  ta.before(bar);
  ta.after(preview);
  const hint = document.getElementById("h-" + ta.name);
  if (hint && t.hint) hint.textContent = t.hint;

  ta.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
    if (e.key === "b" || e.key === "B") { e.preventDefault(); wrap("**", "**", t.sample); }
    if (e.key === "i" || e.key === "I") { e.preventDefault(); wrap("*", "*", t.sample); }
  });

  // --- the draft -----------------------------------------------------------
  let timer = 0;
  ta.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        if (ta.value.trim()) localStorage.setItem(key, ta.value);
        else localStorage.removeItem(key);
      } catch { /* private mode: no draft */ }
    }, 300);
  });
  let saved = null;
  try { saved = localStorage.getItem(key); } catch { /* no storage */ }
  if (saved && !ta.value.trim()) {
    ta.value = saved;
    const note = document.createElement("p");
    note.className = "hint draft-note";
    note.textContent = t.draftRestored;
    bar.before(note);
  }
  if (ta.form) ta.form.addEventListener("submit", () => {
    clearTimeout(timer);
    try { localStorage.removeItem(key); } catch { /* no storage */ }
  });
}
