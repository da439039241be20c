// A note's edit page follows note:ID (SPEC §5 topics, issue 6 item 2): it
// lists the other people who have the note open for editing, and when one of
// them saves a version newer than the one this form started from it says so at
// once, before this editor saves and meets the 409 merge page. It never touches
// the form: the editor's text stays exactly as typed.
import * as live from "./live.js";
import { fill } from "./i18n.js";

const box = document.getElementById("note-live");
if (box) init(box);

function init(box) {
  const d = box.dataset;
  const self = Number(d.selfId);
  const base = Number(d.version); // the version this form will send
  const editorsEl = document.getElementById("note-editors");
  const savedEl = document.getElementById("note-saved");
  let others = new Map(); // id → name

  function render() {
    const names = [...others.values()];
    editorsEl.hidden = names.length === 0;
    editorsEl.textContent = names.length ? fill(d.editors, { names: names.join(", ") }) : "";
    box.hidden = editorsEl.hidden && savedEl.hidden;
  }

  function newer(version, name) {
    if (!(version > base)) return;
    savedEl.textContent = fill(d.saved, { name: name || d.someone, version });
    savedEl.hidden = false;
    box.dataset.stale = String(version); // tests wait for this
    render();
  }

  live.subscribe("note:" + d.noteId, (f) => {
    switch (f.type) {
      case "subscribed":
        box.dataset.subscribed = "";
        // Saved while this page was loading or offline: the name is unknown.
        if (f.state) newer(f.state.version, "");
        break;
      case "presence":
        others = new Map((f.users || []).filter((u) => u.id !== self).map((u) => [u.id, u.name]));
        render();
        break;
      case "note.update":
        if (f.edited_by !== self) newer(f.version, f.editor_name);
        break;
    }
  });
}
