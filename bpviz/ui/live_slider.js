// bpviz's live slider (fixed code; see live_slider.py). Its value reaches the app while the thumb is dragged:
// at most one value in flight, sent again once the app has drawn the run that applied it (the "bpviz:run-done"
// event, from the component at the end of every run) or after ACK_TIMEOUT_MS, never more often than every
// THROTTLE_MS; the newest value wins and the value on release is always sent. Labels and values arrive as data
// and are written as text, never as markup.
const THROTTLE_MS = 60;
const ACK_TIMEOUT_MS = 1500;
const PAGE_STEPS = 10;
const DONE_EVENT = "bpviz:run-done";

function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function build(root) {
  const box = el("div", "live", root);
  const head = el("div", "head", box);
  const label = el("span", "label", head);
  const help = el("span", "help", head);
  help.textContent = "?";
  const track = el("div", "track", box);
  el("div", "rail", track);
  const fill = el("div", "fill", track);
  const thumb = el("div", "thumb", track);
  const shown = el("div", "value", track);
  label.id = "live-label";
  thumb.setAttribute("role", "slider");
  thumb.setAttribute("tabindex", "0");
  thumb.setAttribute("aria-labelledby", "live-label");
  const ends = el("div", "ends", box);
  const lo = el("span", "", ends);
  const hi = el("span", "", ends);
  const s = { box, label, help, track, fill, thumb, shown, lo, hi, d: null, rect: null, local: null, dragging: false,
              want: null, sent: null, sentAt: 0, lastSend: 0, nonce: Date.now() * 1000, inflight: null,
              timer: null, send: null };
  wire(s, root);
  return s;
}

const places = (s) => s.d.places;
const fmt = (s, v) => v.toFixed(places(s));
const clamp = (s, v) => Math.min(s.d.max, Math.max(s.d.min, v));
// a value on the slider's grid, exactly as the server's snap() would write it (0.15, not 0.15000000000000002)
const onGrid = (s, i) => Number((s.d.min + i * s.d.step).toFixed(s.d.grid_places));
const index = (s, v) => (v - s.d.min) / s.d.step;

function shownValue(s) {
  return s.local !== null ? s.local : s.d.value;
}

function paint(s) {
  const v = shownValue(s);
  const span = s.d.max - s.d.min;
  const pct = span > 0 ? ((v - s.d.min) / span) * 100 : 0;
  s.fill.style.width = pct + "%";
  s.thumb.style.left = pct + "%";
  s.shown.style.left = pct + "%";
  s.shown.textContent = fmt(s, v);
  s.label.textContent = s.d.label;
  s.help.hidden = !s.d.help;
  s.help.title = s.d.help || "";
  s.help.setAttribute("aria-label", s.d.help || "");
  s.lo.textContent = fmt(s, s.d.min);
  s.hi.textContent = fmt(s, s.d.max);
  s.thumb.setAttribute("aria-valuemin", String(s.d.min));
  s.thumb.setAttribute("aria-valuemax", String(s.d.max));
  s.thumb.setAttribute("aria-valuenow", String(v));
  s.thumb.setAttribute("aria-valuetext", fmt(s, v));
  s.box.classList.toggle("dragging", s.dragging);
}

function send(s, v) {
  clearTimeout(s.timer);
  s.timer = null;
  s.nonce += 1;
  s.inflight = s.nonce;
  s.sent = v;
  s.sentAt = s.lastSend = performance.now();
  s.send("move", { v: v, n: s.nonce });
}

// send the newest value when the throttle and the value in flight allow it (else try again later)
function pump(s) {
  clearTimeout(s.timer);
  s.timer = null;
  if (s.want === null || s.want === s.sent) return;
  const now = performance.now();
  const waitThrottle = s.lastSend + THROTTLE_MS - now;
  const waitAck = s.inflight !== null ? s.sentAt + ACK_TIMEOUT_MS - now : 0;
  const wait = Math.max(waitThrottle, waitAck);
  if (wait <= 0) send(s, s.want);
  else s.timer = setTimeout(() => pump(s), wait);
}

function setLocal(s, v, final) {
  s.local = v;
  s.want = v;
  paint(s);
  if (final) send(s, v);
  else pump(s);
}

function fromPointer(s, e) {
  const r = s.rect; // taken at pointerdown: reading it on every move would force a layout while the page redraws
  const frac = r.width > 0 ? Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)) : 0;
  return clamp(s, onGrid(s, Math.round((frac * (s.d.max - s.d.min)) / s.d.step)));
}

function key(s, e) {
  const v = shownValue(s);
  const i = index(s, v);
  const last = Math.round((s.d.max - s.d.min) / s.d.step);
  const moves = {
    ArrowRight: () => Math.floor(i + 1e-9) + 1, ArrowUp: () => Math.floor(i + 1e-9) + 1,
    ArrowLeft: () => Math.ceil(i - 1e-9) - 1, ArrowDown: () => Math.ceil(i - 1e-9) - 1,
    PageUp: () => Math.floor(i + 1e-9) + PAGE_STEPS, PageDown: () => Math.ceil(i - 1e-9) - PAGE_STEPS,
    Home: () => 0, End: () => last,
  };
  if (!(e.key in moves)) return;
  e.preventDefault();
  e.stopPropagation(); // the page's own keys (presentation mode: PageDown = next step) stay out of a slider
  const j = Math.min(last, Math.max(0, moves[e.key]()));
  setLocal(s, clamp(s, onGrid(s, j)), false);
}

function release(s) {
  if (!s.dragging) return;
  s.dragging = false;
  setLocal(s, s.local, s.local !== s.sent);
}

function wire(s, root) {
  s.track.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    s.track.setPointerCapture(e.pointerId);
    s.rect = s.track.getBoundingClientRect();
    s.thumb.focus();
    s.dragging = true;
    setLocal(s, fromPointer(s, e), false);
  });
  s.track.addEventListener("pointermove", (e) => {
    if (s.dragging) setLocal(s, fromPointer(s, e), false);
  });
  s.track.addEventListener("pointerup", () => release(s));
  s.track.addEventListener("pointercancel", () => release(s));
  s.track.addEventListener("lostpointercapture", () => release(s));
  s.thumb.addEventListener("keydown", (e) => key(s, e));
  s.thumb.addEventListener("keyup", (e) => {
    if (s.want !== null && s.want !== s.sent && !s.dragging) send(s, s.want); // a held key's last value, now
  });
  const onDone = (e) => {
    if (!root.isConnected) {
      window.removeEventListener(DONE_EVENT, onDone);
      return;
    }
    const acks = (e.detail && e.detail.acks) || {};
    if (s.inflight !== null && acks[s.d.key] >= s.inflight) {
      s.inflight = null;
      if (!s.dragging && s.want === s.sent) s.local = null; // the app has it: show the app's value again
      paint(s);
      pump(s);
    }
  };
  window.addEventListener(DONE_EVENT, onDone);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let s = parentElement.__bpvizLive;
  if (!s) s = parentElement.__bpvizLive = build(parentElement);
  s.send = setStateValue;
  const same = s.d !== null && JSON.stringify(s.d) === JSON.stringify(data);
  s.d = data;
  if (s.inflight !== null && performance.now() - s.sentAt > ACK_TIMEOUT_MS) s.inflight = null; // no word: give up
  // the app's value, unless the user's own is still on its way (dragging, or sent and not yet drawn)
  if (!s.dragging && s.inflight === null && s.timer === null && s.local !== null) {
    s.local = null;
    paint(s);
  } else if (!same) {
    paint(s); // every run draws every slider again: only a changed one is painted again
  }
}
