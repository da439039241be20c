// An open group page says when there is new activity (a new thread or post):
// "Nowa aktywność w grupie – odśwież listę wątków". The list is not redrawn
// under the reader's eyes; the link reloads it with the same filters.
import * as live from "./live.js";

const box = document.getElementById("group-live");
if (box) init(box);

function init(box) {
  const d = box.dataset;
  let known = null; // the group's state when first subscribed: {threads, last_activity_at}

  function show() {
    if (box.firstChild) return;
    const p = document.createElement("p");
    p.className = "notice live-notice";
    const a = document.createElement("a");
    a.href = location.pathname + location.search;
    a.textContent = d.refresh;
    p.append(d.activityText, " ", a);
    box.append(p);
  }

  const changed = (s) => !!known && (s.threads !== known.threads || s.last_activity_at !== known.last_activity_at);

  live.subscribe("group:" + d.groupId, (f) => {
    if (f.type === "subscribed" && f.state) {
      box.dataset.subscribed = ""; // the page follows the group (tests wait for this)
      // After a reconnect: what changed while the connection was away counts.
      if (changed(f.state)) show();
      known = known || f.state;
    } else if (f.type === "group.update") {
      show();
    }
  });
}
