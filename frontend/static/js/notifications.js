// The header's link to /notifications keeps its unread badge current: every
// notification the server pushes over the tab's websocket (SPEC §5: a user's
// own notifications arrive unasked) adds one and is announced politely.
// Without JavaScript the badge is simply as fresh as the page.
import { onFrame, open } from "./live.js";

const link = document.querySelector("[data-notifications-link]");
const announcer = document.getElementById("notifications-announce");

function badge() {
  let b = link.querySelector("[data-unread]");
  if (!b) {
    b = document.createElement("span");
    b.className = "badge";
    b.dataset.unread = "0";
    link.append(" ", b);
  }
  return b;
}

if (link) {
  onFrame((f) => {
    if (f.type !== "notification" || !f.notification) return;
    const b = badge();
    const n = Number(b.dataset.unread) + 1;
    b.dataset.unread = String(n);
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = " " + link.dataset.unreadLabel;
    b.replaceChildren(String(n), label);
    // The phone header's Menu button repeats the count (the menu may be folded).
    const m = document.querySelector("[data-menu-unread]");
    if (m) {
      m.replaceChildren(String(n), label.cloneNode(true));
      m.hidden = false;
    }
    if (announcer) announcer.textContent = `${link.dataset.announce}: ${f.notification.title}`;
  });
  open();
}
