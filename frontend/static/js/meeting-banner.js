// Meeting banners on the index and the group page (issue 14 item 1): each
// group's slot follows the group's topic, whose "group.meeting" frames say
// that a meeting went live or ended. A live meeting's banner links straight to
// its chat; an ended one's banner goes. Without JavaScript the banners are as
// fresh as the page. The group topic is followed only for the first 40 slots
// (a connection follows at most 50 topics).
import * as live from "./live.js";
import { fill } from "./i18n.js";

const texts = document.getElementById("banner-i18n");
if (texts) for (const slot of [...document.querySelectorAll("[data-banner-group]")].slice(0, 40)) follow(slot);

function follow(slot) {
  const t = texts.dataset;
  const title = () => (slot.querySelector("a") || {}).textContent || "";

  function showLive(id) {
    const known = slot.dataset.meetingId === String(id) ? slot.dataset.title || titleOf() : "";
    const p = document.createElement("p");
    p.className = "meeting-banner live";
    const badge = document.createElement("span");
    badge.className = "badge status-live";
    badge.textContent = t.live;
    const a = document.createElement("a");
    a.href = `/m/${id}#chat`;
    a.textContent = known ? fill(t.join, { title: known }) : t.joinUntitled;
    p.append(badge, " ", a);
    slot.replaceChildren(p);
    slot.dataset.meetingId = String(id);
    slot.dataset.status = "live";
  }

  // The scheduled banner's link text is the meeting's title.
  function titleOf() {
    const a = slot.querySelector(".meeting-banner:not(.live) a");
    return a ? a.textContent : "";
  }
  if (slot.dataset.status === "scheduled") slot.dataset.title = title();

  function showEnded(id) {
    if (slot.dataset.meetingId !== String(id)) return;
    slot.replaceChildren();
    delete slot.dataset.status;
  }

  live.subscribe("group:" + slot.dataset.bannerGroup, (f) => {
    if (f.type === "group.meeting") {
      if (f.status === "live") showLive(f.meeting_id);
      else showEnded(f.meeting_id);
    } else if (f.type === "subscribed" && f.state) {
      // After a (re)connect: what the group's state says now wins.
      const id = f.state.live_meeting_id;
      if (id && !(slot.dataset.status === "live" && slot.dataset.meetingId === String(id))) showLive(id);
      else if (!id && slot.dataset.status === "live") showEnded(slot.dataset.meetingId);
    }
  });
}
