// Small helpers shared by the console's panels: DOM building, storage, topics, payloads.

/** document.querySelector / querySelectorAll with an optional root. */
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/**
 * Build an element: el('button', {class: 'x', onclick: fn, 'aria-label': 'y'}, 'text', child).
 * Strings become text nodes, so network data can never inject markup.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'text') node.textContent = v;
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

const PREFIX = 'iotplot.console.';

/** Read a JSON value kept in localStorage; fallback when absent or unreadable. */
export function load(key, fallback) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

/** Keep a JSON value in localStorage; a full or disabled storage only loses the setting. */
export function save(key, value) {
  try {
    if (value === undefined) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: the setting lasts for this page only */
  }
}

/** n random lowercase hex digits. */
export function randomHex(n) {
  const bytes = new Uint8Array(Math.ceil(n / 2));
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('').slice(0, n);
}

/**
 * Does an MQTT topic filter match a topic name? Follows the spec, including the rule
 * that a wildcard in the first level never matches a topic starting with '$'.
 */
export function topicMatches(filter, topic) {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Why a topic filter is invalid, or '' when it is fine. */
export function filterProblem(filter) {
  if (!filter) return 'Topic filter is empty';
  if (new TextEncoder().encode(filter).length > 65535) return 'Topic filter is too long';
  if (filter.includes('\u0000')) return 'Topic filter contains a NUL character';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return "'#' must be a whole last level";
    if (l.includes('+') && l !== '+') return "'+' must be a whole level";
  }
  return '';
}

/** Why a topic name (for publishing) is invalid, or '' when it is fine. */
export function topicProblem(topic) {
  if (!topic) return 'Topic is empty';
  if (/[+#]/.test(topic)) return 'A topic to publish to cannot contain + or #';
  if (topic.includes('\u0000')) return 'Topic contains a NUL character';
  if (new TextEncoder().encode(topic).length > 65535) return 'Topic is too long';
  return '';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Payload bytes as text, or a hex preview marked binary when they are not UTF-8. */
export function decodePayload(bytes) {
  try {
    return { text: utf8.decode(bytes), binary: false };
  } catch {
    const shown = Array.from(bytes.subarray(0, 64), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return { text: shown + (bytes.length > 64 ? ' …' : ''), binary: true };
  }
}

/** 'HH:MM:SS.mmm' in local time. */
export function clock(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Pretty-printed JSON, or null when text is not JSON. */
export function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

/** Cut long text for one-line cells. */
export function clip(text, max) {
  return text.length > max ? text.slice(0, max) + '…' : text;
}

/** 1234567 -> '1,234,567'. */
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** The number a payload holds, or null (only a whole payload that is a number). */
export function numericValue(text) {
  const t = text.trim();
  if (!NUMBER.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** One CSV field (RFC 4180): quoted when it holds a quote, comma or line break. Text
 * that a spreadsheet would run as a formula (=, +, -, @ in front, and not a number)
 * gets a ' in front, so a payload or a column name cannot become one. */
export function csvField(v) {
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && numericValue(s) === null) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const count = (n) => n.toLocaleString('en-US');

const live = () => document.getElementById('announcer');

/** A short message in the toast area, read out by screen readers. */
export function announce(text, kind = 'info') {
  const box = live();
  if (!box) return;
  const item = el('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 6000 : 3000);
  while (box.children.length > 4) box.firstChild.remove();
}

/** Ask for confirmation in an accessible modal dialog; resolves true or false. */
export function confirmDialog(title, body, action = 'OK') {
  const dialog = document.getElementById('confirm');
  $('#confirm-title', dialog).textContent = title;
  $('#confirm-body', dialog).textContent = body;
  $('#confirm-ok', dialog).textContent = action;
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener('close', done);
      resolve(dialog.returnValue === 'ok');
    };
    dialog.returnValue = '';
    dialog.addEventListener('close', done);
    dialog.showModal();
    $('#confirm-cancel', dialog).focus();
  });
}
