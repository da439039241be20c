// An open thread page learns at once (issue 5 item 9, issue 4 item 8):
//  - that others replied: "3 nowe wpisy" with a link to the newest of them;
//  - that a moderator locked, unlocked, hid, moved or merged the thread.
// The notices go into a role="status" box, so screen readers read them out.
// The server enforces every rule anyway; hiding the reply form only spares
// the reader typing a reply that would be refused.
import * as live from "./live.js";
import { plural } from "./i18n.js";

const box = document.getElementById("thread-live");
if (box) init(box);

function init(box) {
  const d = box.dataset;
  const id = Number(d.threadId);
  const seenCount = Number(d.postCount); // posts the page was rendered with
  const moderator = "moderator" in d;
  // What the page shows now; a thread.update is compared with it.
  const shown = { locked: "locked" in d, hidden: "hidden" in d, group: Number(d.groupId), merged: null };

  // One notice per kind, replaced when it changes (not piled up).
  const notices = new Map();
  function notice(kind, text, link, href) {
    let p = notices.get(kind);
    if (!p) {
      p = document.createElement("p");
      p.className = "notice live-notice";
      p.dataset.kind = kind;
      notices.set(kind, p);
    }
    p.replaceChildren(text);
    if (link) {
      const a = document.createElement("a");
      a.href = href;
      a.textContent = link;
      p.append(" ", a);
    }
    box.append(p); // (re)appended last: the newest news is read and seen last
  }
  function drop(kind) {
    const p = notices.get(kind);
    if (p) p.remove();
    notices.delete(kind);
  }

  function closeComposer(text) {
    if (moderator) return; // moderators may still write in a locked thread
    const form = document.querySelector("#composer form");
    const closed = document.getElementById("composer-closed");
    if (!form || !closed) return;
    // A reply being written stays readable (and copyable, and kept as a
    // draft by editor.js): the field turns read-only instead of vanishing.
    const ta = form.querySelector("textarea");
    if (ta && ta.value.trim()) {
      ta.readOnly = true;
      for (const b of form.querySelectorAll("button")) b.disabled = true;
    } else {
      form.hidden = true;
    }
    for (const el of document.querySelectorAll("#composer .error-summary")) el.hidden = true;
    closed.textContent = text;
    closed.hidden = false;
  }

  function onPosts(count, lastPostID) {
    const n = count - seenCount;
    if (n <= 0 || !lastPostID) {
      drop("posts");
      return;
    }
    // /p/{id} finds the page the post is on and its #p{id} anchor.
    notice("posts", plural(box, "new-posts", n), d.showNew, "/p/" + lastPostID);
  }

  function onUpdate(f) {
    if (f.merged_into && f.merged_into !== shown.merged) {
      shown.merged = f.merged_into;
      notice("merged", d.mergedText, d.mergedLink, "/t/" + f.merged_into);
      closeComposer(d.mergedComposer);
      return;
    }
    if (f.locked !== shown.locked) {
      shown.locked = f.locked;
      if (f.locked) {
        notice("locked", d.lockedText);
        closeComposer(d.lockedComposer);
      } else {
        notice("locked", d.unlockedText, d.reload, location.pathname + location.search);
      }
    }
    if (f.hidden !== shown.hidden) {
      shown.hidden = f.hidden;
      notice("hidden", f.hidden ? d.hiddenText : d.unhiddenText);
      if (f.hidden) closeComposer(d.hiddenText);
    }
    if (f.moved_away) {
      // Moved to a group this reader is not in: there is nowhere to follow it.
      notice("moved", d.movedAwayText);
      closeComposer(d.movedAwayText);
    } else if (f.group_id && f.group_id !== shown.group) {
      shown.group = f.group_id;
      notice("moved", d.movedText, d.movedLink, "/t/" + id);
    }
    if (f.title) {
      const h1 = document.querySelector("main h1");
      if (h1 && h1.textContent !== f.title) h1.textContent = f.title;
    }
  }

  live.subscribe("thread:" + id, (f) => {
    switch (f.type) {
      case "subscribed":
        box.dataset.subscribed = ""; // the page follows the thread (tests wait for this)
        // Posts written between rendering and subscribing count too.
        if (f.state) {
          onPosts(f.state.post_count, f.state.last_post_id);
          onUpdate({ locked: f.state.locked, hidden: shown.hidden, group_id: shown.group });
        }
        break;
      case "thread.post": onPosts(f.post_count, f.last_post_id); break;
      case "thread.update": onUpdate(f); break;
      case "error":
        // The reader may no longer read the thread (hidden, or moved to a
        // group they are not in); a notice that says why is already enough.
        if (f.code === "not_found" && !["merged", "hidden", "moved"].some((k) => notices.has(k))) notice("gone", d.goneText);
        break;
    }
  });
}
