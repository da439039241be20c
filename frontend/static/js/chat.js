// The meeting page's live chat (issue 5, items 9–10). Without this module the
// page is a paginated archive with a plain form that posts and reloads; with
// it, the same DOM becomes live:
//  - the log continues from the last rendered seq (since_seq) and new
//    messages are added in seq order, each seq at most once;
//  - the form sends over the websocket: the message shows at once as
//    "pending", then "sent" on chat.ack; a message not yet acknowledged when
//    the connection drops is sent again with the SAME client_id (the server
//    stores it once), and a failure is shown next to the message, whose text
//    is kept;
//  - others' messages are announced in a polite live region, one short line;
//  - presence, the meeting's status and the connection state update by themselves.
import * as live from "./live.js";
import { fill, plural, dateTime, date, clock, day, avatar } from "./i18n.js";

const section = document.getElementById("chat");
if (section) init(section);

// key("err", "rate_limited") → "errRateLimited": the dataset name of data-err-rate-limited.
function key(prefix, code) {
  return prefix + String(code).split(/[_-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

function init(section) {
  const meetingID = Number(section.dataset.meetingId);
  const topic = "meeting:" + meetingID;
  const me = Number(section.dataset.userId);
  const myName = section.dataset.userName || "";
  const i18nEl = document.getElementById("chat-i18n");
  const t = i18nEl.dataset; // the texts, from the catalog (see meeting.html)
  const log = document.getElementById("chat-log");
  const empty = document.getElementById("chat-empty");
  const form = document.getElementById("chat-form");
  const textarea = form && form.querySelector("textarea");
  const announcer = document.getElementById("chat-announce");
  const stateEl = document.getElementById("live-state");
  // Who speaks with a role: badges by their names in the log and the room.
  const ids = (v) => new Set(String(v || "").split(" ").filter(Boolean).map(Number));
  const moderators = ids(section.dataset.moderators), staff = ids(section.dataset.staff);
  function roleBadge(id) {
    const role = staff.has(id) ? "staff" : moderators.has(id) ? "moderator" : "";
    if (!role) return null;
    const b = document.createElement("span");
    b.className = "badge role";
    b.textContent = role === "staff" ? t.roleStaff : t.roleModerator;
    return b;
  }
  // A page of the archive that is not the newest has later messages the
  // reader reaches by its link; only the newest page grows live.
  const liveEdge = "liveEdge" in section.dataset;

  let status = section.dataset.status;
  let lastSeq = Number(section.dataset.after) || 0;
  for (const li of log.querySelectorAll("li[data-seq]")) lastSeq = Math.max(lastSeq, Number(li.dataset.seq));

  // --- the log -------------------------------------------------------------

  const pending = new Map(); // client_id → {li, body, state, inFlight, timer}

  function showLog() {
    log.hidden = false;
    if (empty) empty.hidden = true;
  }

  function bodyFromHTML(html) {
    // body_html was sanitized by the server (bluemonday) when it was stored;
    // a <template> parses it inertly before its nodes join the page.
    const tpl = document.createElement("template");
    tpl.innerHTML = html;
    const div = document.createElement("div");
    div.className = "post-body";
    // People write in Polish: marked so in the English interface (WCAG 3.1.2).
    if (document.documentElement.lang !== "pl") div.lang = "pl";
    div.append(tpl.content);
    return div;
  }

  // messageItem builds the same markup as meeting.html renders.
  function messageItem(m) {
    const li = document.createElement("li");
    li.id = "c" + m.seq;
    li.className = "chat-msg" + (m.author.id === me ? " own" : "");
    li.dataset.seq = m.seq;
    li.dataset.day = day(m.created_at);
    const meta = document.createElement("p");
    meta.className = "meta";
    const who = document.createElement("strong");
    const profile = document.createElement("a");
    profile.href = "/u/" + m.author.id;
    profile.className = "author";
    profile.textContent = m.author.name;
    who.append(profile);
    meta.append(avatar(m.author.id, m.author.name), who);
    const rb = roleBadge(m.author.id);
    if (rb) meta.append(" ", rb);
    if (m.author.id === me) meta.append(" ", youBadge());
    if (m.author.jst) {
      const jst = document.createElement("span");
      jst.className = "jst";
      jst.textContent = "(" + m.author.jst + ")";
      meta.append(" ", jst);
    }
    const time = document.createElement("time");
    time.dateTime = m.created_at;
    time.title = dateTime(m.created_at);
    time.textContent = clock(m.created_at);
    meta.append(" ", time);
    li.append(meta, bodyFromHTML(m.body_html));
    return li;
  }

  function youBadge() {
    const b = document.createElement("span");
    b.className = "badge own-badge";
    b.textContent = t.you;
    return b;
  }

  // A day separator goes before the first message of each day.
  function daySeparator(li, iso) {
    const prev = li.previousElementSibling;
    const d = li.dataset.day;
    if (!d || (prev && prev.dataset.day === d)) return;
    const sep = document.createElement("li");
    sep.className = "chat-day";
    sep.dataset.day = d;
    const span = document.createElement("span");
    span.textContent = date(iso);
    sep.append(span);
    log.insertBefore(sep, li);
  }

  // Pending messages stay last; a confirmed message goes before them, after
  // the last message with a smaller seq (the protocol delivers in order, but
  // the DOM does not rely on it).
  function place(li, seq) {
    let before = log.querySelector("li.chat-msg[data-client-id]:not([data-seq])");
    const items = log.querySelectorAll("li[data-seq]");
    for (let i = items.length - 1; i >= 0; i--) {
      if (Number(items[i].dataset.seq) < seq) break;
      before = items[i];
    }
    log.insertBefore(li, before);
    if (li.dataset.seq) daySeparator(li, li.querySelector("time").dateTime);
    showLog();
  }

  function onMessage(m) {
    if (!liveEdge) return;
    if (log.querySelector(`li[data-seq="${m.seq}"]`)) return; // shown already: never twice
    lastSeq = Math.max(lastSeq, m.seq);
    const li = messageItem(m);
    const mine = m.client_id && pending.get(m.client_id);
    if (mine) {
      // Our own message came back: it replaces the pending item, keeping "sent".
      clearTimeout(mine.timer);
      pending.delete(m.client_id);
      li.dataset.clientId = m.client_id;
      li.append(stateLine("sent", t.sent));
      li.dataset.state = "sent";
      mine.li.remove();
      place(li, m.seq);
      return;
    }
    place(li, m.seq);
    if (m.author.id !== me) announceMessage(m.author.name);
  }

  // --- sending -------------------------------------------------------------

  function stateLine(state, text) {
    const p = document.createElement("p");
    p.className = "chat-state";
    p.textContent = text;
    return p;
  }

  function setItemState(p, state, text) {
    p.state = state;
    p.li.dataset.state = state;
    p.li.querySelector(".chat-state").textContent = text;
    const actions = p.li.querySelector(".chat-actions");
    if (actions) actions.remove();
  }

  function pendingItem(clientID, body) {
    const li = document.createElement("li");
    li.className = "chat-msg own";
    li.dataset.clientId = clientID;
    const meta = document.createElement("p");
    meta.className = "meta";
    const who = document.createElement("strong");
    who.textContent = myName;
    meta.append(avatar(me, myName), who, " ", youBadge());
    const div = document.createElement("div");
    div.className = "post-body";
    const text = document.createElement("p");
    text.className = "plain";
    text.textContent = body;
    div.append(text);
    li.append(meta, div, stateLine("pending", t.pending));
    li.dataset.state = "pending";
    return li;
  }

  function transmit(id) {
    const p = pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    if (p.state !== "pending") setItemState(p, "pending", t.pending);
    p.inFlight = live.send({ type: "chat.send", meeting_id: meetingID, client_id: id, body: p.body });
  }

  function submit(ev) {
    ev.preventDefault();
    const body = textarea.value;
    if (!body.trim()) {
      formError(t.errEmpty);
      return;
    }
    if ([...body].length > 4000) {
      formError(t.errTooLong);
      return;
    }
    formError("");
    const id = crypto.randomUUID();
    const li = pendingItem(id, body);
    log.append(li);
    showLog();
    pending.set(id, { li, body, state: "pending", inFlight: false, timer: 0 });
    textarea.value = "";
    textarea.focus();
    transmit(id);
  }

  function onAck(f) {
    const p = pending.get(f.client_id);
    if (!p) return; // its chat.message came first and already replaced it
    p.inFlight = false;
    setItemState(p, "sent", t.sent);
  }

  const retryable = new Set(["rate_limited", "internal", "bad_request"]);

  function onSendError(f) {
    const p = pending.get(f.ref);
    if (!p) return;
    p.inFlight = false;
    const secs = Math.max(1, Number(f.retry_after) || 5);
    const reason = fill(t[key("err", f.code)] || t.errInternal, { seconds: secs });
    setItemState(p, "failed", reason);
    p.li.querySelector(".chat-state").classList.add("field-error");
    announce(fill(t.failed, { reason }));
    const actions = document.createElement("p");
    actions.className = "chat-actions";
    if (retryable.has(f.code)) actions.append(button(t.retry, () => transmit(f.ref)));
    if (formOpen()) actions.append(button(t.edit, () => editAgain(f.ref)));
    if (actions.childElementCount) p.li.append(actions);
    // Too many messages: the server said when a send may succeed; try then.
    if (f.code === "rate_limited") p.timer = setTimeout(() => transmit(f.ref), secs * 1000);
  }

  function formOpen() {
    return !!form && !form.hidden && !textarea.readOnly;
  }

  // closeForm ends sending: the form goes, unless it holds text the reader
  // typed, which stays readable (and copyable) in the disabled field.
  function closeForm(note) {
    if (!form) return;
    // Focus inside a form about to vanish would fall to <body>: move it to
    // the note that says why (a screen reader reads it out).
    const hadFocus = form.contains(document.activeElement);
    for (const el of section.querySelectorAll(".error-summary")) el.hidden = true;
    if (textarea.value.trim()) {
      textarea.readOnly = true;
      for (const b of form.querySelectorAll("button")) b.disabled = true;
    } else {
      form.hidden = true;
    }
    if (note) note.hidden = false;
    if (hadFocus && form.hidden && note) {
      note.tabIndex = -1;
      note.focus();
    }
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "button-link-plain";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  // editAgain puts a failed message's text back into the field, nothing lost.
  function editAgain(id) {
    const p = pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(id);
    textarea.value = textarea.value ? textarea.value + "\n" + p.body : p.body;
    p.li.remove();
    textarea.focus();
  }

  let errorEl = null;
  function formError(text) {
    if (!errorEl) {
      errorEl = document.createElement("p");
      errorEl.className = "field-error";
      errorEl.id = "e-chat-live";
      textarea.insertAdjacentElement("afterend", errorEl);
    }
    errorEl.hidden = !text;
    errorEl.textContent = text;
    if (text) {
      textarea.setAttribute("aria-invalid", "true");
      describe(textarea, errorEl.id, true);
      announce(text);
    } else {
      textarea.removeAttribute("aria-invalid");
      describe(textarea, errorEl.id, false);
    }
  }

  function describe(el, id, on) {
    const ids = new Set((el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean));
    if (on) ids.add(id); else ids.delete(id);
    if (ids.size) el.setAttribute("aria-describedby", [...ids].join(" "));
    else el.removeAttribute("aria-describedby");
  }

  if (form && textarea && liveEdge) {
    form.addEventListener("submit", submit);
    // Enter sends, Shift+Enter is a new line (not while an IME composes).
    let sentByEnter = false;
    textarea.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        ev.preventDefault();
        sentByEnter = true;
        form.requestSubmit();
      }
    });
    // Some input paths (remote keyboards, automation) deliver the Enter's
    // line break separately from its keydown; it must not land in the
    // emptied field.
    textarea.addEventListener("beforeinput", (ev) => {
      if (sentByEnter && (ev.inputType === "insertLineBreak" || ev.inputType === "insertParagraph")) ev.preventDefault();
      sentByEnter = false;
    });
    textarea.addEventListener("keyup", () => { sentByEnter = false; });
    const keys = document.getElementById("chat-keys");
    if (keys) {
      keys.hidden = false;
      describe(textarea, keys.id, true);
    }
  }

  // --- announcements -------------------------------------------------------

  // Bursts (a replay after a reconnect) become one line, not a read-out log.
  let burst = [];
  let burstTimer = 0;
  function announceMessage(name) {
    burst.push(name);
    clearTimeout(burstTimer);
    burstTimer = setTimeout(() => {
      const text = burst.length === 1 ? fill(t.announce, { name: burst[0] }) : plural(i18nEl, "new-messages", burst.length);
      burst = [];
      announce(text);
    }, 700);
  }

  function announce(text) {
    // Emptied first, so that the same text twice is read twice.
    announcer.textContent = "";
    setTimeout(() => { announcer.textContent = text; }, 50);
  }

  // --- presence, status, connection -----------------------------------------

  function onPresence(f) {
    if (status === "ended") return; // an ended meeting shows who attended, not a room
    const box = document.getElementById("presence");
    const list = document.getElementById("presence-list");
    document.getElementById("presence-h").textContent = fill(t.presence, { count: f.count });
    list.replaceChildren(...f.users.map((u) => {
      const li = document.createElement("li");
      const profile = document.createElement("a");
      profile.href = "/u/" + u.id;
      profile.textContent = u.name;
      li.append(profile);
      if (u.jst) li.append(` (${u.jst})`);
      const rb = roleBadge(u.id);
      if (rb) li.append(" ", rb);
      return li;
    }));
    box.hidden = false;
  }

  function onStatus(next) {
    if (!next || next === status) return;
    status = next;
    section.dataset.status = next;
    const badge = document.getElementById("meeting-status");
    if (badge) {
      badge.className = "badge status-" + next;
      badge.textContent = t[key("status", next)] || next;
    }
    if (next === "ended") {
      document.getElementById("chat-h").textContent = t.archiveTitle;
      const closed = document.getElementById("chat-closed");
      for (const id of ["chat-not-started", "chat-opened"]) {
        const el = document.getElementById(id);
        if (el) el.hidden = true;
      }
      if (form) closeForm(closed);
      else if (closed) closed.hidden = false;
      for (const id of ["presence", "chat-observer"]) {
        const el = document.getElementById(id);
        if (el) el.hidden = true;
      }
      for (const el of section.querySelectorAll(".chat-actions")) el.remove();
      announce(t.endedNote);
    } else if (next === "live") {
      // The message box was rendered hidden before the start: it opens now.
      const waiting = document.getElementById("chat-not-started");
      const opened = document.getElementById("chat-opened");
      if (waiting) waiting.hidden = true;
      if (form && liveEdge) {
        form.hidden = false;
        if (opened) opened.hidden = false;
      }
      announce(t.liveNote);
    }
  }

  function showState(s) {
    if (s === "connecting" && stateEl.hidden) return; // say nothing until it matters
    stateEl.hidden = false;
    stateEl.dataset.state = s;
    stateEl.replaceChildren(t[key("state", s)] || "");
    if (s === "ended") {
      const a = document.createElement("a");
      a.href = "/login?next=" + encodeURIComponent(location.pathname);
      a.textContent = t.login;
      stateEl.append(" ", a);
      closeForm(stateEl);
    }
  }

  live.onState((s) => {
    showState(s);
    // A dropped connection loses what was in flight: send it again after
    // resubscribing (the server answers a known client_id with the same seq).
    if (s !== "open") for (const p of pending.values()) p.inFlight = false;
  });

  live.onFrame((f) => {
    if (f.type === "chat.ack") onAck(f);
    else if (f.type === "error" && f.ref && pending.has(f.ref)) onSendError(f);
  });

  live.subscribe(topic, (f) => {
    switch (f.type) {
      case "chat.message": onMessage(f.message); break;
      case "presence": onPresence(f); break;
      case "meeting.status": onStatus(f.status); break;
      case "subscribed":
        // The replay is done: the page is complete up to f.seq.
        onStatus(f.state && f.state.status);
        for (const [id, p] of pending) if (p.state === "pending" && !p.inFlight) transmit(id);
        break;
      case "error":
        // The meeting is no longer readable (deleted, or access was lost).
        stateEl.hidden = false;
        stateEl.dataset.state = "ended";
        stateEl.textContent = t.gone;
        break;
    }
  }, () => (liveEdge ? lastSeq : undefined));
}
