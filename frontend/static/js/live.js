// The tab's one websocket to /ws (SPEC §5), shared by every live part of the
// page. It reconnects by itself and, after each reconnect, subscribes again to
// every topic, asking a topic with a log (a meeting's chat) for what came after
// the last seq the page saw, so that nothing is lost or shown twice.
//
// Pages work without this module: it only adds live updates on top.
//
// Debug/test handle (documented for the browser tests): window.__forumLive
// exposes the current socket (`__forumLive.socket.close()` simulates a dropped
// connection) and the connection state.

const PING_EVERY = 20000; // ms; well inside the server's read deadline
const PONG_WAIT = 10000; // a connection that answers nothing this long is dead
const BACKOFF_BASE = 1000;
const BACKOFF_CAP = 30000;
const STABLE_AFTER = 10000; // an open this long resets the backoff

const CLOSE_SESSION_ENDED = 4001; // log in again, unless the API still knows us

const topics = new Map(); // topic → {onFrame, since}
const stateListeners = new Set();
const frameListeners = new Set(); // frames without a topic: chat.ack, errors by client_id
const topicRetries = new Map(); // topic → failed subscribes in a row

let socket = null;
let state = "connecting"; // connecting | open | reconnecting | ended
let attempt = 0;
let openedAt = 0;
let retryTimer = 0;
let pingTimer = 0;
let pongTimer = 0;

function setState(s) {
  if (s === state) return;
  state = s;
  for (const fn of stateListeners) fn(s);
}

function write(frame) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

function subscribeFrame(topic, entry) {
  const f = { type: "subscribe", topic };
  const since = entry.since ? entry.since() : undefined;
  if (typeof since === "number" && since >= 0) f.since_seq = since;
  return f;
}

function connect() {
  clearTimeout(retryTimer);
  if (state === "ended") return;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  let ws;
  try {
    ws = new WebSocket(url);
  } catch {
    scheduleReconnect();
    return;
  }
  socket = ws;
  ws.onopen = () => {
    openedAt = Date.now();
    setState("open");
    for (const [topic, entry] of topics) write(subscribeFrame(topic, entry));
    schedulePing();
  };
  ws.onmessage = (ev) => {
    // Any frame proves the connection alive.
    clearTimeout(pongTimer);
    let f;
    try { f = JSON.parse(ev.data); } catch { return; }
    route(f);
  };
  ws.onclose = (ev) => lost(ws, ev.code);
  // onerror is always followed by onclose, which does the work.
}

function route(f) {
  if (f.type === "pong") return;
  // A topic the server could not read just now (its database is away)
  // answers "internal": ask again later. Only not_found is final.
  if (f.type === "error" && f.code === "internal" && topics.has(f.ref)) {
    retryTopic(f.ref);
    return;
  }
  if (f.type === "subscribed") topicRetries.delete(f.topic);
  // An error about a topic names it in ref; one about a sent message names
  // its client_id, which the page's own listener recognises.
  const topic = f.topic || (f.type === "error" && topics.has(f.ref) ? f.ref : "");
  const entry = topic && topics.get(topic);
  if (entry) {
    entry.onFrame(f);
    return;
  }
  for (const fn of frameListeners) fn(f);
}

// lost handles the end of a connection, whatever ended it.
function lost(ws, code) {
  if (ws !== socket) return; // an old socket we already gave up on
  ws.onopen = ws.onmessage = ws.onclose = null;
  socket = null;
  clearTimeout(pingTimer);
  clearTimeout(pongTimer);
  if (openedAt && Date.now() - openedAt > STABLE_AFTER) attempt = 0;
  openedAt = 0;
  if (code === CLOSE_SESSION_ENDED) {
    confirmSessionEnded();
    return;
  }
  // 4008 (too slow), 1001 (server going away), 1006 (network) and the rest:
  // come back and resume from the last seq seen.
  setState("reconnecting");
  scheduleReconnect();
}

// retryTopic subscribes again to one topic after a backoff of its own (the
// connection itself is fine).
function retryTopic(topic) {
  const n = topicRetries.get(topic) || 0;
  topicRetries.set(topic, n + 1);
  const ceiling = Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** n);
  setTimeout(() => {
    const entry = topics.get(topic);
    if (entry) write(subscribeFrame(topic, entry));
  }, BACKOFF_BASE / 2 + Math.random() * ceiling);
}

// Exponential backoff with full jitter: a random wait in [0, min(cap, base·2^n)),
// so that a restarted server is not hit by every tab at the same moment.
function scheduleReconnect() {
  clearTimeout(retryTimer);
  const ceiling = Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt);
  attempt++;
  // A handshake refused with 401 looks like any network error to a page, so
  // after a few failures ask the API whether the session is still there.
  if (attempt >= 3 && attempt % 3 === 0) checkSession();
  retryTimer = setTimeout(connect, Math.random() * ceiling);
}

// confirmSessionEnded asks the API before telling the reader to log in again:
// a role or membership change renews the session's token on the next page
// request, and a socket opened before that still holds the old one, so the
// server ends it although the reader is still logged in. Then we come back.
async function confirmSessionEnded() {
  setState("reconnecting");
  try {
    const r = await fetch("/api/v1/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.status === 401) {
      setState("ended");
      return;
    }
  } catch { /* offline: keep trying, as for any lost connection */ }
  scheduleReconnect();
}

async function checkSession() {
  try {
    const r = await fetch("/api/v1/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.status === 401) {
      clearTimeout(retryTimer);
      setState("ended");
    }
  } catch { /* offline: keep trying */ }
}

function schedulePing() {
  clearTimeout(pingTimer);
  pingTimer = setTimeout(() => {
    if (!write({ type: "ping" })) return;
    clearTimeout(pongTimer);
    // A half-open TCP connection never reports its end: give up on it.
    const ws = socket;
    pongTimer = setTimeout(() => {
      if (ws !== socket) return;
      try { ws.close(); } catch { /* already closing */ }
      lost(ws, 1006);
    }, PONG_WAIT);
    schedulePing();
  }, PING_EVERY);
}

// Coming back online: try at once instead of waiting out the backoff.
addEventListener("online", () => {
  if (!socket && state === "reconnecting") connect();
});

let started = false;
function start() {
  if (started) return;
  started = true;
  connect();
}

/**
 * subscribe follows a topic for the life of the page.
 * onFrame gets every frame of the topic (chat.message, presence, subscribed,
 * errors naming the topic…). since, if given, returns the last seq the page
 * has: it is asked again on every (re)subscribe.
 */
export function subscribe(topic, onFrame, since) {
  // Two parts of a page may follow one topic (the group page's activity
  // notice and its meeting banner): one subscription, every listener told.
  const known = topics.get(topic);
  if (known) {
    known.listeners.push(onFrame);
    if (since && !known.since) known.since = since;
    return;
  }
  const listeners = [onFrame];
  const entry = { onFrame: (f) => { for (const fn of listeners) fn(f); }, listeners, since };
  topics.set(topic, entry);
  if (!write(subscribeFrame(topic, entry))) start();
}

/** open connects without following any topic: the user's own notifications arrive unasked. */
export function open() {
  start();
}

/** send writes a frame now; false when there is no open connection. */
export function send(frame) {
  return write(frame);
}

/** onFrame listens to frames that name no followed topic (chat.ack, errors by client_id). */
export function onFrame(fn) {
  frameListeners.add(fn);
}

/** onState is told "open", "reconnecting" or "ended" (log in again); it is called now too. */
export function onState(fn) {
  stateListeners.add(fn);
  fn(state);
}

/** isOpen: a frame sent now goes out. */
export function isOpen() {
  return !!socket && socket.readyState === WebSocket.OPEN;
}

window.__forumLive = {
  get socket() { return socket; },
  get state() { return state; },
};
