// Topic tree: every topic seen on the user's subscriptions, with message counts, the last
// value, the last values seen of each topic (a ring of HISTORY, shown when the topic is
// selected), and clearing a retained message (an empty retained publish, after
// confirmation).
import { $, el, clip, clock, count, prettyJson, confirmDialog, announce } from './util.js';

const MAX_NODES = 20000;
const VALUE_CELL = 80;
const TICK_MS = 250;
const HISTORY = 50; // last values kept per topic
const HISTORY_CELL = 120;
const HISTORY_TEXT = 1000; // characters kept of each

export function setupTree(link, { onPublishTo, onChart }) {
  const root = { name: '', path: '', children: new Map(), count: 0, total: 0, last: null, li: null, open: true };
  const panel = $('#panel-topics');
  const top = $('#tree-root');
  let nodes = 0;
  let full = false;
  let dirty = false;
  let selected = null;
  let timer = null;

  const childOf = (parent, name) => {
    let n = parent.children.get(name);
    if (!n) {
      if (nodes >= MAX_NODES) {
        full = true;
        return null;
      }
      nodes++;
      n = {
        name, parent, path: parent === root ? name : `${parent.path}/${name}`,
        children: new Map(), count: 0, total: 0, last: null, li: null, open: false,
      };
      parent.children.set(name, n);
    }
    return n;
  };

  /** A node's last values, oldest first. */
  const ordered = (n) => n.history.length < HISTORY ? n.history.slice()
    : n.history.slice(n.histAt).concat(n.history.slice(0, n.histAt));

  const find = (topic) => {
    let n = root;
    for (const level of topic.split('/')) {
      n = n.children.get(level);
      if (!n) return null;
    }
    return n;
  };

  // --- rendering: only nodes whose parents are open have elements --------------------

  const sorted = (node) => Array.from(node.children.values()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const build = (n) => {
    const twisty = el('button', {
      type: 'button', class: 'twisty', 'aria-label': `Expand ${n.path || '(empty level)'}`,
      onclick: () => { n.open = !n.open; paint(); },
    });
    const name = el('button', { type: 'button', class: 'node-name', onclick: () => select(n) }, n.name || '(empty)');
    const value = el('span', { class: 'node-value' });
    const own = el('span', { class: 'badge count', title: 'Messages on this topic' });
    const total = el('span', { class: 'node-total', title: 'Messages on this topic and below' });
    const retained = el('span', { class: 'badge retained-badge', title: 'Last message was retained' }, 'R');
    const kids = el('ul', { class: 'tree-level' });
    n.li = el('li', { class: 'node', dataset: { topic: n.path } },
      el('div', { class: 'node-row' }, twisty, name, retained, value, own, total), kids);
    n.ui = { twisty, name, value, own, total, retained, kids };
  };

  /** Bring one rendered node and its open subtree up to date. */
  const update = (n) => {
    const u = n.ui;
    const hasKids = n.children.size > 0;
    u.twisty.hidden = !hasKids;
    u.twisty.setAttribute('aria-expanded', String(n.open));
    u.twisty.textContent = n.open ? '▾' : '▸';
    u.own.textContent = count(n.count);
    u.own.hidden = n.count === 0;
    n.li.dataset.count = String(n.count);
    n.li.dataset.total = String(n.total);
    u.total.textContent = hasKids
      ? `${count(n.total)} message${n.total === 1 ? '' : 's'} · ${count(n.children.size)} subtopic${n.children.size === 1 ? '' : 's'}`
      : '';
    u.retained.hidden = !(n.last && n.last.retain);
    u.value.textContent = n.last ? clip(n.last.text, VALUE_CELL) || '(empty)' : '';
    u.name.setAttribute('aria-current', String(n === selected));
    renderChildren(n, u.kids, n.open);
  };

  const renderChildren = (n, ul, open) => {
    ul.hidden = !open;
    if (!open) return;
    let prev = null;
    for (const c of sorted(n)) {
      if (!c.li) build(c);
      const want = prev ? prev.li.nextSibling : ul.firstChild;
      if (want !== c.li) ul.insertBefore(c.li, want);
      update(c);
      prev = c;
    }
  };

  const paint = () => {
    dirty = false;
    renderChildren(root, top, true);
    $('#tree-empty').hidden = root.children.size > 0;
    $('#tree-summary').textContent = `${count(nodes)} topics · ${count(root.total)} messages` + (full ? ' · tree is full, new topics are not shown' : '');
    if (selected) details(selected);
  };

  const tick = () => {
    timer = null;
    if (dirty && !panel.hidden) requestAnimationFrame(paint);
  };
  const schedule = () => {
    dirty = true;
    if (!timer) timer = setTimeout(tick, TICK_MS);
  };

  const select = (n) => {
    selected = n;
    paint();
    $('#tree-details').hidden = false;
    $('#tree-details-heading').focus();
  };

  const details = (n) => {
    const box = $('#tree-details');
    $('#tree-details-topic').textContent = n.path;
    const last = n.last;
    $('#tree-details-meta').textContent = last
      ? `${count(n.count)} message${n.count === 1 ? '' : 's'} · last at ${clock(last.time)} · QoS ${last.qos}${last.retain ? ' · retained' : ''}`
      : `No message on this topic itself · ${count(n.total)} below`;
    const pretty = last && !last.binary ? prettyJson(last.text) : null;
    $('#tree-details-payload').textContent = last ? (pretty ?? last.text) || '(empty)' : '';
    $('#tree-details-payload').hidden = !last;
    const values = n.history ? ordered(n) : [];
    $('#tree-history').replaceChildren(...values.reverse().map((v) => el('li', {},
      el('span', { class: 'when' }, clock(v.time)), clip(v.text, HISTORY_CELL) || '(empty)')));
    $('#tree-history').dataset.count = String(values.length);
    $('#tree-history-empty').hidden = values.length > 0;
    $('#tree-chart').disabled = !last;
    $('#tree-clear').disabled = !link.connected;
    $('#tree-publish').disabled = false;
    box.dataset.topic = n.path;
  };

  $('#tree-clear').addEventListener('click', async () => {
    if (!selected) return;
    const topic = selected.path;
    const ok = await confirmDialog('Clear retained message?',
      `The broker will forget the retained message on “${topic}”. Subscribers receive an empty message.`, 'Clear retained');
    if (!ok) return;
    try {
      await link.publish(topic, '', { qos: 1, retain: true });
      const n = find(topic);
      if (n && n.last) n.last.retain = false;
      announce(`Cleared the retained message on ${topic}`, 'ok');
      schedule();
    } catch (e) {
      announce(`Could not clear ${topic}: ${e.message}`, 'error');
    }
  });
  $('#tree-chart').addEventListener('click', () => selected && onChart(selected.path));
  $('#tree-publish').addEventListener('click', () => selected && onPublishTo(selected.path, selected.last ? selected.last.text : ''));

  const setAll = (node, open, budget) => {
    for (const c of node.children.values()) {
      if (budget.n-- <= 0) return;
      if (c.children.size) c.open = open;
      setAll(c, open, budget);
    }
  };
  $('#tree-expand').addEventListener('click', () => { setAll(root, true, { n: 2000 }); paint(); });
  $('#tree-collapse').addEventListener('click', () => { setAll(root, false, { n: Infinity }); paint(); });
  $('#tree-reset').addEventListener('click', () => {
    root.children.clear();
    root.total = 0;
    nodes = 0;
    full = false;
    selected = null;
    $('#tree-details').hidden = true;
    top.replaceChildren();
    paint();
  });

  new MutationObserver(() => !panel.hidden && dirty && requestAnimationFrame(paint))
    .observe(panel, { attributes: true, attributeFilter: ['hidden'] });
  paint();

  return {
    /** A decoded message from the messages panel (text, binary, qos, retain, time). */
    receive(m) {
      let n = root;
      const path = [root];
      for (const level of m.topic.split('/')) {
        n = childOf(n, level);
        if (!n) return;
        path.push(n);
      }
      for (const p of path) p.total++;
      n.count++;
      n.last = { text: m.text, binary: m.binary, qos: m.qos, retain: m.retain, time: m.time };
      if (!n.history) {
        n.history = [];
        n.histAt = 0;
      }
      // Bounded text: a topic's values are for reading and charting, not for keeping.
      const v = { text: m.text.length > HISTORY_TEXT ? m.text.slice(0, HISTORY_TEXT) : m.text, time: m.time };
      if (n.history.length < HISTORY) n.history.push(v);
      else {
        n.history[n.histAt] = v;
        n.histAt = (n.histAt + 1) % HISTORY;
      }
      schedule();
    },
    /** The last values seen of a topic, oldest first ({text, time}). */
    history(topic) {
      const n = find(topic);
      return n && n.history ? ordered(n) : [];
    },
  };
}
