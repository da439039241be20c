// An open section page of a material under review (issue 15) learns at once
// that others commented: "3 nowe komentarze" with a link that reloads the
// page at the newest of them. The notice goes into a role="status" box, so
// screen readers read it out. Without JavaScript the page works by reload.
import * as live from "./live.js";
import { plural } from "./i18n.js";

const box = document.getElementById("section-live");
if (box) init(box);

function init(box) {
  const d = box.dataset;
  const id = Number(d.sectionId);
  const seen = Number(d.commentCount); // comments the page was rendered with
  let p = null;

  function onComments(count, lastID) {
    const n = count - seen;
    if (n <= 0 || !lastID) {
      if (p) p.remove();
      p = null;
      return;
    }
    if (!p) {
      p = document.createElement("p");
      p.className = "notice live-notice";
    }
    const a = document.createElement("a");
    // A fresh load of this page, at the newest comment.
    a.href = location.pathname + "?seen=" + lastID + "#c" + lastID;
    a.textContent = d.showNew;
    p.replaceChildren(plural(box, "new-comments", n), " ", a);
    box.append(p);
  }

  live.subscribe("section:" + id, (f) => {
    switch (f.type) {
      case "subscribed":
        box.dataset.subscribed = ""; // the page follows the section (tests wait for this)
        // Comments written between rendering and subscribing count too.
        if (f.state) onComments(f.state.comment_count, f.state.last_comment_id);
        break;
      case "section.comment":
        onComments(f.comment_count, f.last_comment_id);
        break;
    }
  });
}
