// The staff's round page counts ballots live: each ballot cast anywhere
// updates the per-entry counts (frames of topic tournament:ID carry them to
// staff only). The page works without it; a reload shows the same numbers.
import * as live from "./live.js";

const list = document.getElementById("tournament-live");
if (list) {
  live.subscribe("tournament:" + list.dataset.tournamentId, (f) => {
    if (f.type === "subscribed") {
      list.dataset.subscribed = ""; // the page follows the round (tests wait for this)
    } else if (f.type === "tournament.ballots" && Array.isArray(f.entries)) {
      for (const e of f.entries) {
        const el = list.querySelector(`[data-entry-ballots="${e.entry_id}"]`);
        if (el) el.textContent = String(e.ballots);
      }
    }
  });
}
