// Subscribe panel: the user's subscriptions (each with a colour) and the live message
// table with pause/resume, clear, a filter, bounded history, JSON pretty-printing, a
// "Chart" button on numeric payloads (topicchart.js) and an export of the kept messages
// to CSV.
import { $, el, load, save, clock, clip, csvField, decodePayload, filterProblem, prettyJson, announce, count, numericValue } from './util.js';

const PALETTE = ['#2563eb', '#16a34a', '#db2777', '#ea580c', '#7c3aed', '#0891b2', '#ca8a04', '#dc2626'];
const PAYLOAD_CELL = 160; // characters shown in the table before "…"
const MAX_SUBSCRIPTIONS = 100;


export function setupMessages(link, { onChart }) {
  let subs = load('subscriptions', []).filter((s) => s && typeof s.topic === 'string' && !filterProblem(s.topic));
  const history = []; // newest last; length <= limit
  let limit = Number(load('historyLimit', 500)) || 500;
  let seq = 0;
  let shownSeq = 0; // newest seq in the table
  let pausedAt = null; // seq when paused, or null
  let filterText = '';
  let scheduled = false;
  const byTopic = new Map(); // subscription filter -> subscription

  const form = $('#subscribe-form');
  const list = $('#subscription-list');
  const tbody = $('#message-rows');
  const pauseButton = $('#pause');
  const limitSelect = $('#history-limit');
  limitSelect.value = String(limit);

  const persist = () => save('subscriptions', subs.map(({ topic, qos, color }) => ({ topic, qos, color })));

  const renderSubs = () => {
    list.replaceChildren();
    byTopic.clear();
    for (const s of subs) {
      byTopic.set(s.topic, s);
      const state = s.granted === undefined ? 'pending' : s.granted >= 128 ? 'refused' : `granted QoS ${s.granted}`;
      const color = el('input', {
        type: 'color', value: s.color, class: 'swatch', 'aria-label': `Colour for ${s.topic}`,
        oninput: (e) => { s.color = e.target.value; persist(); },
      });
      list.append(el('li', { class: 'sub', dataset: { topic: s.topic } },
        color,
        el('code', { class: 'sub-topic' }, s.topic),
        el('span', { class: 'badge' }, `QoS ${s.qos}`),
        el('span', { class: `sub-state ${s.granted >= 128 ? 'bad' : ''}` }, link.connected ? state : 'not connected'),
        el('button', {
          type: 'button', class: 'icon danger', 'aria-label': `Unsubscribe ${s.topic}`, title: 'Unsubscribe',
          onclick: () => remove(s.topic),
        }, '×')));
    }
    $('#subscription-empty').hidden = subs.length > 0;
  };

  const add = (topic, qos, color) => {
    const problem = filterProblem(topic);
    if (problem) return announce(problem, 'error');
    let s = subs.find((x) => x.topic === topic);
    if (!s) {
      if (subs.length >= MAX_SUBSCRIPTIONS) return announce('Too many subscriptions', 'error');
      s = { topic, qos, color };
      subs.push(s);
    }
    s.qos = qos;
    s.color = color;
    s.granted = undefined;
    persist();
    renderSubs();
    link.subscribe('user', topic, qos).catch((e) => announce(e.message, 'error'));
  };

  const remove = (topic) => {
    subs = subs.filter((s) => s.topic !== topic);
    persist();
    renderSubs();
    link.unsubscribe('user', topic);
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const topic = form.elements.topic.value.trim();
    add(topic, Number(form.elements.qos.value), form.elements.color.value);
    form.elements.color.value = PALETTE[subs.length % PALETTE.length];
  });
  form.elements.color.value = PALETTE[subs.length % PALETTE.length];

  link.addEventListener('suback', (e) => {
    const s = byTopic.get(e.detail.filter);
    if (!s) return;
    s.granted = e.detail.granted;
    if (s.granted >= 128) announce(`The broker refused the subscription to ${s.topic}`, 'error');
    renderSubs();
  });
  link.addEventListener('state', () => renderSubs());
  for (const s of subs) link.subscribe('user', s.topic, s.qos);
  renderSubs();

  // --- the table -------------------------------------------------------------------

  const matchesFilter = (m) => !filterText || m.topic.toLowerCase().includes(filterText) ||
    m.text.toLowerCase().includes(filterText);

  const row = (m) => {
    const payloadCell = el('td', { class: 'payload' });
    const shown = el('span', { class: m.binary ? 'binary' : '' }, clip(m.text, PAYLOAD_CELL) || '(empty)');
    if (!m.text) shown.classList.add('muted');
    payloadCell.append(shown);
    const first = m.text.trimStart()[0];
    if (!m.binary && (first === '{' || first === '[')) {
      payloadCell.append(el('button', {
        type: 'button', class: 'mini', 'aria-expanded': 'false', title: 'Show as formatted JSON',
        onclick: (e) => toggleJson(e.currentTarget, payloadCell, m.text),
      }, 'JSON'));
    } else if (!m.binary && numericValue(m.text) !== null) {
      payloadCell.append(el('button', {
        type: 'button', class: 'mini', title: 'Chart this topic over time (Plots tab)', 'aria-label': `Chart ${m.topic}`,
        onclick: () => onChart(m.topic),
      }, 'Chart'));
    } else if (!m.binary && m.text.length > PAYLOAD_CELL) {
      payloadCell.append(el('button', {
        type: 'button', class: 'mini', 'aria-expanded': 'false',
        onclick: (e) => toggleFull(e.currentTarget, payloadCell, m.text),
      }, 'more'));
    }
    const color = m.owner && byTopic.get(m.owner) ? byTopic.get(m.owner).color : 'transparent';
    const tr = el('tr', { dataset: { seq: m.seq, topic: m.topic } },
      el('td', { class: 'time' }, clock(m.time)),
      el('td', { class: 'topic' }, m.topic),
      payloadCell,
      el('td', { class: 'num' }, String(m.qos)),
      el('td', { class: 'retained' }, m.retain ? el('span', { class: 'badge retained-badge', title: 'Retained' }, 'R') : ''));
    tr.style.setProperty('--sub-color', color); // CSSOM, allowed by a strict style-src policy
    return tr;
  };

  const toggleJson = (button, cell, text) => {
    const open = cell.querySelector('pre');
    if (open) {
      open.remove();
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    const pretty = prettyJson(text);
    cell.append(el('pre', { class: pretty === null ? 'json bad' : 'json' }, pretty ?? 'Not valid JSON'));
    button.setAttribute('aria-expanded', 'true');
  };

  const toggleFull = (button, cell, text) => {
    const open = cell.querySelector('pre');
    if (open) open.remove();
    else cell.append(el('pre', { class: 'json' }, text));
    button.setAttribute('aria-expanded', String(!open));
  };

  const updateCounts = () => {
    const buffered = pausedAt === null ? 0 : seq - pausedAt;
    pauseButton.textContent = pausedAt === null ? 'Pause' : `Resume (${count(buffered)} new)`;
    pauseButton.setAttribute('aria-pressed', String(pausedAt !== null));
    $('#message-count').textContent = `${count(tbody.children.length)} shown · ${count(seq)} received`;
    tbody.dataset.rows = String(tbody.children.length);
  };

  /** Add rows newer than the table, at most one frame's worth, newest on top. */
  const flush = () => {
    scheduled = false;
    const upto = pausedAt === null ? seq : pausedAt;
    if (shownSeq < upto) {
      const fresh = [];
      for (let i = history.length - 1; i >= 0 && history[i].seq > shownSeq && fresh.length < limit; i--) {
        if (history[i].seq <= upto && matchesFilter(history[i])) fresh.push(history[i]);
      }
      const frag = document.createDocumentFragment();
      for (const m of fresh) frag.append(row(m));
      tbody.prepend(frag);
      while (tbody.children.length > limit) tbody.lastChild.remove();
      shownSeq = upto;
    }
    updateCounts();
    $('#message-empty').hidden = tbody.children.length > 0;
  };

  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(flush);
    }
  };

  const redraw = () => {
    tbody.replaceChildren();
    shownSeq = 0;
    schedule();
  };

  pauseButton.addEventListener('click', () => {
    pausedAt = pausedAt === null ? seq : null;
    schedule();
  });
  /** The kept messages that pass the filter, oldest first, as a CSV file download. */
  $('#export-messages').addEventListener('click', () => {
    const lines = ['time,topic,payload,qos,retained,binary'];
    let n = 0;
    for (const m of history) {
      if (!matchesFilter(m)) continue;
      lines.push([new Date(m.time).toISOString(), m.topic, m.text, m.qos, m.retain ? 1 : 0, m.binary ? 1 : 0].map(csvField).join(','));
      n++;
    }
    const blob = new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv' });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const a = el('a', { href: URL.createObjectURL(blob), download: `messages-${stamp}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    announce(`Exported ${count(n)} messages`, 'ok');
  });
  $('#clear-messages').addEventListener('click', () => {
    history.length = 0;
    if (pausedAt !== null) pausedAt = seq;
    redraw();
  });
  $('#message-filter').addEventListener('input', (e) => {
    filterText = e.target.value.trim().toLowerCase();
    redraw();
  });
  limitSelect.addEventListener('change', () => {
    limit = Number(limitSelect.value);
    save('historyLimit', limit);
    if (history.length > limit) history.splice(0, history.length - limit);
    redraw();
  });

  return {
    /** A message for the 'user' group; owner is the subscription that delivered it. */
    receive(message, owner) {
      const { text, binary } = decodePayload(message.payload);
      const m = { ...message, text, binary, owner, seq: ++seq };
      history.push(m);
      // Trim in batches: one splice per `limit` messages keeps a busy stream cheap.
      if (history.length > 2 * limit) history.splice(0, history.length - limit);
      schedule();
      return m;
    },
  };
}
