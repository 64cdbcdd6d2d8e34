// Status panel: the broker's $SYS/broker/# values, with the most useful ones as cards.
import { $, el, clock } from './util.js';

const MAX_KEYS = 500;
const SYS = '$SYS/broker/#';
const CARDS = [
  ['version', 'Version'],
  ['uptime', 'Uptime'],
  ['clients/connected', 'Clients connected'],
  ['subscriptions/count', 'Subscriptions'],
  ['retained messages/count', 'Retained messages'],
  ['messages/received', 'Messages received'],
  ['messages/sent', 'Messages sent'],
  ['load/messages/received/1min', 'Received / min'],
  ['load/bytes/received/1min', 'Bytes in / min'],
  ['load/bytes/sent/1min', 'Bytes out / min'],
];

export function setupStatus(link) {
  const values = new Map(); // key below $SYS/broker/ -> {text, time, tr}
  const panel = $('#panel-status');
  const rows = $('#status-rows');
  const cards = $('#status-cards');
  let dirty = new Set();
  let scheduled = false;

  const cardEls = new Map();
  for (const [key, label] of CARDS) {
    const value = el('div', { class: 'card-value' }, '–');
    cards.append(el('div', { class: 'card', dataset: { key } }, el('div', { class: 'card-label' }, label), value));
    cardEls.set(key, value);
  }

  const paint = () => {
    scheduled = false;
    if (panel.hidden) return;
    const keys = Array.from(dirty).sort();
    dirty = new Set();
    for (const key of keys) {
      const v = values.get(key);
      if (!v.tr) {
        v.tr = el('tr', { dataset: { key } }, el('th', { scope: 'row' }, key), el('td'), el('td', { class: 'time' }));
        const after = Array.from(rows.children).find((tr) => tr.dataset.key > key);
        rows.insertBefore(v.tr, after || null);
      }
      v.tr.children[1].textContent = v.text;
      v.tr.children[2].textContent = clock(v.time);
      if (cardEls.has(key)) cardEls.get(key).textContent = v.text;
    }
    $('#status-empty').hidden = values.size > 0 || denied;
  };

  // A broker with ACLs may refuse $SYS to this login: say so instead of staying empty.
  let denied = false;
  const deny = (on) => {
    denied = on;
    const note = $('#status-denied');
    note.hidden = !on;
    note.textContent = on
      ? `This login${link.username ? ` (${link.username})` : ''} may not read $SYS: the broker refused the subscription to ${SYS}, so its status cannot be shown here.`
      : '';
    $('#status-empty').hidden = values.size > 0 || on;
  };
  link.addEventListener('suback', (e) => {
    if (e.detail.filter === SYS) deny(e.detail.granted >= 0x80);
  });
  link.addEventListener('state', (e) => {
    if (e.detail.state === 'connecting') deny(false);
  });

  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(paint);
    }
  };
  new MutationObserver(() => dirty.size && schedule()).observe(panel, { attributes: true, attributeFilter: ['hidden'] });

  link.subscribe('sys', SYS, 0);
  link.onGroup('sys', (m) => {
    const key = m.topic.slice('$SYS/broker/'.length);
    if (!values.has(key) && values.size >= MAX_KEYS) return;
    const text = new TextDecoder().decode(m.payload);
    const v = values.get(key) || {};
    values.set(key, Object.assign(v, { text, time: m.time }));
    dirty.add(key);
    schedule();
  });
  paint();
}
